"""Resilience assertions: what the client did when the service pushed back, read from the
journal. Each raises AssertionError saying which call broke the rule and what was expected;
none passes vacuously (a journal without the situation it judges is itself a failure, so a
test that forgot to script the 429 cannot pass by accident).

Two calls are *the same call* (a retry) when they have the same operation, account and
request bytes, as a client's own retry sends. Times are the mock's clock (`entry.at`); on
the fixture's virtual clock the SDK's retry waits move it (testing/clients.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from ..calls import Call
from ..state.journal import JournalEntry

__all__ = ["assert_backed_off", "assert_closed_broken_streams", "assert_honoured_retry_after",
           "assert_no_resend_after_success"]

BROKEN = ("stream_cut", "malformed_frame", "error_frame")
EPSILON = 1e-6


def _entries(calls: Iterable[Call | JournalEntry]) -> list[JournalEntry]:
    return [c.entry if isinstance(c, Call) else c for c in calls]


def _key(entry: JournalEntry) -> tuple:
    return entry.operation, entry.account, entry.request


def _failed(entry: JournalEntry) -> bool:
    return entry.status == 0 or entry.status == 429 or entry.status >= 500


def _chains(entries: list[JournalEntry]) -> list[list[JournalEntry]]:
    """Runs of the same call, each attempt after a failed one: the client's retries."""
    chains: list[list[JournalEntry]] = []
    open_chain: dict[tuple, list[JournalEntry]] = {}
    for entry in entries:
        key = _key(entry)
        chain = open_chain.get(key)
        if chain is not None and _failed(chain[-1]):
            chain.append(entry)
        else:
            chain = open_chain[key] = [entry]
            chains.append(chain)
    return [chain for chain in chains if len(chain) > 1]


def assert_honoured_retry_after(calls: Iterable[Call | JournalEntry]) -> None:
    """Every retry of an answer that carried `Retry-After` came no sooner than told."""
    entries = _entries(calls)
    told = [e for e in entries if e.retry_after is not None]
    if not told:
        raise AssertionError("no answer carried Retry-After; script one, e.g. "
                             "mockshot.on(nth=1).reply(error('rate_limit_reached_error', "
                             "retry_after=2))")
    for chain in _chains(entries):
        for before, after in pairwise(chain):
            if before.retry_after is not None and \
                    after.at - before.at < before.retry_after - EPSILON:
                raise AssertionError(
                    f"call #{after.id} retried #{before.id} after {after.at - before.at:g} s, "
                    f"but #{before.id} was answered {before.status} with Retry-After "
                    f"{before.retry_after:g} s")


def assert_backed_off(calls: Iterable[Call | JournalEntry]) -> None:
    """Between retries of a failed call the client waited, and never less than the time
    before (exponential backoff, or at least a steady one)."""
    chains = _chains(_entries(calls))
    if not chains:
        raise AssertionError("no call was retried after a failure (429, 5xx or a reset); "
                             "script failures to see the client's backoff")
    for chain in chains:
        gaps = [b.at - a.at for a, b in pairwise(chain)]
        for index, gap in enumerate(gaps):
            attempt = chain[index + 1]
            if gap <= EPSILON:
                raise AssertionError(f"call #{attempt.id} retried #{chain[index].id} at once "
                                     f"(waited {gap:g} s); a client must back off")
            if index and gap < gaps[index - 1] - EPSILON:
                raise AssertionError(f"call #{attempt.id} waited {gap:g} s, less than the "
                                     f"{gaps[index - 1]:g} s before it: backoff must not "
                                     "shrink")


def assert_closed_broken_streams(calls: Iterable[Call | JournalEntry]) -> None:
    """Every stream that broke mid-way (cut, malformed frame, error frame) was closed by
    the client (read to its end or hung up), not left open holding the connection."""
    broken = [e for e in _entries(calls) if e.fault in BROKEN]
    if not broken:
        raise AssertionError(f"no stream broke; script one, e.g. "
                             f"mockshot.on(stream=True).reply(fault('stream_cut', after=3)) "
                             f"(faults judged: {', '.join(BROKEN)})")
    left_open = [e for e in broken if e.disconnected is None]
    if left_open:
        shown = ", ".join(f"#{e.id} ({e.fault} after {e.chunks_sent} chunks)" for e in left_open)
        raise AssertionError(f"the client left broken stream(s) open: {shown}; close a "
                             "stream when it fails (`with client.chat.completions.create("
                             "..., stream=True) as stream:`)")


def assert_no_resend_after_success(calls: Iterable[Call | JournalEntry]) -> None:
    """No call was sent again after the same call had succeeded (a completed stream
    included): a retry belongs after a failure only."""
    entries = _entries(calls)
    if not entries:
        raise AssertionError("no calls were made")
    done: dict[tuple, JournalEntry] = {}
    for entry in entries:
        earlier = done.get(_key(entry))
        if earlier is not None:
            raise AssertionError(f"call #{entry.id} resent #{earlier.id}, which had already "
                                 f"succeeded ({earlier.status})")
        if entry.status == 200 and not entry.disconnected:
            done[_key(entry)] = entry
