"""The chat service both surfaces share: build a `ChatCall`, take the turn, plan the stream.

A surface (OpenAI-compatible `/v1/chat/completions`, Anthropic-compatible
`/anthropic/v1/messages`) checks its own request format, converts messages and tools to
the OpenAI shape the engine speaks, and calls `build_call`; everything after that — prompt
tokens, context window, auto-routing, prompt cache, balance, the seeded generator,
billing and stream pacing — happens here, once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from random import Random

import orjson

from ..engine import streaming
from ..engine.catalog import ModelSpec
from ..engine.completion import ChatCall, Completion, Script, complete
from ..engine.media import check_media
from ..engine.schema_values import check_drawable
from ..engine.seeding import derive_rng
from ..engine.streaming import Delta
from ..engine.tokens import REPLY_PRIMER
from ..engine.tool_calls import is_builtin, parameters
from ..errors import APIError, invalid_request
from ..incoming import Incoming
from ..mock import Mock
from ..scenarios.book import fault_of
from ..scenarios.faults import (
    STREAM_KINDS,
    Fault,
    apply_stream_fault,
    malformed,
    stream_error,
)
from ..scenarios.firing import fire_fault, scripted_error
from ..scenarios.rules import Probe, Reply, last_user, render
from .sse import EventStream

__all__ = [
    "Turn",
    "build_call",
    "faulty_frames",
    "paced_stream",
    "plan_stream",
    "prompt_tokens_of",
    "take_turn",
]


@dataclass(slots=True)
class Turn:
    """A decided reply: the completion, the generator that continues to draw for it, and
    a scenario's pacing (a fault that fired is `incoming.active_fault`)."""

    completion: Completion
    rng: Random
    pacing: dict | None = None


def _budget(model: ModelSpec, prompt_tokens: int, explicit: int | None) -> int:
    if explicit is not None:  # each surface has checked it is at least 1
        return explicit
    return max(min(model.default_max_tokens, model.context_length - prompt_tokens), 0)


def _check_window(model: ModelSpec, prompt_tokens: int, explicit: int | None) -> None:
    needed = prompt_tokens + (explicit or 0)
    if needed > model.context_length or prompt_tokens >= model.context_length:
        raise window_exceeded(model)


def window_exceeded(model: ModelSpec) -> APIError:
    return invalid_request(f"Your request exceeded model token limit: {model.context_length}")


def _prefix_digests(model: ModelSpec, tools: list, messages: list[dict]) -> list[bytes]:
    state = hashlib.blake2b(model.id.encode() + orjson.dumps(tools), digest_size=16)
    digests = []
    for message in messages:
        state.update(orjson.dumps(message, option=orjson.OPT_SORT_KEYS))
        digests.append(state.copy().digest())
    return digests


def _cached_tokens(mock: Mock, account: str, prefixes: list[bytes], costs: list[int],
                   tool_tokens: int) -> int:
    """Automatic prefix caching: the tokens of the longest leading run of messages this
    account already sent to this model with the same tools (recorded when served)."""
    hits = mock.store.prefix_hits(account, prefixes) if prefixes else 0
    return tool_tokens + sum(costs[:hits]) if hits else 0


def prompt_tokens_of(mock: Mock, model: ModelSpec, messages: list[dict], tools: list[dict],
                     thinking: object) -> tuple[list[int], int, int]:
    """Each message's tokens, the tools' tokens and the prompt total: the one count behind
    usage, the estimate endpoints and the context window. Counting stops once the model's
    window is passed, and such a prompt is refused as the service refuses it (a 30 MB
    message took 8 s to count before its 400)."""
    keep = isinstance(thinking, dict) and thinking.get("keep") == "all"
    cost, most = mock.prompt_cost(model), model.context_length
    costs = cost.per_message(messages, keep, most)
    tool_tokens = cost.tools(tools, max(most - REPLY_PRIMER - sum(costs), 0))
    total = REPLY_PRIMER + sum(costs) + tool_tokens
    if total > most:
        raise window_exceeded(model)
    return costs, tool_tokens, total


