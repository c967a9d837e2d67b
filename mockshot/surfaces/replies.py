"""Taking a chat turn: admit and decide the call in one store step, then ask the reply
providers, in order, who answers it.

The default chain asks, for a call a scenario rule took, its recording (mockshot/
recording/replay.py) and else its script; for a call none took, the seeded generator. A
mock that records (`mock.providers`, set by `create_app`) asks a forwarding recorder
before the generator. A provider answers with a `Turn` (a completion and the generator
that keeps drawing for its stream), so framing, pacing and faults stay shared, or with a
`Relay`: bytes another server sent, which the surfaces send verbatim (turns.py).

Seeds. With `X-Mockshot-Seed` the reply is a function of (seed, call) alone. Without it,
identical calls vary by their ordinal, folded into a replay seed (`engine.seeding`) that
the journal shows: sent as `X-Mockshot-Seed`, it gives that reply again anywhere. A
scripted rule's generated parts draw from (seed, call, rule, use) — replayed by making the
same calls against the same rules.
"""

from __future__ import annotations

import json

from ..billing.prices import BATCH, LIVE, cost
from ..billing.refusals import limit_error
from ..engine.completion import ChatCall, Script, check_satisfiable, complete
from ..engine.seeding import derive_rng, replay_seed
from ..errors import APIError, account_label, scripted
from ..incoming import Incoming
from ..mock import Mock
from ..recording.replay import RecordedReplies
from ..scenarios.book import fault_of
from ..scenarios.faults import Fault
from ..scenarios.firing import fire_fault, scripted_error
from ..scenarios.rules import Probe, Reply, last_user, render
from ..state.store import LIMITED, QUOTA, UNMATCHED, Begin, Charge
from .chat import chat_probe, fingerprint
from .turns import Chain, Context, Relay, ReplyProvider, Turn

__all__ = ["DEFAULT_CHAIN", "Chain", "Context", "GeneratedReplies", "Relay", "ReplyProvider",
           "ScriptedReplies", "Turn", "answer", "take_turn"]


async def answer(context: Context, seed: int, parts: tuple[bytes, ...],
                 reply: Reply | None) -> Turn:
    """The shared last steps: fire the fault (a header's over the rule's), answer a
    scripted error, else complete — scripted where the reply says, generated elsewhere —
    from the generator fixed by `seed` and `parts`."""
    mock, incoming, call = context.mock, context.incoming, context.call
    fault: Fault | None = fault_of(context.decision, incoming.fault)
    await fire_fault(mock.clock, incoming, fault, seed, *parts)
    rng = derive_rng(seed, *parts)
    if reply is not None and reply.error is not None:
        raise scripted_error(reply.error, incoming, call.model.id)
    script = _script(reply, context.probe) if reply is not None and reply.scripts_content \
        else None
    completion = complete(call, rng, int(mock.clock.now()), mock.tokenizer, script)
    factor = BATCH if incoming.batch else LIVE  # a batch line pays the batch price
    incoming.charge = Charge(incoming.account, cost(call, completion, factor), call.prefixes)
    return Turn(completion, rng, reply.pacing if reply else None)


class ScriptedReplies:
    """The rule the store took for this call, if any."""

    async def answer(self, context: Context) -> Turn | None:
        decision = context.decision
        if decision is None:
            return None
        incoming = context.incoming
        incoming.entry.rule, incoming.entry.rule_use = decision.rule.name, decision.use
        parts = (context.base, decision.rule.name.encode(), decision.use.to_bytes(8, "little"))
        return await answer(context, incoming.seed, parts, decision.reply)


class GeneratedReplies:
    """The seeded generator: a pure function of (seed, call)."""

    async def answer(self, context: Context) -> Turn | None:
        incoming = context.incoming
        seed = incoming.seed
        if not incoming.pinned:
            ordinal = incoming.entry.ordinal = context.begun.ordinal or 0
            seed = incoming.entry.seed = replay_seed(seed, ordinal)
        return await answer(context, seed, (context.base,), None)


DEFAULT_CHAIN = Chain(ruled=(RecordedReplies(), ScriptedReplies()),
                      unruled=(GeneratedReplies(),))


async def take_turn(mock: Mock, incoming: Incoming, call: ChatCall,
                    chain: Chain | None = None) -> Turn | Relay:
    """Admit and decide the call, then let the first provider that answers take the turn
    (of `chain`, else the mock's, else the default one). Nothing refused before a
    provider answers changes any state. A batch line (`incoming.batch`) needs a positive
    balance but is outside the tier's live limits."""
    check_satisfiable(call)
    probe, base = chat_probe(incoming, call), fingerprint(call)
    begin = Begin("chat", incoming.account, 0, strict=True, require_balance=True,
                  limited=not incoming.batch, tokens=call.prompt_tokens + call.max_tokens,
                  now=mock.clock.now(), fingerprint=None if incoming.pinned else b"chat" + base,
                  prefixes=call.prefixes)
    begun, decision = await mock.scenarios.begin(begin, probe, incoming.scenario)
    if begun.refused == QUOTA:
        raise scripted("exceeded_current_quota_error", account=account_label(incoming.account))
    if begun.refused == LIMITED:
        raise limit_error(begun.limit, incoming.account, incoming.key,
                          getattr(mock.clock, "speed", 1.0))
    incoming.held = begun.held
    if begun.refused == UNMATCHED:
        incoming.entry.unmatched = True
        raise await unmatched(mock, probe, incoming.scenario)
    probe.nth = begun.nth
    if begun.prefix_hits:
        call.cached_tokens = call.prefix_tokens[begun.prefix_hits - 1]
    incoming.entry.unmatched = decision is None and mock.scenarios.has_rules
    context = Context(mock, incoming, call, probe, base, begun, decision)
    chain = chain or mock.providers or DEFAULT_CHAIN
    for provider in chain.ruled if decision is not None else chain.unruled:
        turn = await provider.answer(context)
        if turn is not None:
            incoming.entry.served = served_tags(turn, call.stream)
            return turn
    raise RuntimeError("no reply provider answered the call")


def served_tags(turn: Turn | Relay, stream: bool) -> tuple[str, ...]:
    """What kind of reply the client was served, for the coverage report (another
    server's bytes, relayed, are only that)."""
    tags = {"stream" if stream else "json"}
    if isinstance(turn, Relay):
        return tuple(sorted({*tags, "relayed"}))
    completion = turn.completion
    for choice in completion.choices:
        tags.add(f"finish:{choice.finish_reason}")
        if choice.tool_calls:
            tags.add("parallel_tool_calls" if len(choice.tool_calls) > 1 else "tool_calls")
        if choice.reasoning is not None:
            tags.add("reasoning")
    if len(completion.choices) > 1:
        tags.add("n>1")
    if completion.usage.cached_tokens:
        tags.add("cached_tokens")
    return tuple(sorted(tags))


async def unmatched(mock: Mock, probe: Probe, scenario: str | None) -> APIError:
    near = await mock.scenarios.near_misses(probe, scenario)
    detail = " | ".join(near) if near else "no rules are loaded"
    return APIError(422, "mockshot_unmatched_error",
                    f"strict mode: no scenario rule matches this call. Nearest: {detail}")


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
