"""The store's contract: what every implementation (memory, SQLite, Redis on a real
redis-server) must do, operation by operation. Each test runs against every one."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import threading
from collections.abc import Callable

import pytest

from mockshot.state.accounts import LimitHit, Limits, Plan
from mockshot.state.journal import BODY_CAP, JournalEntry, body_copy, reply_copy, stream_copy
from mockshot.state.memory import MemoryStore
from mockshot.state.redis import RedisStore
from mockshot.state.sqlite import SQLiteStore
from mockshot.state.store import (
    LIMITED,
    QUOTA,
    UNMATCHED,
    Begin,
    Candidate,
    Charge,
    Store,
    run_sync,
)


def sqlite_store(blobs=None, **options) -> SQLiteStore:
    """A SQLite store in a fresh directory (the records tests' directory when given: the
    store keeps its own blob area in `files/` there)."""
    directory = blobs.root if blobs is not None else tempfile.mkdtemp(prefix="mockshot-")
    return SQLiteStore(directory, **options)


_prefixes = itertools.count()


def redis_store(url: str, blobs=None, **options) -> RedisStore:
    """A Redis store under a prefix of its own on the session's server (so no test sees
    another's keys), its blob area the records tests' directory when given."""
    return RedisStore(url, blobs=blobs, prefix=f"t{next(_prefixes)}:", **options)


IMPLEMENTATIONS = [pytest.param(MemoryStore, id="memory"),
                   pytest.param(sqlite_store, id="sqlite"),
                   pytest.param(redis_store, id="redis")]


def factory(request) -> Callable[..., Store]:
    """The implementation `request.param` names, made ready to call (a Redis store gets
    the session's server; every store made is closed when the test ends)."""
    made: list[Store] = []

    def make(*args, **options) -> Store:
        if request.param is redis_store:
            args = (request.getfixturevalue("redis_server").url(), *args)
        store = request.param(*args, **options)
        made.append(store)
        return store

    request.addfinalizer(lambda: [getattr(s, "close", lambda: None)() for s in made])
    return make


@pytest.fixture(params=IMPLEMENTATIONS)
def make(request):
    return factory(request)


@pytest.fixture
def store(make) -> Store:
    return make(plan=Plan(10.0), journal_size=5)


def run(operation):
    return asyncio.run(_await(operation))


async def _await(operation):
    return await operation


async def current(store: Store) -> int:
    return (await store.rules()).version


def begin(store: Store, operation: str = "chat", **fields) -> Begin:
    version = run(current(store))
    return run(store.begin(Begin(operation, fields.pop("account", "a"), version, **fields)))


def entry(**fields) -> JournalEntry:
    return JournalEntry(**{"operation": "GET /v1/models", "account": "a", "status": 200,
                           "at": 0.0, "elapsed_ms": 0.0, "seed": 0, **fields})


# --- the interface itself ------------------------------------------------------------------


def test_a_store_missing_an_operation_fails_when_made():
    class Partial(Store):
        async def begin(self, begin):
            return None

    with pytest.raises(TypeError, match="abstract"):
        Partial()


class WaitsOnIO:
    """An awaitable that suspends, as a network store's operation would."""

    def __await__(self):
        yield None


def test_run_sync_refuses_an_operation_that_waits():
    with pytest.raises(RuntimeError, match="must provide sync"):
        run_sync(WaitsOnIO())


# --- begin: admission and decision -------------------------------------------------------


def test_begin_counts_each_operation_from_one(store):
    assert [begin(store).nth for _ in range(3)] == [1, 2, 3]
    assert begin(store, "models").nth == 1


def test_a_stale_rules_version_is_refused_and_counts_nothing(store):
    found = run(store.begin(Begin("chat", "a", run(current(store)) + 1)))
    assert found.stale
    assert begin(store).nth == 1


def test_no_balance_refuses_inference_and_counts_nothing(store):
    run(store.set_balance("a", 0.0))
    assert begin(store, require_balance=True).refused == QUOTA
    assert begin(store).nth == 1  # the refusal was not counted
    assert begin(store, account="b", require_balance=True).refused is None


def test_strict_without_a_rule_taken_counts_nothing(store):
    assert begin(store, strict=True).refused == UNMATCHED
    assert begin(store).nth == 1


def test_the_first_candidate_that_holds_is_taken(store):
    run(store.put_rules([{"name": "x", "scenario": "s"}, {"name": "y", "scenario": "s"}]))
    only_twice = Candidate("x", "s", times=2)
    other = Candidate("y", "s")
    taken = [begin(store, candidates=(only_twice, other)) for _ in range(3)]
    assert [(b.rule, b.use) for b in taken] == [("x", 0), ("x", 1), ("y", 0)]
    assert run(store.progress()).uses == {"x": 2, "y": 1}


def test_a_candidate_needs_its_state_and_moves_it(store):
    gate = Candidate("open", "door", state="started", then_state="opened")
    inside = Candidate("inside", "door", state="opened")
    assert begin(store, candidates=(inside, gate)).rule == "open"
    assert run(store.progress()).states == {"door": "opened"}
    assert begin(store, candidates=(inside, gate)).rule == "inside"


def test_a_candidate_answers_only_its_nth_calls(store):
    third = Candidate("third", "s", nth=(3,))
    assert [begin(store, candidates=(third,)).rule for _ in range(4)] == [
        None, None, "third", None]


def test_ordinals_count_identical_calls_not_taken_by_a_rule(store):
    assert [begin(store, fingerprint=b"f").ordinal for _ in range(3)] == [0, 1, 2]
    assert begin(store, fingerprint=b"g").ordinal == 0
    taken = begin(store, fingerprint=b"f", candidates=(Candidate("r", "s"),))
    assert (taken.rule, taken.ordinal) == ("r", None)
    assert begin(store, fingerprint=b"f").ordinal == 3
    assert begin(store).ordinal is None  # no fingerprint (a pinned seed): not counted


def test_prompt_prefixes_hit_after_they_were_settled_per_account(store):
    prefixes = (b"p1", b"p2", b"p3")
    assert begin(store, prefixes=prefixes).prefix_hits == 0
    run(store.settle(entry(), Charge("a", 0.0, prefixes[:2])))
    assert begin(store, prefixes=prefixes).prefix_hits == 2
    assert begin(store, account="b", prefixes=prefixes).prefix_hits == 0


# --- settle, update and the journal ----------------------------------------------------


def test_settle_charges_the_voucher_first_then_cash_into_arrears(store):
    run(store.set_balance("a", 1.0, 0.5))
    run(store.settle(entry(), Charge("a", 0.75)))
    balance = run(store.balance("a"))
    assert (balance.cash, balance.voucher) == (0.75, 0.0)
    run(store.settle(entry(), Charge("a", 2.0)))
    balance = run(store.balance("a"))
    assert (balance.cash, balance.available) == (-1.25, 0.0)


def test_settle_numbers_entries_and_the_journal_keeps_the_newest(store):
    ids = [run(store.settle(entry(status=200 + i))) for i in range(7)]
    assert ids == sorted(set(ids))
    assert [e.status for e in run(store.journal())] == [202, 203, 204, 205, 206]


def test_update_adds_later_facts_and_nothing_else(store):
    entry_id = run(store.settle(entry(chunks_sent=0)))
    run(store.update(entry_id, chunks_sent=7, disconnected=True))
    (found,) = run(store.journal())
    assert (found.chunks_sent, found.disconnected) == (7, True)
    with pytest.raises(ValueError, match="account"):
        run(store.update(entry_id, account="someone else"))


def test_update_of_an_entry_the_journal_dropped_is_ignored(store):
    first = run(store.settle(entry()))
    for _ in range(5):
        run(store.settle(entry()))
    run(store.update(first, chunks_sent=1))
    assert all(e.chunks_sent is None for e in run(store.journal()))


def test_what_a_reader_holds_never_changes_under_it(store):
    entry_id = run(store.settle(entry(chunks_sent=0)))
    (held,) = run(store.journal())
    run(store.update(entry_id, chunks_sent=3))
    assert held.chunks_sent == 0


def test_an_entry_keeps_its_reply_and_its_frames_as_it_was_given(store):
    frames, due, size = stream_copy([b"data: {\"a\": \"\xc3\xa9\"}\n\n", b"data: [DONE]\n\n"],
                                    [0.0, 0.25])
    run(store.settle(entry(reply='{"ok": "é"}'.encode(), reply_bytes=12)))
    run(store.settle(entry(frames=frames, frame_ms=due, reply_bytes=size, chunks_sent=0)))
    replied, streamed = run(store.journal())
    assert (replied.reply, replied.reply_bytes, replied.frames) == ('{"ok": "é"}'.encode(), 12, ())
    assert streamed.frames == ('data: {"a": "é"}\n\n'.encode(), b"data: [DONE]\n\n")
    assert streamed.frame_ms == (0.0, 250.0) and streamed.reply_bytes == size == 33


def test_a_stream_past_the_bound_keeps_the_frames_that_fit():
    frame = b"x" * 1000
    frames, due, size = stream_copy([frame] * 100, [0.001] * 100)
    assert len(frames) == BODY_CAP // 1000 and size == 100_000
    assert due[:2] == (1.0, 2.0)
    kept, full = reply_copy(b"y" * (BODY_CAP + 1))
    assert kept == b"y" * BODY_CAP and full == BODY_CAP + 1


def test_the_journal_keeps_a_bounded_copy_of_each_body():
    request, size = body_copy(b"x" * (BODY_CAP + 10))
    shown = entry(request=request, request_bytes=size, request_is_json=True)
    assert len(shown.request) == BODY_CAP and shown.truncated and shown.body is None
    assert shown.shown_request()["truncated"] is True


# --- rules, progress, reset --------------------------------------------------------------


def test_rules_replace_by_name_in_place_and_every_change_moves_the_version(store):
    versions = [run(current(store))]
    run(store.put_rules([{"name": "a", "v": 1}, {"name": "b", "v": 1}]))
    versions.append(run(current(store)))
    run(store.put_rules([{"name": "a", "v": 2}], strict=True))
    found = run(store.rules())
    assert [(d["name"], d["v"]) for d in found.documents] == [("a", 2), ("b", 1)]
    assert found.strict
    assert run(store.remove_rule("b")) and not run(store.remove_rule("b"))
    versions += [found.version, run(current(store))]
    run(store.clear_rules())
    versions.append(run(current(store)))
    assert versions == sorted(set(versions))
    assert run(store.rules()).documents == () and not run(store.rules()).strict


def test_reset_forgets_progress_but_keeps_rules_and_kept_accounts(store):
    run(store.put_rules([{"name": "r", "scenario": "s"}]))
    begin(store, candidates=(Candidate("r", "s", then_state="done"),))
    run(store.settle(entry(), Charge("a", 1.0)))
    run(store.reset(keep_accounts=True))
    assert run(store.journal()) == [] and run(store.progress()).uses == {}
    assert run(store.progress()).states == {}
    assert begin(store).nth == 1
    assert run(store.balance("a")).cash == 9.0 and len(run(store.rules()).documents) == 1
    run(store.reset())
    assert run(store.balance("a")).cash == 10.0


# --- tier limits: the sliding windows ------------------------------------------------------


def limited_store(make, **limits) -> Store:
    return make(plan=Plan(10.0, tier=1), tiers={1: Limits(**limits)})


def admit(store: Store, now: float, tokens: int = 0, account: str = "a"):
    return begin(store, account=account, limited=True, now=now, tokens=tokens)


def test_rpm_refuses_past_the_limit_with_the_wait_until_the_oldest_call_leaves(make):
    store = limited_store(make, rpm=2)
    assert [admit(store, t).held for t in (0.0, 10.0)] == [True, True]
    found = admit(store, 20.0)
    assert found.refused == LIMITED and found.limit == LimitHit("rpm", 2, 2, 40.0)
    assert admit(store, 60.0).refused is None  # the call at 0 left the window
    assert admit(store, 60.5).limit.retry_after == pytest.approx(9.5)
    assert admit(store, 0.0, account="b").refused is None  # another account's windows


def test_token_windows_count_the_budget_and_wait_until_enough_leaves(make):
    store = limited_store(make, tpm=100, tpd=150)
    assert admit(store, 0.0, 60).refused is None
    assert admit(store, 1.0, 50).limit == LimitHit("tpm", 100, 110, 59.0)
    assert admit(store, 2.0, 200).limit == LimitHit("tpm", 100, 260, 60.0)  # alone over
    assert admit(store, 60.0, 50).refused is None
    assert admit(store, 61.0, 50).limit == LimitHit("tpd", 150, 160, 86400.0 - 61.0)
    usage = run(store.account("a", 61.0)).usage
    assert usage == {"concurrency": 2, "rpm": 1, "tpm": 50, "tpd": 110}


def test_concurrency_counts_calls_in_flight_until_settled_or_released(make):
    store = limited_store(make, concurrency=1)
    assert admit(store, 0.0).held
    assert admit(store, 0.0).limit == LimitHit("concurrency", 1, 1, 1.0)
    run(store.settle(entry(), None, release="a"))
    assert admit(store, 0.0).held
    run(store.release("a"))
    run(store.release("a"))  # never below none in flight
    assert run(store.account("a", 0.0)).usage["concurrency"] == 0
    entry_id = run(store.settle(entry(chunks_sent=0)))
    assert admit(store, 0.0).held  # a stream: in flight until its last update
    run(store.update(entry_id, release="a", chunks_sent=4))
    assert run(store.account("a", 0.0)).usage["concurrency"] == 0
    assert run(store.journal())[-1].chunks_sent == 4


def test_a_refused_call_takes_nothing_and_an_account_without_a_tier_is_not_limited(make):
    store = limited_store(make, rpm=1)
    admit(store, 0.0, 5)
    before = run(store.account("a", 0.0))
    assert admit(store, 0.0, 5).refused == LIMITED
    assert run(store.account("a", 0.0)) == before
    assert (before.tier, before.limits) == (1, Limits(rpm=1))
    assert run(store.set_account("a", tier=None)).limits is None
    assert admit(store, 0.0).refused is None and not admit(store, 0.0).held


# --- atomicity ------------------------------------------------------------------------------


def test_concurrent_debits_from_many_threads_lose_nothing(make):
    store = make(plan=Plan(100.0))

    failures: list[BaseException] = []

    def spend() -> None:
        try:
            for _ in range(200):
                store.sync(store.settle(entry(), Charge("a", 0.01)))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=spend) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert run(store.balance("a")).cash == pytest.approx(100.0 - 16 * 200 * 0.01)


def test_concurrent_begins_hand_out_each_use_once(make):
    store = make()
    limited = Candidate("once-each", "s", times=50)

    async def race() -> list:
        version = (await store.rules()).version
        return await asyncio.gather(*(store.begin(Begin("chat", "a", version,
                                                        candidates=(limited,)))
                                      for _ in range(80)))

    taken = [b.use for b in asyncio.run(race()) if b.rule]
    assert sorted(taken) == list(range(50))
