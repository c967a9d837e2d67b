"""A short soak in CI (bench/bench.py --only soak runs the long one): mixed traffic at
concurrency 32 — chats, streams half of them abandoned mid-way, tool calls, uploads,
batches, refused requests — finds no 5xx and no dropped connection, and leaves no task or
file descriptor behind; the journal stays within its bound."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def soak_module():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_soak", BENCH / "soak.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_soak"] = module  # dataclasses resolve annotations through it
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_a_short_soak_leaves_nothing_behind():
    soak = soak_module()
    process, url = soak.serve()
    try:
        outcome = asyncio.run(soak.soak(url, seconds=10, workers=32))
    finally:
        process.terminate()
        process.wait()
    kinds = {kind for kind, _ in outcome.statuses}
    assert kinds == {"chat", "stream", "small", "refused", "estimate", "files", "batch"}
    assert outcome.errors == [] and outcome.server_errors == 0
    assert {s for (k, s) in outcome.statuses if k == "refused"} <= {400, 404}
    first, last = outcome.samples[0], outcome.samples[-1]
    assert last["tasks"] <= first["tasks"] + 2, outcome.samples  # streams all closed
    assert last["fds"] <= first["fds"] + 4, outcome.samples
    assert max(s["journal_entries"] for s in outcome.samples) <= 1000
    assert sum(outcome.statuses.values()) > 200  # the traffic really ran (slow machines too)
