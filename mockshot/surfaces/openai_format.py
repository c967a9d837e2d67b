"""Render engine completions the way Moonshot's OpenAI-compatible surface sends them.

Compact JSON, keys in the real order: `{"id","object","created","model","choices","usage"}`;
`message` as `role, content, reasoning_content?, tool_calls?`; `usage` with `cached_tokens`
(top level and in `prompt_tokens_details`) only on a cache hit and
`completion_tokens_details.reasoning_tokens` only for thinking replies (reference §1, §2).
"""

from __future__ import annotations

import orjson

from ..engine.completion import Choice, Completion, ToolCall, Usage
from ..engine.streaming import Delta
from ..errors import APIError

__all__ = ["DONE", "choice_body", "completion_body", "error_frame", "frame_ends", "stream_frames",
           "usage_body", "usage_frame"]


def usage_body(usage: Usage) -> dict:
    body: dict = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_tokens:
        body["cached_tokens"] = usage.cached_tokens
    if usage.reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    if usage.cached_tokens:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    return body


def tool_call_body(call: ToolCall, index: int) -> dict:
    return {
        "index": index,
        "id": call.id,
        "type": call.type,
        "function": {"name": call.name, "arguments": call.arguments},
    }


def message_body(choice: Choice) -> dict:
    message: dict = {"role": "assistant", "content": "".join(choice.content)}
    if choice.reasoning is not None:
        message["reasoning_content"] = "".join(choice.reasoning)
    if choice.tool_calls:
        message["tool_calls"] = [tool_call_body(c, i) for i, c in enumerate(choice.tool_calls)]
    return message


def completion_body(completion: Completion) -> bytes:
    return orjson.dumps(
        {
            "id": completion.id,
            "object": "chat.completion",
            "created": completion.created,
            "model": completion.model,
            "choices": [
                {"index": c.index, "message": message_body(c), "finish_reason": c.finish_reason}
                for c in completion.choices
            ],
            "usage": usage_body(completion.usage),
        }
    )


def _delta_body(delta: Delta, completion: Completion) -> dict:
    choice = completion.choices[delta.choice]
    if delta.kind == "start":
        return {"role": "assistant", "content": ""}
    if delta.kind == "reasoning":
        return {"reasoning_content": delta.text}
    if delta.kind == "content":
        return {"content": delta.text}
    if delta.kind == "tool_call":
        call = choice.tool_calls[delta.tool]
        return {"tool_calls": [{"index": delta.tool, "id": call.id, "type": call.type,
                                "function": {"name": call.name, "arguments": ""}}]}
    return {"tool_calls": [{"index": delta.tool, "function": {"arguments": delta.text}}]}


def choice_usage(completion: Completion, choice: Choice) -> Usage:
    """A choice's own usage, sent inside its finish chunk (Moonshot always does)."""
    usage = completion.usage
    thought = None
    if usage.reasoning_tokens is not None:
        thought = choice.reasoning_tokens
    return Usage(usage.prompt_tokens, choice.completion_tokens, usage.cached_tokens, thought)


def frame_ends(completion: Completion, fingerprint: str | None) -> tuple[bytes, bytes]:
    """The bytes every chunk of this stream starts and ends with (around its choices)."""
    head = orjson.dumps({"id": completion.id, "object": "chat.completion.chunk",
                         "created": completion.created, "model": completion.model})
    head = b"data: " + head[:-1] + b',"choices":['
    tail = b"]" + (b',"system_fingerprint":' + orjson.dumps(fingerprint) if fingerprint
                   else b"") + b"}\n\n"
    return head, tail


def choice_body(delta: Delta, completion: Completion) -> dict:
    """One choice's entry in a chunk, for one delta of the plan."""
    if delta.kind == "finish":
        choice = completion.choices[delta.choice]
        return {"index": delta.choice, "delta": {}, "finish_reason": delta.text,
                "usage": usage_body(choice_usage(completion, choice))}
    return {"index": delta.choice, "delta": _delta_body(delta, completion),
            "finish_reason": None}


def usage_frame(completion: Completion, head: bytes, tail: bytes) -> bytes:
    """The `include_usage` chunk: no choices, the whole reply's usage."""
    return head + b'],"usage":' + orjson.dumps(usage_body(completion.usage)) + tail[1:]


DONE = b"data: [DONE]\n\n"


def stream_frames(completion: Completion, deltas: list[Delta], include_usage: bool,
                  fingerprint: str | None) -> list[bytes]:
    """Every `data:` frame of the stream, in order, ending with `data: [DONE]`."""
    head, tail = frame_ends(completion, fingerprint)
    frames = [head + orjson.dumps(choice_body(delta, completion)) + tail for delta in deltas]
    if include_usage:
        frames.append(usage_frame(completion, head, tail))
    frames.append(DONE)
    return frames


def error_frame(error: APIError) -> bytes:
    """An error after the stream began: `data: {"error": {...}}` (reference §2.1)."""
    return b"data: " + error.to_json() + b"\n\n"
