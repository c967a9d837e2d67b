"""The store's contract for files and batches (state/records.py), against every
implementation test_store.py runs: quotas checked and inserts made in one step, accounts
apart, a cancel decided by the status at that moment, and each line handed out once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from mockshot.state.records import (
    BatchRecord,
    FileRecord,
    Schedule,
    Segment,
    content_key,
    due_lines,
    status_at,
)
from mockshot.state.store import Store

from .test_store import IMPLEMENTATIONS, factory, run


@pytest.fixture(params=IMPLEMENTATIONS)
def store(request, tmp_path) -> Store:
    from mockshot.state.blobs import Blobs

    return factory(request)(blobs=Blobs(tmp_path))


def record(file_id: str = "f1", account: str = "a", size: int = 10, **fields) -> FileRecord:
    return FileRecord(**{"id": file_id, "account": account, "bytes": size, "created_at": 1,
                         "filename": "a.txt", "purpose": "file-extract",
                         "file_type": "text/plain", **fields})


SCHEDULE = Schedule(created_at=100.0, validated_at=110.0, finalizing_at=130.0,
                    completed_at=140.0, expires_at=100.0 + 86400)


def batch(batch_id: str = "b1", account: str = "a", lines: int = 10, **fields) -> BatchRecord:
    return BatchRecord(**{"id": batch_id, "account": account, "key": account,
                          "input_file_id": "f1", "endpoint": "/v1/chat/completions",
                          "completion_window": "24h", "metadata": None, "schedule": SCHEDULE,
                          "lines": lines, **fields})


def keep_blob(store: Store, key: str, data: bytes = b"x") -> None:
    with store.blobs.sink() as sink:
        sink.write(data)
        sink.commit(key)


# --- files ---------------------------------------------------------------------------------


def test_a_file_is_kept_for_its_account_only(store):
    assert run(store.add_file(record())).added
    assert run(store.file("a", "f1")) == record()
    assert run(store.file("b", "f1")) is None
    assert run(store.files("b")) == [] and run(store.files("a")) == [record()]


def test_files_are_listed_oldest_first(store):
    for name in ("f3", "f1", "f2"):
        run(store.add_file(record(name)))
    assert [f.id for f in run(store.files("a"))] == ["f3", "f1", "f2"]


def test_a_taken_id_is_refused_and_nothing_changes(store):
    run(store.add_file(record()))
    again = run(store.add_file(record(account="b", size=99)))
    assert again.taken and not again.added
    assert run(store.file("a", "f1")).bytes == 10 and run(store.files("b")) == []


@pytest.mark.parametrize(("limits", "refused"), [((2, None), True), ((None, 25), True),
                                                 ((3, 30), False)])
def test_quotas_are_checked_in_the_same_step_as_the_insert(store, limits, refused):
    run(store.add_file(record("f1")))
    run(store.add_file(record("f2")))
    run(store.add_file(record("other", account="b", size=1000)))  # another account's
    found = run(store.add_file(record("f3"), *limits))
    assert found.added is not refused
    if refused:
        assert (found.files, found.total_bytes) == (2, 20)
    assert len(run(store.files("a"))) == (2 if refused else 3)


def test_concurrent_uploads_never_pass_the_file_quota(store):
    async def race() -> list:
        return await asyncio.gather(*(store.add_file(record(f"f{i}"), 5)
                                      for i in range(20)))

    assert sum(found.added for found in asyncio.run(race())) == 5


def test_delete_removes_the_record_and_its_blobs_for_its_account_only(store):
    run(store.add_file(record(content=True)))
    keep_blob(store, "f1")
    keep_blob(store, content_key("f1"))
    assert run(store.delete_file("b", "f1")) is None and store.blobs.exists("f1")
    assert run(store.delete_file("a", "f1")) == record(content=True)
    assert run(store.file("a", "f1")) is None
    assert not store.blobs.exists("f1") and not store.blobs.exists(content_key("f1"))
    assert run(store.delete_file("a", "f1")) is None


def test_reset_forgets_files_batches_and_blobs_unless_accounts_are_kept(store):
    run(store.add_file(record()))
    run(store.add_batch(batch()))
    keep_blob(store, "f1")
    run(store.reset(keep_accounts=True))
    assert run(store.file("a", "f1")) and run(store.batch("a", "b1"))
    run(store.reset())
    assert run(store.file("a", "f1")) is None and run(store.batch("a", "b1")) is None
    assert not store.blobs.exists("f1")


# --- batches: records and pages ----------------------------------------------------------


def test_a_batch_is_kept_for_its_account_only_and_its_id_once(store):
    assert run(store.add_batch(batch()))
    assert not run(store.add_batch(batch(lines=99)))
    assert run(store.batch("a", "b1")).lines == 10
    assert run(store.batch("b", "b1")) is None


def test_batches_page_newest_first_after_a_cursor(store):
    for i in range(5):
        run(store.add_batch(batch(f"b{i}")))
    run(store.add_batch(batch("theirs", account="b")))
    page, more = run(store.batches("a", None, 2))
    assert [b.id for b in page] == ["b4", "b3"] and more
    page, more = run(store.batches("a", "b3", 2))
    assert [b.id for b in page] == ["b2", "b1"] and more
    page, more = run(store.batches("a", "b1", 2))
    assert [b.id for b in page] == ["b0"] and not more
    assert run(store.batches("a", "theirs", 2)) == ([], False)


# --- batches: the lifecycle --------------------------------------------------------------


@pytest.mark.parametrize(("now", "status", "due"), [
    (100.0, "validating", 0), (110.0, "in_progress", 0), (120.0, "in_progress", 5),
    (130.0, "finalizing", 10), (140.0, "completed", 10)])
def test_the_status_and_the_lines_due_follow_the_clock(now, status, due):
    assert (status_at(batch(), now), due_lines(batch(), now)) == (status, due)


def test_a_batch_that_failed_validation_fails_when_validating_ends():
    failed = batch(errors=({"code": "invalid_json_line", "line": 1},))
    assert [status_at(failed, t) for t in (105.0, 110.0, 200.0)] == [
        "validating", "failed", "failed"]
    assert due_lines(failed, 200.0) == 0


def test_the_window_closing_first_expires_the_batch_with_the_lines_done_by_then():
    short = batch(schedule=replace(SCHEDULE, expires_at=120.0))
    assert [status_at(short, t) for t in (115.0, 120.0, 1e6)] == [
        "in_progress", "expired", "expired"]
    assert due_lines(short, 1e6) == 5


def test_cancel_moves_only_a_batch_still_running_and_stops_its_lines(store):
    run(store.add_batch(batch()))
    assert run(store.cancel_batch("b", "b1", 120.0, 121.0)) is None
    found = run(store.cancel_batch("a", "b1", 120.0, 121.0))
    assert found.refused is None and found.batch.cancelling_at == 120.0
    assert [status_at(found.batch, t) for t in (120.5, 121.0)] == ["cancelling", "cancelled"]
    assert due_lines(found.batch, 1e6) == 5
    assert run(store.cancel_batch("a", "b1", 120.5, 122.0)).refused == "cancelling"


@pytest.mark.parametrize(("now", "refused"), [(140.0, "completed"), (1e9, "completed")])
def test_a_finished_batch_cannot_be_cancelled(store, now, refused):
    run(store.add_batch(batch()))
    found = run(store.cancel_batch("a", "b1", now, now + 1))
    assert found.refused == refused and run(store.batch("a", "b1")).cancelling_at is None


# --- batches: lines handed out once, files written once -----------------------------------


def test_runs_of_lines_are_handed_out_in_order_up_to_what_is_due(store):
    run(store.add_batch(batch()))
    assert run(store.claim_lines("b1", 5, 2)) == (0, 2)
    assert run(store.claim_lines("b1", 5, 2)) == (2, 4)
    assert run(store.claim_lines("b1", 5, 2)) == (4, 5)
    assert run(store.claim_lines("b1", 5, 2)) is None
    assert run(store.claim_lines("b1", 10, 8)) == (5, 10)


def test_a_returned_run_is_handed_out_again_first(store):
    run(store.add_batch(batch()))
    run(store.claim_lines("b1", 10, 4))
    run(store.claim_lines("b1", 10, 4))
    run(store.return_lines("b1", 0, 4))
    assert run(store.claim_lines("b1", 10, 4)) == (0, 4)
    assert run(store.claim_lines("b1", 10, 4)) == (8, 10)


def test_concurrent_claims_never_hand_out_a_line_twice(store):
    run(store.add_batch(batch(lines=1000)))

    async def race() -> list:
        return await asyncio.gather(*(store.claim_lines("b1", 1000, 7) for _ in range(200)))

    runs = [r for r in asyncio.run(race()) if r]
    lines = [line for start, end in runs for line in range(start, end)]
    assert sorted(lines) == list(range(1000))


def test_recorded_lines_are_counted_and_their_segments_kept_in_order(store):
    run(store.add_batch(batch()))
    run(store.record_lines("b1", Segment(4, 10, True, False), 6, 0))
    found = run(store.record_lines("b1", Segment(0, 4, True, True), 3, 1))
    assert (found.done, found.completed, found.failed) == (10, 9, 1)
    assert [s.start for s in found.segments] == [0, 4]


def test_one_reader_finishes_a_batch_and_its_files_appear_with_it(store):
    run(store.add_batch(batch()))
    assert run(store.claim_finish("b1")) and not run(store.claim_finish("b1"))
    run(store.return_finish("b1"))
    assert run(store.claim_finish("b1"))
    output = record("out1", purpose="batch_output")
    found = run(store.finish_batch("b1", (output,), "out1", None))
    assert found.finished and found.output_file_id == "out1" and found.error_file_id is None
    assert run(store.file("a", "out1")) == output and not run(store.claim_finish("b1"))
