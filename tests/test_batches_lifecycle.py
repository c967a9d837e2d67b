"""A batch's lifecycle as pure functions of its schedule, a cancel and the clock; and the
input index validation builds (offsets that survive lines straddling read chunks)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from mockshot.resources.batches.objects import batch_body, timeline
from mockshot.resources.batches.validation import check_input, split_lines, step_for
from mockshot.state.blobs import Blobs
from mockshot.state.records import due_lines, status_at

from .test_store_records import SCHEDULE, batch

seconds = st.floats(min_value=100, max_value=200_000, allow_nan=False)  # from creation on


@given(now=seconds, cancel=st.none() | seconds, failed=st.booleans(),
       expires=st.floats(min_value=100, max_value=300))
def test_the_body_shows_the_last_state_reached_and_each_at_once_reached(now, cancel, failed,
                                                                        expires):
    shown = batch(schedule=replace(SCHEDULE, expires_at=expires),
                  errors=({"code": "x"},) if failed else ())
    if cancel is not None and cancel < shown.schedule.end(failed)[0]:
        shown = replace(shown, cancelling_at=cancel, cancelled_at=cancel + 1)
    body = batch_body(shown, now)
    reached = [state for state, at in timeline(shown) if at <= now]
    assert body["status"] == status_at(shown, now) == reached[-1]
    times = [at for _, at in timeline(shown)]
    assert times == sorted(times)
    for state in ("in_progress", "finalizing", "completed", "failed", "cancelling",
                  "cancelled"):
        assert (body[f"{state}_at"] is not None) == (state in reached)


@given(early=seconds, late=seconds)
def test_lines_due_never_go_back(early, late):
    early, late = sorted((early, late))
    assert due_lines(batch(lines=97), early) <= due_lines(batch(lines=97), late) <= 97


def test_the_claim_step_keeps_about_fifty_runs_of_at_most_64_lines():
    assert [step_for(n) for n in (1, 10, 50, 51, 1000, 10_000, 1_000_000)] == [
        1, 1, 1, 2, 20, 64, 64]


def test_blank_lines_are_not_lines_and_the_tail_waits_for_its_newline():
    assert list(split_lines(b'{"a":1}\n\n  \n{"b":2}\n{"c"', 100)) == [
        (100, b'{"a":1}'), (112, b'{"b":2}')]


def test_offsets_index_every_step_th_line_across_read_chunks(tmp_path):
    blobs = Blobs(tmp_path)
    lines = [json.dumps({"custom_id": f"r{i}", "method": "POST",
                         "url": "/v1/chat/completions",
                         "body": {"model": "kimi-k2.6", "pad": "x" * (i * 997 % 5000)}})
             for i in range(600)]
    data = ("\n".join(lines)).encode()  # > 1 MiB, no final newline
    with blobs.sink() as sink:
        sink.write(data)
        sink.commit("input")
    checked = asyncio.run(check_input(blobs, "input", frozenset({"kimi-k2.6"})))
    assert (checked.lines, checked.step, checked.errors) == (600, 12, ())
    starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    assert checked.offsets == (*starts[::12], len(data))
