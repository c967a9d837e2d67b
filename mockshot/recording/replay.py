"""The cassette provider: a rule's recorded reply, sent again byte for byte.

A recorded directory is an ordinary scenario, so the store has already taken the rule
(matching the conversation, counting its uses, moving through a list of replies in
order). Here its recorded reply becomes a `Relay` the surface sends verbatim, paced as
recorded on the mock's clock (scaled by `replay_pacing`; at once with pacing off or
`X-Mockshot-Pacing: instant`). A recording whose system prompt or tools no longer match
the call is refused as stale, by name, rather than answering a conversation that is no
longer the one recorded. A header's fault still fires (a stream fault breaks the frames
in the surface's own framing).
"""

from __future__ import annotations

from ..errors import APIError
from ..incoming import Incoming
from ..mock import Mock
from ..scenarios.book import Decision
from ..scenarios.conversation import hashes
from ..scenarios.firing import fire_fault
from ..surfaces.turns import Context, Relay

__all__ = ["RecordedReplies", "stale_error"]

WHAT = {"system": "the system prompt", "tools": "the tools"}


def stale_error(decision: Decision, context: Context) -> APIError | None:
    """The error for a recording made with another system prompt or other tools."""
    recorded = decision.reply.recorded
    if recorded is None or not recorded.hashes:
        return None
    conversation = decision.rule.match.conversation
    patterns = conversation.normalise if conversation is not None else ()
    now = hashes(context.call.messages, context.call.tools, patterns)
    changed = [WHAT[k] for k in ("system", "tools") if k in recorded.hashes
               and recorded.hashes[k] != now[k]]
    if not changed:
        return None
    return APIError(422, "mockshot_stale_recording_error", (
        f"recording {decision.rule.name!r} (scenario {decision.rule.scenario!r}) is stale: "
        f"{' and '.join(changed)} changed since it was recorded; record it again "
        "(mockshot record, or the cassette's record mode) or delete the rule"))


def pacing_scale(mock: Mock, incoming: Incoming) -> float:
    """How much of the recorded waits a replay keeps (0: none)."""
    pacing = incoming.pacing
    if not mock.settings.pacing or (pacing is not None and pacing.get("ttft_ms") == 0
                                    and pacing.get("tokens_per_second") == float("inf")):
        return 0.0
    return mock.settings.replay_pacing


class RecordedReplies:
    """Answers a call whose rule's reply is recorded; leaves every other call."""

    async def answer(self, context: Context) -> Relay | None:
        decision = context.decision
        if decision is None or decision.reply.recorded is None:
            return None
        mock, incoming, recorded = context.mock, context.incoming, decision.reply.recorded
        incoming.entry.rule, incoming.entry.rule_use = decision.rule.name, decision.use
        stale = stale_error(decision, context)
        if stale is not None:
            raise stale
        await fire_fault(mock.clock, incoming, incoming.fault, incoming.seed, context.base,
                         decision.rule.name.encode(), decision.use.to_bytes(8, "little"))
        scale = pacing_scale(mock, incoming)
        headers = list(recorded.headers)
        if recorded.body is not None:
            await mock.clock.sleep(recorded.delay * scale)
            return Relay(recorded.status, headers, recorded.body)
        return Relay(recorded.status, headers, frames=list(recorded.frames),
                     waits=[wait * scale for wait in recorded.waits])
