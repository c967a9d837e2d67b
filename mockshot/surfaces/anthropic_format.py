"""Render engine completions the way Moonshot's Anthropic-compatible surface sends them.

A `Completion` becomes an Anthropic Message (`openapi/anthropic-messages.json`), and the
shared stream plan becomes Anthropic's event stream, `event: <type>\\ndata: <json>\\n\\n`:
message_start, ping, then per content block content_block_start / _delta / _stop
(thinking, then text or tool_use), message_delta, message_stop (reference §16).

Choices the reference leaves open, made here once:
- `id` is `msg_01` + 22 base62 characters hashed from the completion's id, so it is seeded
  and a stream names the same message as the same non-streamed call.
- A `tool_use` block's `id` is the engine's tool-call id (`get_weather_0`), not a
  `toolu_…` id: it comes back as `tool_result.tool_use_id` and becomes the tool
  message's `tool_call_id`, so a conversation continues exactly as it would on the
  OpenAI surface (same prompt, same seeded reply).
- A thinking block's `signature` is a hash of its text; the service ignores signatures.
- `usage.input_tokens` counts the prompt tokens *not* read from the cache, and
  `cache_read_input_tokens` (only on a hit) the rest, which is how Anthropic splits them;
  the engine's `prompt_tokens` is their sum.
- Errors keep Moonshot's status and message, with Anthropic's envelope and type names.
"""

from __future__ import annotations

import base64
import hashlib
import json

import orjson

from ..engine.completion import Choice, Completion, Usage
from ..engine.streaming import Delta
from ..errors import APIError

__all__ = [
    "ERROR_TYPES",
    "MESSAGE_STOP",
    "error_body",
    "error_event",
    "message_body",
    "message_id",
    "stream_events",
    "tool_input",
]

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
ERROR_TYPES = {
    "invalid_request_error": "invalid_request_error",
    "content_filter": "invalid_request_error",
    "incorrect_api_key_error": "authentication_error",
    "invalid_authentication_error": "authentication_error",
    "permission_denied_error": "permission_error",
    "resource_not_found_error": "not_found_error",
    "rate_limit_reached_error": "rate_limit_error",
    "exceeded_current_quota_error": "rate_limit_error",
    "engine_overloaded_error": "overloaded_error",
    "server_error": "api_error",
}
BY_STATUS = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
             404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
             529: "overloaded_error"}
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def message_id(completion: Completion) -> str:
    number = int.from_bytes(hashlib.blake2b(completion.id.encode(), digest_size=17).digest())
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "msg_01" + "".join(chars)


def signature(thinking: str) -> str:
    digest = hashlib.blake2b(b"mockshot-thinking\0" + thinking.encode(), digest_size=48)
    return base64.b64encode(digest.digest()).decode()


def tool_input(arguments: str) -> dict:
    """The arguments as an object; arguments cut by `max_tokens` give their longest
    prefix that closing brackets complete (what a client's partial JSON parser shows)."""
    for end in range(len(arguments), 0, -1):
        value = _closed(arguments[:end])
        if isinstance(value, dict):
            return value
    return {}


def _closed(text: str) -> object:
    stack, in_string, escaped = [], False, False
    for char in text:
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = char == "\\", char != '"'
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    if in_string:
        return None
    try:
        return json.loads(text + "".join(reversed(stack)))
    except ValueError:
        return None


def usage_body(usage: Usage, output_tokens: int | None = None) -> dict:
    body = {"input_tokens": usage.prompt_tokens - usage.cached_tokens,
            "output_tokens": usage.completion_tokens if output_tokens is None else output_tokens}
    if usage.cached_tokens:
        body["cache_read_input_tokens"] = usage.cached_tokens
    return body


def stop_reason(choice: Choice, stop_sequence: str | None) -> str:
    if choice.finish_reason == "stop" and stop_sequence is not None:
        return "stop_sequence"
    return STOP_REASONS.get(choice.finish_reason, "end_turn")


def content_blocks(choice: Choice) -> list[dict]:
    blocks: list[dict] = []
    if choice.reasoning:  # None: not thinking; the plan streams no empty block either
        thought = "".join(choice.reasoning)
        blocks.append({"type": "thinking", "thinking": thought, "signature": signature(thought)})
    if choice.content:
        blocks.append({"type": "text", "text": "".join(choice.content)})
    blocks.extend({"type": "tool_use", "id": call.id, "name": call.name,
                   "input": tool_input(call.arguments)} for call in choice.tool_calls)
    return blocks


