"""`POST /anthropic/v1/messages`, the Anthropic-compatible surface (reference §16).

Checks the body against `openapi/anthropic-messages.json`, turns the Anthropic
conversation into the OpenAI shape the engine speaks, applies the same chat rules as
`/v1/chat/completions` and hands the call to the shared chat service; only the framing
differs (`mockshot/anthropic_format.py`). The same conversation and seed therefore give
the same text and tool arguments on both surfaces.

Conversion: `system` → a system message; text blocks → text parts; image blocks → image
parts with data URLs; assistant `thinking` → `reasoning_content`, `tool_use` →
`tool_calls` (arguments as `json.dumps(input, ensure_ascii=False)`, the engine's own
formatting, so an echoed call is byte-identical); user `tool_result` → tool messages
(before the rest of that user turn; `is_error` is accepted and the content passed on as
it is); a trailing assistant message is a prefill, i.e.
Moonshot's partial mode. Rule errors speak of the converted conversation (positions
counted with the system prompt as a message, `tool_choice 'required'`), as the real route's
own message does: it names `reasoning_content`, an OpenAI-side field, so the service
checks after converting. `tool_choice` any → "required", tool → the function form.
Sampling fields are checked for Anthropic's range and otherwise ignored: Moonshot rescales
temperature by 0.6, and on kimi-k2.5/k2.6, whose sampling is fixed, refusing the
temperature Anthropic clients always send would break them [unknown; chosen].
"""

from __future__ import annotations

import json
from functools import cache

from starlette.datastructures import Headers
from starlette.responses import Response

from ..engine.chat_rules import check_chat, check_messages
from ..engine.completion import ChatCall, Choice
from ..engine.media import check_media
from ..errors import APIError, invalid_request
from ..http import json_response
from ..incoming import Incoming
from ..mock import Mock
from ..road import scripted_step
from ..spec import Validator, spec_dir
from ..steering import check_fault_fits
from .anthropic_format import MESSAGE_STOP, error_body, error_event, message_body, stream_events
from .chat import build_call, prompt_tokens_of
from .relay import relay_response
from .replies import Relay, Turn, take_turn
from .sse import EventStream
from .streams import faulty_frames, paced_stream, plan_stream

__all__ = [
    "COUNT_PATH",
    "PATH",
    "count_tokens",
    "create_message",
    "credentials",
    "error_response",
    "request_validator",
]

PATH = "/anthropic/v1/messages"
COUNT_PATH = PATH + "/count_tokens"
DOCUMENT = "anthropic-messages.json"
THINKING = {"enabled": "enabled", "adaptive": "enabled", "disabled": "disabled"}
ALLOWED = {"user": ("text", "image", "tool_result"),
           "assistant": ("text", "thinking", "tool_use")}