def build_call(
    mock: Mock,
    incoming: Incoming,
    model: ModelSpec,
    messages: list[dict],
    *,
    tools: list[dict],
    explicit_max: int | None,
    thinking: dict | None = None,
    **params: object,
) -> ChatCall:
    """The engine's call for OpenAI-shaped `messages`/`tools` already checked by a surface."""
    mock.check_balance(incoming.account)
    check_media(messages, model, incoming.account, mock.file_lookup)
    check_schemas(tools, params)
    costs, tool_tokens, prompt_tokens = prompt_tokens_of(mock, model, messages, tools, thinking)
    max_tokens = _budget(model, prompt_tokens, explicit_max)
    billed = mock.catalog.route(model, prompt_tokens + max_tokens) if model.routes_to else model
    _check_window(billed, prompt_tokens, explicit_max)
    prefixes = _prefix_digests(model, tools, messages) if mock.settings.prompt_cache else []
    return ChatCall(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        prompt_tokens=prompt_tokens,
        thinking=model.thinks(thinking),
        tools=tools,
        cached_tokens=_cached_tokens(mock, incoming.account, prefixes, costs, tool_tokens),
        billed_model=billed,
        prefixes=prefixes,
        **params,
    )


def check_schemas(tools: list[dict], params: dict) -> None:
    """Every schema the reply may have to satisfy can be drawn for, or the call is refused
    now, before it is counted or charged (a cached check after a schema's first call)."""
    for index, tool in enumerate(tools):
        if not is_builtin(tool):
            check_drawable(parameters(tool), f"tools[{index}].function.parameters")
    if params.get("response_format") == "json_schema" and params.get("json_schema") is not None:
        check_drawable(params["json_schema"], "response_format.json_schema")


def fingerprint(call: ChatCall) -> bytes:
    """What makes two calls 'the same call' for seeding, whatever surface or framing
    (stream or not) they came in: the conversation and the parameters that shape it."""
    key = [call.model.id, call.messages, call.tools, call.tool_choice, call.n, call.max_tokens,
           call.stop, call.thinking, call.response_format, call.json_schema]
    return hashlib.blake2b(orjson.dumps(key, option=orjson.OPT_SORT_KEYS),
                           digest_size=16).digest()


def settle(mock: Mock, account: str, call: ChatCall, completion: Completion) -> None:
    """The call was served: debit its tokens at the (routed) model's list prices and
    remember its prompt for the cache. Nothing refused before this point leaves a trace."""
    if call.prefixes:
        mock.store.remember_prefixes(account, call.prefixes)
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


def chat_probe(incoming: Incoming, call: ChatCall) -> Probe:
    return Probe(
        operation="chat",
        route=incoming.operation,
        surface=incoming.surface,
        api_key=incoming.account,
        headers=incoming.headers,
        model=call.model.id,
        messages=call.messages,
        tool_names=frozenset(t["function"]["name"] for t in call.tools),
        stream=call.stream,
        response_format=call.response_format,
        request=incoming.body,
    )


def _script(reply: Reply, probe: Probe) -> Script:
    context = {"last_user": last_user(probe.messages), "model": probe.model, "nth": probe.nth,
               "request": probe.request}
    calls = [(c.name, c.arguments if isinstance(c.arguments, str | None)
              else json.dumps(c.arguments, ensure_ascii=False)) for c in reply.tool_calls]
    return Script(
        content=render(reply.content, context) if reply.content is not None else None,
        reasoning=render(reply.reasoning, context) if reply.reasoning is not None else None,
        tool_calls=calls,
        finish_reason=reply.finish_reason,
        usage=dict(reply.usage),
    )


