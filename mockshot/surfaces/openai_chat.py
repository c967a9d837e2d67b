"""`POST /v1/chat/completions`, the OpenAI-compatible surface.

Checks the body against the spec's schema for the requested model and the rules the
schema cannot say, hands the conversation to the shared chat service, and renders the
completion as JSON or as Moonshot's SSE stream.
"""

from __future__ import annotations

from starlette.responses import Response

from ..engine.catalog import ModelSpec
from ..engine.chat_rules import check_chat
from ..engine.completion import ChatCall
from ..errors import invalid_request
from ..http import json_response
from ..incoming import Incoming
from ..mock import Mock
from ..steering import check_fault_fits
from .chat import build_call
from .openai_format import completion_body, error_frame, stream_frames
from .relay import relay_response
from .replies import Relay, Turn, take_turn
from .sse import EventStream
from .streams import faulty_frames, paced_stream, plan_stream
from .variants import parse_header, varied_frames

__all__ = ["create_chat_completion", "parse_chat"]

PATH = "/v1/chat/completions"
DONE = b"data: [DONE]\n\n"


def validate_body(mock: Mock, body: dict, model: ModelSpec) -> None:
    """The spec's schema for this model (a model added by config uses its `schema`'s)."""
    validator, field = mock.chat_validator(model)
    if field is not None:
        body = {**body, field: model.schema}
    validator.check(body)


def parse_chat(mock: Mock, incoming: Incoming, body: dict) -> ChatCall:
    """Check an OpenAI-shaped chat body and reduce it to the engine's `ChatCall`."""
    incoming.variants = parse_header(incoming.headers.get("x-mockshot-variant"))
    if "model" not in body:
        raise invalid_request('model: "model" is a required property')
    model = mock.model(body.get("model"))
    incoming.entry.model = model.id
    validate_body(mock, body, model)
    check_chat(body, model)
    field = "max_completion_tokens" if body.get("max_completion_tokens") is not None \
        else "max_tokens"
    explicit = body.get(field)
    if explicit is not None and explicit < 1:
        raise invalid_request(f"{field} must be at least 1, got {explicit}")
    stop = body.get("stop")
    response_format = body.get("response_format") or {}
    return build_call(
        mock,
        incoming,
        model,
        body["messages"],
        tools=body.get("tools") or [],
        explicit_max=int(explicit) if explicit is not None else None,  # 2.0 is an integer
        thinking=body.get("thinking"),
        n=int(body.get("n") or 1),
        stop=(stop,) if isinstance(stop, str) else tuple(stop or ()),
        tool_choice=body.get("tool_choice"),
        response_format=response_format.get("type", "text"),
        json_schema=(response_format.get("json_schema") or {}).get("schema"),
        stream=bool(body.get("stream")),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
    )


def stream_reply(mock: Mock, incoming: Incoming, call: ChatCall, turn: Turn) -> EventStream:
    """The same completion as SSE frames, each sent when the clock says it is due; in
    the shape of the conformance variations asked for (header, else setting), if any."""
    deltas, waits = plan_stream(mock, incoming, call, turn)
    fingerprint = mock.settings.system_fingerprint or None
    requested = incoming.variants if incoming.variants is not None else mock.settings.variants
    chosen: list[str] = []
    if requested:
        frames, waits, chosen = varied_frames(turn.completion, deltas, waits,
                                              call.include_usage, fingerprint, requested,
                                              turn.rng)
        incoming.entry.variants = tuple(chosen)
    else:
        frames = stream_frames(turn.completion, deltas, call.include_usage, fingerprint)
    frames = faulty_frames(incoming.active_fault, frames, error_frame, frames[-1])
    stream = paced_stream(mock, incoming, frames, waits)
    if chosen:
        stream.headers = [*stream.headers, (b"x-mockshot-variants", ",".join(chosen).encode())]
    return stream


async def create_chat_completion(mock: Mock, incoming: Incoming) -> Response:
    call = parse_chat(mock, incoming, incoming.body)
    check_fault_fits(incoming.fault, call.stream)
    turn = await take_turn(mock, incoming, call)
    if isinstance(turn, Relay):
        return relay_response(mock, incoming, turn, error_frame, DONE)
    if call.stream:
        return stream_reply(mock, incoming, call, turn)
    return json_response(completion_body(turn.completion))

