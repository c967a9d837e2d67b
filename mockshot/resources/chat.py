"""`POST /v1/chat/completions`: parse, check, decide, render, settle.

The handler turns an OpenAI-shaped body into a surface-neutral `ChatCall` (schema for the
requested model, then the rules the schema cannot say, then prompt tokens, context window,
prompt cache and balance), lets the engine produce the completion, renders it, and debits
the account.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from random import Random

import orjson
from starlette.responses import Response

from .. import streaming
from ..catalog import ModelSpec
from ..chat_rules import check_chat
from ..engine import ChatCall, Completion, complete
from ..errors import invalid_request
from ..http import json_response
from ..media import check_media
from ..mock import Incoming, Mock
from ..openai_format import completion_body, stream_frames
from ..sse import EventStream

__all__ = ["create_chat_completion", "parse_chat"]

PATH = "/v1/chat/completions"
FINGERPRINT_SKIP = ("stream", "stream_options")  # a stream and a non-stream agree


def validate_body(mock: Mock, body: dict, model: ModelSpec) -> None:
    """The spec's schema for this model (a model added by config uses its `schema`'s)."""
    disc = mock.spec.discriminated("post", PATH)
    ref = disc[1].get(model.schema) if disc else ""
    if ref is None:
        raise invalid_request(f"model {model.id} names unknown schema {model.schema}")
    if model.id != model.schema and disc:
        body = {**body, disc[0]: model.schema}
    mock.spec.validator("post", PATH, ref).check(body)


def _budget(body: dict, model: ModelSpec, prompt_tokens: int) -> tuple[int, int | None]:
    explicit = body.get("max_completion_tokens")
    if explicit is None:
        explicit = body.get("max_tokens")
    if explicit is not None and explicit < 1:
        raise invalid_request(f"max_completion_tokens must be at least 1, got {explicit}")
    room = model.context_length - prompt_tokens
    return (explicit if explicit is not None else max(min(model.default_max_tokens, room), 0),
            explicit)


def _check_window(model: ModelSpec, prompt_tokens: int, explicit: int | None) -> None:
    needed = prompt_tokens + (explicit or 0)
    if needed > model.context_length or prompt_tokens >= model.context_length:
        raise invalid_request(
            f"Your request exceeded model token limit: {model.context_length}"
        )


def _prefix_digests(model: ModelSpec, tools: object, messages: list[dict]) -> list[bytes]:
    state = hashlib.blake2b(model.id.encode() + orjson.dumps(tools), digest_size=16)
    digests = []
    for message in messages:
        state.update(orjson.dumps(message, option=orjson.OPT_SORT_KEYS))
        digests.append(state.copy().digest())
    return digests


def _cached_tokens(mock: Mock, incoming: Incoming, model, messages, tools, cost, keep) -> int:
    if not mock.settings.prompt_cache:
        return 0
    hits = mock.store.cached_prefix(incoming.account, _prefix_digests(model, tools, messages))
    if not hits:
        return 0
    return cost.tools(tools) + cost.messages(messages[:hits], keep) - cost.messages([], keep)


def parse_chat(mock: Mock, incoming: Incoming, body: dict) -> ChatCall:
    """Check a chat body and reduce it to the engine's `ChatCall`."""
    model = mock.model(body.get("model"))
    incoming.model = model.id
    validate_body(mock, body, model)
    check_chat(body, model)
    messages, tools = body["messages"], body.get("tools") or []
    check_media(messages, model, incoming.account, mock.file_lookup)
    thinking = model.thinks(body.get("thinking"))
    keep = bool((body.get("thinking") or {}).get("keep") == "all")
    cost = mock.prompt_cost(model)
    prompt_tokens = cost.messages(messages, keep) + cost.tools(tools)
    max_tokens, explicit = _budget(body, model, prompt_tokens)
    billed = mock.catalog.route(model, prompt_tokens + max_tokens) if model.routes_to else model
    _check_window(billed if model.routes_to else model, prompt_tokens, explicit)
    stop = body.get("stop")
    response_format = body.get("response_format") or {}
    return ChatCall(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        prompt_tokens=prompt_tokens,
        n=body.get("n") or 1,
        stop=(stop,) if isinstance(stop, str) else tuple(stop or ()),
        thinking=thinking,
        tools=tools,
        tool_choice=body.get("tool_choice"),
        response_format=response_format.get("type", "text"),
        json_schema=(response_format.get("json_schema") or {}).get("schema"),
        stream=bool(body.get("stream")),
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        cached_tokens=_cached_tokens(mock, incoming, model, messages, tools, cost, keep),
        billed_model=billed,
    )


def fingerprint(body: dict) -> bytes:
    """What makes two calls 'the same call' for seeding: the body minus stream framing."""
    trimmed = {k: v for k, v in body.items() if k not in FINGERPRINT_SKIP}
    return hashlib.blake2b(orjson.dumps(trimmed, option=orjson.OPT_SORT_KEYS),
                           digest_size=16).digest()


def generate(mock: Mock, incoming: Incoming, call: ChatCall) -> tuple[Completion, Random]:
    rng, ordinal = mock.rng(incoming.seed, incoming.operation, fingerprint(incoming.body))
    incoming.journal["ordinal"] = ordinal
    completion = complete(call, rng, int(mock.clock.now()), mock.tokenizer)
    settle(mock, incoming.account, call, completion)
    return completion, rng


def settle(mock: Mock, account: str, call: ChatCall, completion: Completion) -> None:
    """Debit the account for the tokens, at the (routed) model's prices."""
    price = (call.billed_model or call.model).price
    usage = completion.usage
    hit = price.get("input_cache_hit")
    cached = usage.cached_tokens if hit is not None else 0
    cost = (
        (usage.prompt_tokens - cached) * (price.get("input") or 0.0)
        + cached * (hit or 0.0)
        + usage.completion_tokens * (price.get("output") or 0.0)
    ) / 1_000_000
    if cost:
        mock.store.debit(account, cost)


def stream_reply(mock: Mock, incoming: Incoming, call: ChatCall, completion: Completion,
                 rng: Random) -> EventStream:
    """The same completion as SSE, paced by the model's timing on the mock's clock."""
    deltas = streaming.plan(completion, rng)
    override = incoming.headers.get("x-mockshot-pacing") if incoming.headers else None
    timing = streaming.timing_for(call.model, override, not mock.settings.pacing)
    waits = streaming.schedule(deltas, timing, rng)
    frames = stream_frames(completion, deltas, call.include_usage,
                           mock.settings.system_fingerprint or None)
    clock, journal = mock.clock, incoming.journal

    async def paced() -> AsyncIterator[bytes]:
        for index, frame in enumerate(frames):
            if index < len(waits) and waits[index]:
                await clock.sleep(waits[index])
            journal["chunks_sent"] = index + 1
            yield frame

    def on_close(disconnected: bool) -> None:
        journal["disconnected"] = disconnected

    return EventStream(paced(), on_close)


async def create_chat_completion(mock: Mock, incoming: Incoming) -> Response:
    call = parse_chat(mock, incoming, incoming.body)
    mock.check_balance(incoming.account)
    completion, rng = generate(mock, incoming, call)
    if call.stream:
        return stream_reply(mock, incoming, call, completion, rng)
    return json_response(completion_body(completion))
