"""The chat call both surfaces share: from checked messages to the engine's `ChatCall`.

A surface (OpenAI-compatible `/v1/chat/completions`, Anthropic-compatible
`/anthropic/v1/messages`) checks its own request format, converts messages and tools to
the OpenAI shape the engine speaks, and calls `build_call`: prompt tokens, the context
window, auto-routing and the prompt-cache keys are worked out here, once. The turn is
taken in `replies.py` and streamed by `streams.py`.
"""

from __future__ import annotations

import hashlib

import orjson

from ..engine.catalog import ModelSpec
from ..engine.completion import ChatCall
from ..engine.media import check_media
from ..engine.tokens import REPLY_PRIMER
from ..errors import APIError, invalid_request
from ..incoming import Incoming
from ..mock import Mock
from ..scenarios.rules import Probe

__all__ = ["build_call", "chat_probe", "fingerprint", "prompt_tokens_of"]


def _budget(model: ModelSpec, prompt_tokens: int, explicit: int | None) -> int:
    if explicit is not None:  # each surface has checked it is at least 1
        return explicit
    return max(min(model.default_max_tokens, model.context_length - prompt_tokens), 0)


def _check_window(model: ModelSpec, prompt_tokens: int, explicit: int | None) -> None:
    needed = prompt_tokens + (explicit or 0)
    if needed > model.context_length or prompt_tokens >= model.context_length:
        raise window_exceeded(model)


def window_exceeded(model: ModelSpec) -> APIError:
    return invalid_request(f"Your request exceeded model token limit: {model.context_length}",
                           pointer="/messages", rule="context_length",
                           expected=model.context_length)


def _prefix_digests(model: ModelSpec, tools: list, messages: list[dict]) -> tuple[bytes, ...]:
    state = hashlib.blake2b(model.id.encode() + orjson.dumps(tools), digest_size=16)
    digests = []
    for message in messages:
        state.update(orjson.dumps(message, option=orjson.OPT_SORT_KEYS))
        digests.append(state.copy().digest())
    return tuple(digests)


def _running_totals(costs: list[int], tool_tokens: int) -> list[int]:
    """The tokens of each leading run of messages (with the tools): what a prompt-cache
    hit on that many prefixes saves."""
    totals, running = [], tool_tokens
    for cost in costs:
        running += cost
        totals.append(running)
    return totals


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
    check_media(messages, model, incoming.files)
    costs, tool_tokens, prompt_tokens = prompt_tokens_of(mock, model, messages, tools, thinking)
    max_tokens = _budget(model, prompt_tokens, explicit_max)
    billed = mock.catalog.route(model, prompt_tokens + max_tokens) if model.routes_to else model
    _check_window(billed, prompt_tokens, explicit_max)
    prefixes = _prefix_digests(model, tools, messages) if mock.settings.prompt_cache else ()
    return ChatCall(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        prompt_tokens=prompt_tokens,
        thinking=model.thinks(thinking),
        tools=tools,
        billed_model=billed,
        prefixes=prefixes,
        prefix_tokens=_running_totals(costs, tool_tokens) if prefixes else [],
        **params,
    )


def fingerprint(call: ChatCall) -> bytes:
    """What makes two calls 'the same call' for seeding, whatever surface or framing
    (stream or not) they came in: the conversation and the parameters that shape it."""
    key = [call.model.id, call.messages, call.tools, call.tool_choice, call.n, call.max_tokens,
           call.stop, call.thinking, call.response_format, call.json_schema]
    return hashlib.blake2b(orjson.dumps(key, option=orjson.OPT_SORT_KEYS),
                           digest_size=16).digest()


def chat_probe(incoming: Incoming, call: ChatCall) -> Probe:
    return Probe(
        operation="chat",
        route=incoming.operation,
        surface=incoming.surface,
        api_key=incoming.key,
        headers=incoming.headers,
        model=call.model.id,
        messages=call.messages,
        tool_names=frozenset(t["function"]["name"] for t in call.tools),
        stream=call.stream,
        response_format=call.response_format,
        request=incoming.body,
    )


