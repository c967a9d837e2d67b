"""How much does mockshot cost over the thinnest possible Starlette mock? One run says.

Five measurements, each against a target; the first four beside a bare Starlette app
(bench/bare_app.py: one Route, fixed orjson bytes, no validation) so the number isolates
what mockshot's own request road adds:

  (a) in-process: µs per `client.chat.completions.create(...)` through the official openai
      SDK (sync, max_retries=0) over `mockshot.http_client(app)`, the way test suites use it.
  (b) served: requests/s of non-streaming chat at concurrency 32 over loopback keep-alive,
      `mockshot serve` vs the bare app under uvicorn with the same stack; server on core 0,
      load generator on core 1 (wrk if installed, else a raw-socket uvloop client here).
  (c) cold start: launch of `python -m mockshot serve` to the first 200 of GET /v1/models,
      plus `-X importtime`'s slowest imports to explain it.
  (d) streaming: streams/s and SSE chunks/s of `stream: true` chat at concurrency 32,
      `serve --clock real` with `X-Mockshot-Pacing: instant`, vs a bare StreamingResponse
      of the same chunk count and size; raw-socket client with chunked decoding.
  (e) pacing: client-side TTFT and tokens/s of paced streams on the real clock, against
      the `X-Mockshot-Pacing` header's values and kimi-k2.6's own (no bare app: accuracy).
  (f) extraction: ms per page of file-extract's text for the sample PDF and DOCX in
      fixtures/documents/ and for 100-page ones written the same way.
  (g) upload: a 100 MiB multipart upload, chunked without Content-Length, through the
      real `POST /v1/files` into the blob area: MB/s and the serving process's peak RSS
      growth (goal < 30 MB), in-process and served by `mockshot serve`.
  (h) batch: a 10,000-line batch answered in-app, lines per second as a ratio to in-app
      chat calls per second in the same run (goal >= 0.5).
  (i) fixtures: `Mock(...)` construction, the `mockshot` fixture's set-up + teardown and a
      served fixture's per-test reset (µs, median of 1,000), and a 1,000-test pytest suite
      of one chat each against the same suite on the bare app (goal at most 1.5 times).
  (j) shared state: served chat req/s in memory, on SQLite and on Redis with one and two
      workers, and each store's in-app µs and instructions per chat request.
  (k) console: in-app chat µs with and without a console feed open, and the console's
      control-API reads on a journal of 10,000 entries (ms; goal < 100).

    .venv/bin/python bench/bench.py [--calls N] [--duration S] [--concurrency C]
        [--paced N] [--paced-concurrency C] [--profile]
        [--only {inapp,instructions,inprocess,served,coldstart,streaming,pacing,extraction,
                 upload,batch,fixtures,shared,soak,console}]

Each section lives in its own module here (inprocess, served, coldstart, streamed, pacing,
extraction, upload, batch, per_test, shared, soak, console; common parts in common, loadgen,
chunked). This is a benchmark,
not a test: it prints a Markdown report and exits 0 whether or not a target is met (non-zero only
if a request fails or a server does not come up).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from typing import Any

from batch import bench_batch
from coldstart import bench_coldstart
from common import CLIENT_CORE, SERVER_CORE, TERMINATED, Row, section
from console import bench_console
from extraction import bench_extraction
from gate import gate
from inapp import bench_inapp
from inprocess import bench_inprocess, profile_inprocess
from instructions import bench_instructions
from pacing import bench_pacing
from per_test import bench_fixtures
from served import bench_served
from shared import bench_shared
from soak import bench_soak
from streamed import bench_streaming
from upload import bench_upload

STEPS = {"inapp": bench_inapp, "inprocess": bench_inprocess, "served": bench_served,
         "coldstart": bench_coldstart,
         "streaming": bench_streaming, "pacing": bench_pacing, "extraction": bench_extraction,
         "upload": bench_upload, "batch": bench_batch, "instructions": bench_instructions,
         "fixtures": bench_fixtures, "shared": bench_shared, "soak": bench_soak,
         "console": bench_console}
PINNED = ("served", "streaming", "pacing", "upload", "shared")  # the steps that need both cores


def environment() -> str:
    """Versions that move the numbers, printed so two runs can be compared honestly."""
    import openai

    from mockshot.transport import httpx_module

    return (f"Python {sys.version.split()[0]}, openai {openai.__version__}, "
            f"{httpx_module().__name__}, {os.cpu_count()} cores")


def print_table(rows: list[Row]) -> None:
    """The summary: one Markdown table, preceded by the command line that produced it."""
    section("Results")
    print(f"`{shlex.join(sys.orig_argv)}`\n")
    print("| measurement | mockshot | bare Starlette | ratio | target | met? |")
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        print(f"| {row.measurement} | {row.mockshot} | {row.bare} | {row.ratio} | "
              f"{row.target} | {row.met} |")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Flags; defaults give a full run of about a minute and a half on two cores (the
    paced streams alone take about 45 s of real time, whatever the machine)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000,
                        help="timed in-process calls per app (default 3000)")
    parser.add_argument("--warmup", type=int, default=300,
                        help="untimed in-process calls per app first (default 300)")
    parser.add_argument("--duration", type=float, default=5.0,
                        help="counted seconds of load per server (default 5)")
    parser.add_argument("--warmup-seconds", type=float, default=1.0,
                        help="uncounted seconds of load first (default 1)")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="keep-alive connections (default 32)")
    parser.add_argument("--runs", type=int, default=5, help="cold starts (default 5)")
    parser.add_argument("--paced", type=int, default=20,
                        help="paced streams one at a time with the header (default 20)")
    parser.add_argument("--paced-concurrency", type=int, default=8,
                        help="paced streams at once in the concurrent runs (default 8)")
    parser.add_argument("--only", choices=list(STEPS))
    parser.add_argument("--gate", action="store_true",
                        help="instead: the CI performance gate (bench/gate.py)")
    parser.add_argument("--profile", action="store_true",
                        help="instead: cProfile --calls in-process mockshot calls, top 15")
    return parser.parse_args(argv)


def check_cores() -> None:
    """The served comparisons are only fair with server and load on separate cores."""
    if not {SERVER_CORE, CLIENT_CORE} <= os.sched_getaffinity(0):
        raise SystemExit(f"served needs cores {SERVER_CORE} and {CLIENT_CORE} "
                         f"(this process may use {sorted(os.sched_getaffinity(0))})")


def on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM → SystemExit, so the `finally` in running() still stops every server. uvloop
    swallows an exception raised inside a protocol callback, so the flag tells drive()."""
    TERMINATED.set()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the selected measurements in order, then print the summary table."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    print(f"# mockshot benchmark\n\n`{shlex.join(sys.orig_argv)}` — {environment()}")
    if args.profile:
        profile_inprocess(args)
        return 0
    if args.gate:
        check_cores()
        return gate(args, STEPS)
    if args.only is None or args.only in PINNED:
        check_cores()
    rows = [row for name, step in STEPS.items() if args.only in (None, name)
            for row in step(args)]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