def _message(completion: Completion, content: list, reason: str | None,
             sequence: str | None, usage: dict) -> dict:
    return {"id": message_id(completion), "type": "message", "role": "assistant",
            "model": completion.model, "content": content, "stop_reason": reason,
            "stop_sequence": sequence, "usage": usage}


def message_body(completion: Completion, stop_sequence: str | None = None) -> bytes:
    """The non-streamed reply (this surface always has one choice)."""
    choice = completion.choices[0]
    return orjson.dumps(_message(completion, content_blocks(choice),
                                 stop_reason(choice, stop_sequence), stop_sequence,
                                 usage_body(completion.usage)))


def _event(body: dict) -> bytes:
    return b"event: " + body["type"].encode() + b"\ndata: " + orjson.dumps(body) + b"\n\n"


MESSAGE_STOP = _event({"type": "message_stop"})
_OPENS = {"reasoning": "thinking", "content": "text", "tool_call": "tool_use"}


def _block_start(delta: Delta, choice: Choice) -> dict:
    kind = _OPENS[delta.kind]
    if kind == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    if kind == "text":
        return {"type": "text", "text": ""}
    call = choice.tool_calls[delta.tool]
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}


def _block_delta(delta: Delta) -> dict:
    if delta.kind == "reasoning":
        return {"type": "thinking_delta", "thinking": delta.text}
    if delta.kind == "content":
        return {"type": "text_delta", "text": delta.text}
    return {"type": "input_json_delta", "partial_json": delta.text}


class _Blocks:
    """Which content block is open while the plan is rendered."""

    def __init__(self, choice: Choice) -> None:
        self.choice, self.index, self.kind = choice, -1, ""

    def close(self) -> list[bytes]:
        if not self.kind:
            return []
        out = []
        if self.kind == "reasoning":
            thought = "".join(self.choice.reasoning or ())
            out.append(_event({"type": "content_block_delta", "index": self.index,
                               "delta": {"type": "signature_delta",
                                         "signature": signature(thought)}}))
        out.append(_event({"type": "content_block_stop", "index": self.index}))
        self.kind = ""
        return out

    def feed(self, delta: Delta) -> list[bytes]:
        out = []
        if delta.kind == "tool_call" or (delta.kind in _OPENS and delta.kind != self.kind):
            out = self.close()
            self.index, self.kind = self.index + 1, delta.kind
            out.append(_event({"type": "content_block_start", "index": self.index,
                               "content_block": _block_start(delta, self.choice)}))
            if delta.kind == "tool_call":
                self.kind = "arguments"
                return out
        out.append(_event({"type": "content_block_delta", "index": self.index,
                           "delta": _block_delta(delta)}))
        return out


def stream_events(completion: Completion, deltas: list[Delta],
                  stop_sequence: str | None = None) -> list[bytes]:
    """The events each delta of the plan sends, one byte string per delta, so the
    plan's waits pace them; together they add up to `message_body`'s message."""
    choice = completion.choices[0]
    blocks, out = _Blocks(choice), []
    for delta in deltas:
        if delta.kind == "start":
            usage = usage_body(completion.usage, output_tokens=1)
            frames = [_event({"type": "message_start",
                              "message": _message(completion, [], None, None, usage)}),
                      _event({"type": "ping"})]
        elif delta.kind == "finish":
            frames = [*blocks.close(),
                      _event({"type": "message_delta",
                              "delta": {"stop_reason": stop_reason(choice, stop_sequence),
                                        "stop_sequence": stop_sequence},
                              "usage": {"output_tokens": completion.usage.completion_tokens}}),
                      MESSAGE_STOP]
        else:
            frames = blocks.feed(delta)
        out.append(b"".join(frames))
    return out


def error_type(error: APIError) -> str:
    """Anthropic's name for a Moonshot error type (by status when the type is new)."""
    known = ERROR_TYPES.get(error.type)
    if known:
        return known
    return BY_STATUS.get(error.status, "api_error" if error.status >= 500
                         else "invalid_request_error")


def error_body(error: APIError) -> bytes:
    """`{"type":"error","error":{"type","message"}}` with Moonshot's message text."""
    return orjson.dumps({"type": "error",
                         "error": {"type": error_type(error), "message": error.message}})


def error_event(error: APIError) -> bytes:
    """An error after the stream began, as Anthropic sends it: an `error` event."""
    return b"event: error\ndata: " + error_body(error) + b"\n\n"