async def take_turn(mock: Mock, incoming: Incoming, call: ChatCall) -> Turn:
    """Decide the reply (a scenario rule, else the seeded generator), apply the faults that
    come before any byte, generate, debit."""
    probe = chat_probe(incoming, call)
    probe.nth = mock.store.count_call("chat")
    decision = mock.scenarios.decide(probe, incoming.scenario)
    incoming.journal["unmatched"] = decision is None and mock.scenarios.has_rules()
    base = fingerprint(call)
    if decision is not None:
        use = decision.use.to_bytes(8, "little")
        rng = derive_rng(incoming.seed, base, decision.rule.name.encode(), use)
        incoming.journal.update(rule=decision.rule.name, rule_use=decision.use)
    else:
        if mock.scenarios.strict:
            raise unmatched(mock, probe, incoming.scenario)
        rng, ordinal = mock.rng(incoming.seed, "chat", base)
        incoming.journal["ordinal"] = ordinal
    await fire_fault(mock.clock, incoming, fault_of(decision, incoming.fault), base)
    reply = decision.reply if decision else None
    if reply is not None and reply.error is not None:
        raise scripted_error(reply.error, incoming, call.model.id)
    script = _script(reply, probe) if reply is not None and reply.scripts_content else None
    completion = complete(call, rng, int(mock.clock.now()), mock.tokenizer, script)
    settle(mock, incoming.account, call, completion)
    return Turn(completion, rng, reply.pacing if reply else None)


def unmatched(mock: Mock, probe: Probe, scenario: str | None) -> APIError:
    near = mock.scenarios.near_misses(probe, scenario)
    detail = " | ".join(near) if near else "no rules are loaded"
    return APIError(422, "mockshot_unmatched_error",
                    f"strict mode: no scenario rule matches this call. Nearest: {detail}")


def plan_stream(mock: Mock, incoming: Incoming, call: ChatCall,
                turn: Turn) -> tuple[list[Delta], list[float]]:
    """The stream's deltas and the wait before each, on this model's (or the request's)
    timing; drawn after the completion, so chunking never changes the content."""
    deltas = streaming.plan(turn.completion, turn.rng, mock.tokenizer)
    override = incoming.pacing if incoming.pacing is not None else turn.pacing
    timing = streaming.timing_for(call.model, override, not mock.settings.pacing)
    waits = streaming.schedule(deltas, timing, turn.rng)
    fault = incoming.active_fault
    if fault is not None and fault.kind == "slow_first_token":
        first = next((i for i, wait in enumerate(waits) if wait), 1 if len(waits) > 1 else 0)
        waits[first] += fault.ms / 1000
    return deltas, waits


def faulty_frames(fault: Fault | None, frames: list[bytes],
                  error_frame: Callable[[APIError], bytes], done: bytes) -> list[bytes]:
    """The frames as a stream fault breaks them (cut, malformed frame, error frame), in
    the surface's own framing; unchanged without one."""
    if fault is None or fault.kind not in STREAM_KINDS:
        return frames
    bad = malformed(frames[min(fault.after, len(frames) - 1)])
    return apply_stream_fault(frames, fault, error_frame(stream_error(fault)), bad, done)


def paced_stream(mock: Mock, incoming: Incoming, frames: list[bytes],
                 waits: list[float]) -> EventStream:
    """Send each frame when its wait is over on the mock's clock; the journal records how
    far the stream got and whether the client hung up."""
    clock, journal = mock.clock, incoming.journal

    async def paced() -> AsyncIterator[bytes]:
        due = clock.now()  # waits add up to deadlines, so scheduling delays never pile up
        for index, frame in enumerate(frames):
            if index < len(waits) and waits[index]:
                due += waits[index]
                await clock.sleep(due - clock.now())
            journal["chunks_sent"] = index + 1
            yield frame

    def on_close(disconnected: bool) -> None:
        journal["disconnected"] = disconnected

    return EventStream(paced(), on_close)
