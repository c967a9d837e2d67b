"""(g) instructions: CPU instructions per in-app request, counted by valgrind's callgrind.

Wall-clock figures move with whatever else the machine runs; instruction counts do not
(the same binary, inputs and environment give the same count), so this is the figure to
compare two versions of the request road with. Each count is (a run of N requests) minus
(a run of none), divided by N, so start-up and imports cancel out. The heap the imports
and the app built is frozen (`gc.freeze()`) before the requests: otherwise whether one
full collection of it falls inside the run moved a 200-request count by 80,000
instructions a request (~17%) between two builds whose requests cost the same.

    .venv/bin/python bench/bench.py --only instructions
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile

from common import HERE, Row, section

RUNNER = r"""
import asyncio, sys
sys.path.insert(0, {bench!r})
from inapp import REQUESTS, _once, app_for

app = app_for(sys.argv[1])
method, path, body = REQUESTS[sys.argv[1]]
import gc; gc.collect(); gc.freeze()

async def run(count):
    for _ in range(count):
        await _once(app, method, path, body)

asyncio.run(run(int(sys.argv[2])))
"""
COLLECTED = re.compile(r"Collected : (\d+)")


def count(script: str, kind: str, requests: int) -> int:
    """Instructions the whole process ran for `requests` requests of `kind`."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
             sys.executable, "-c", script, kind, str(requests)],
            capture_output=True, text=True, check=True)
    found = COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


KINDS = ("chat", "chat-limits", "models")


def bench_instructions(args: argparse.Namespace) -> list[Row]:
    """(g): instructions per request, for the request road's own cost. The gate passes a
    shorter `instruction_requests` and fewer `instruction_kinds` (bench/gate.py)."""
    section("(g) instructions per in-app request (callgrind)")
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind); skipped.")
        return []
    script = RUNNER.format(bench=str(HERE))
    requests = getattr(args, "instruction_requests", 1000)
    rows = []
    for kind in getattr(args, "instruction_kinds", KINDS):
        per = (count(script, kind, requests) - count(script, kind, 0)) / requests
        print(f"- {kind}: {per:,.0f} instructions per request ({requests} requests)")
        rows.append(Row(f"in-app {kind}, instructions/request", f"{per:,.0f}", "—", "—",
                        "—", "—"))
    return rows