@cache
def load_document(path: str) -> dict:
    """The surface's own OpenAPI document, read once per process (do not mutate)."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def request_validator(path: str | None = None) -> Validator:
    """The request body's compiled validator (compiled once, shared by every mock)."""
    document = load_document(path or str(spec_dir() / DOCUMENT))
    body = document["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]
    return Validator(body["schema"], document["components"])


def credentials(headers: Headers) -> str | None:
    """`x-api-key: <key>` (what Anthropic clients send) or `Authorization: Bearer <key>`."""
    key = headers.get("x-api-key")
    return f"Bearer {key}" if key else headers.get("authorization")


def error_response(error: APIError) -> Response:
    return json_response(error_body(error), error.status, error.headers or None)


# --- Anthropic conversation → the engine's OpenAI shape ---------------------------------


def _text(content: str | list[dict] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "\n".join(block["text"] for block in content if block["type"] == "text")


def _result_images(blocks: list[dict]) -> list[dict]:
    """Image blocks inside tool results: a tool message carries text only, so they go on
    as image parts of the user turn that follows the results."""
    return [_part(image) for b in blocks if b["type"] == "tool_result"
            and isinstance(b.get("content"), list)
            for image in b["content"] if image["type"] == "image"]


def _part(block: dict) -> dict:
    if block["type"] == "text":
        return {"type": "text", "text": block["text"]}
    source = block["source"]
    url = source.get("url") or f"data:{source['media_type']};base64,{source['data']}"
    return {"type": "image_url", "image_url": {"url": url}}


def _check_blocks(role: str, blocks: list[dict], index: int) -> None:
    for at, block in enumerate(blocks):
        if block["type"] not in ALLOWED[role]:
            raise invalid_request(
                f"messages[{index}].content[{at}]: a {block['type']} block is not allowed in "
                f"a {role} message; {role} content takes {', '.join(ALLOWED[role])} blocks"
            )


def _user(blocks: list[dict]) -> list[dict]:
    results = [{"role": "tool", "tool_call_id": b["tool_use_id"],
                "content": _text(b.get("content"))} for b in blocks if b["type"] == "tool_result"]
    parts = _result_images(blocks) + [_part(b) for b in blocks if b["type"] != "tool_result"]
    return results + ([{"role": "user", "content": parts}] if parts or not results else [])


def _assistant(blocks: list[dict]) -> dict:
    message: dict = {"role": "assistant",
                     "content": "".join(b["text"] for b in blocks if b["type"] == "text")}
    thinking = [b["thinking"] for b in blocks if b["type"] == "thinking"]
    if thinking:
        message["reasoning_content"] = "".join(thinking)
    calls = [{"id": b["id"], "type": "function",
              "function": {"name": b["name"],
                           "arguments": json.dumps(b["input"], ensure_ascii=False)}}
             for b in blocks if b["type"] == "tool_use"]
    if calls:
        message["tool_calls"] = calls
    return message


def openai_messages(body: dict) -> list[dict]:
    """The conversation as OpenAI-shaped messages, system first."""
    system = body.get("system")
    out = [{"role": "system", "content": _text(system)}] if system else []
    for index, message in enumerate(body["messages"]):
        role, content = message["role"], message["content"]
        if isinstance(content, str):
            out.append({"role": role, "content": content})
            continue
        _check_blocks(role, content, index)
        out.extend(_user(content) if role == "user" else [_assistant(content)])
    last = out[-1] if out else {}
    if last.get("role") == "assistant" and not last.get("tool_calls"):
        last["partial"] = True  # Anthropic's prefill is Moonshot's partial mode
    return out


def openai_tools(tools: list[dict] | None) -> list[dict]:
    out = []
    for tool in tools or ():
        function = {"name": tool["name"]}
        if "description" in tool:
            function["description"] = tool["description"]
        function["parameters"] = tool["input_schema"]
        out.append({"type": "function", "function": function})
    return out


def openai_tool_choice(choice: dict | None) -> object:
    if choice is None:
        return None
    if choice["type"] == "tool":
        return {"type": "function", "function": {"name": choice["name"]}}
    return {"auto": "auto", "any": "required", "none": "none"}[choice["type"]]


# --- the handler --------------------------------------------------------------------------


def parse_message(mock: Mock, incoming: Incoming, body: dict) -> ChatCall:
    """Check an Anthropic Messages body and reduce it to the engine's `ChatCall`."""
    request_validator().check(body)
    model = mock.model(body["model"])
    incoming.entry.model = model.id
    thinking = body.get("thinking")
    chat = {
        "messages": openai_messages(body),
        "tools": openai_tools(body.get("tools")),
        "tool_choice": openai_tool_choice(body.get("tool_choice")),
        "thinking": {"type": THINKING[thinking["type"]]} if thinking else None,
        "stop": body.get("stop_sequences") or None,
    }
    check_chat(chat, model)
    return build_call(
        mock,
        incoming,
        model,
        chat["messages"],
        tools=chat["tools"],
        explicit_max=body["max_tokens"],
        thinking=chat["thinking"],
        stop=tuple(chat["stop"] or ()),
        tool_choice=chat["tool_choice"],
        stream=bool(body.get("stream")),
    )


def stop_sequence(call: ChatCall, choice: Choice) -> str | None:
    """The stop sequence that ended the reply, as the engine reports it."""
    return choice.stop_sequence if choice.finish_reason == "stop" else None


def stream_reply(mock: Mock, incoming: Incoming, call: ChatCall, turn: Turn) -> EventStream:
    """The same completion as Anthropic events, paced by the shared plan (and broken the
    way a stream fault says: cut, a malformed frame, or an `error` event)."""
    deltas, waits = plan_stream(mock, incoming, call, turn)
    sequence = stop_sequence(call, turn.completion.choices[0])
    frames = stream_events(turn.completion, deltas, sequence)
    frames = faulty_frames(incoming.active_fault, frames, error_event, MESSAGE_STOP)
    return paced_stream(mock, incoming, frames, waits)


async def count_tokens(mock: Mock, incoming: Incoming) -> Response:
    """`/anthropic/v1/messages/count_tokens` (Claude Code asks it before sending): the
    prompt tokens the same conversation would be charged, from the same counter."""
    body = incoming.body
    request_validator().check({"max_tokens": 1, **body})  # max_tokens is not needed here
    model = mock.model(body["model"])
    incoming.entry.model = model.id
    messages, tools = openai_messages(body), openai_tools(body.get("tools"))
    if not body["messages"]:
        raise invalid_request("messages must not be empty")
    check_messages(messages, reasoning_required=False)
    check_media(messages, model, incoming.files)
    total = prompt_tokens_of(mock, model, messages, tools, None)[2]
    await scripted_step(mock, incoming)  # rules and faults once the request is valid
    return json_response({"input_tokens": total})


async def create_message(mock: Mock, incoming: Incoming) -> Response:
    call = parse_message(mock, incoming, incoming.body)
    check_fault_fits(incoming.fault, call.stream)
    turn = await take_turn(mock, incoming, call)
    if isinstance(turn, Relay):
        return relay_response(mock, incoming, turn, error_event, MESSAGE_STOP)
    if call.stream:
        return stream_reply(mock, incoming, call, turn)
    sequence = stop_sequence(call, turn.completion.choices[0])
    return json_response(message_body(turn.completion, sequence))
