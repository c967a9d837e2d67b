"""(b) served: requests/s of non-streaming chat at concurrency 32 over loopback keep-alive,
`mockshot serve` beside the bare app under uvicorn, server on one core and load on the
other (wrk if installed, else the raw-socket generator in loadgen.py), in 1 s turns."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable

from common import (
    CHAT_BODY,
    CLIENT_CORE,
    KEY,
    SERVER_CORE,
    Row,
    bare_cmd,
    free_port,
    http_request,
    mockshot_cmd,
    ms,
    pin_command,
    running,
    section,
    times,
    verdict,
)
from loadgen import SLICE, LoadResult, Target, python_load, turns


def python_chat_load(ports: dict[str, int], args: argparse.Namespace) -> dict[str, LoadResult]:
    """The in-script generator on the non-streaming chat request."""
    targets = {name: Target(http_request("POST", "/v1/chat/completions", port, CHAT_BODY))
               for name, port in ports.items()}
    return python_load(targets, ports, args)


WRK_SCRIPT = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
"""
WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk_seconds(value: str, unit: str) -> float:
    """wrk prints durations with units (850.00us, 4.20ms, 5.00s)."""
    return float(value) * WRK_UNITS[unit]


def wrk_latency(output: str, pct: str) -> float | None:
    """Seconds at a percentile of `wrk --latency`'s Latency Distribution block."""
    match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    return wrk_seconds(*match.groups()) if match else None


def parse_wrk(output: str) -> tuple[int, float, int, float | None, float | None]:
    """(requests, seconds, failures, p50, p99) of one `wrk --latency` run; failures are
    non-2xx replies plus socket errors."""
    total, value, unit = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output).groups()
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors:([^\n]*)", output)
    failed = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(n) for n in re.findall(r"\d+", sockets.group(1))) if sockets else 0)
    return (int(total), wrk_seconds(value, unit), failed, wrk_latency(output, "50"),
            wrk_latency(output, "99"))


def run_wrk(script: str, port: int, seconds: float, args: argparse.Namespace) -> str:
    """One wrk run (whole seconds, wrk's resolution) pinned to CLIENT_CORE; its stdout."""
    cmd = ["wrk", "-t1", f"-c{args.concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
           "-s", script, f"http://127.0.0.1:{port}/v1/chat/completions"]
    return subprocess.run(pin_command(cmd, CLIENT_CORE), check=True, capture_output=True,
                          text=True).stdout


def wrk_load(ports: dict[str, int], args: argparse.Namespace) -> dict[str, LoadResult]:
    """wrk -t1 on CLIENT_CORE, one warm-up run each, then alternating SLICE-second runs;
    req/s is summed requests over summed time, latencies the median over the runs."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(body=CHAT_BODY.decode(), key=KEY))
    try:
        for port in ports.values():
            run_wrk(script.name, port, args.warmup_seconds, args)
        runs: dict[str, list] = {name: [] for name in ports}
        for _ in range(turns(args)):
            for name, port in ports.items():
                runs[name].append(parse_wrk(run_wrk(script.name, port, SLICE, args)))
    finally:
        os.unlink(script.name)
    return {name: wrk_result(parsed) for name, parsed in runs.items()}


def median_or_none(values: tuple) -> float | None:
    return None if None in values else statistics.median(values)


def wrk_result(runs: list[tuple]) -> LoadResult:
    """One server's wrk turns folded into one result (see wrk_load)."""
    requests, seconds, failed, p50s, p99s = zip(*runs, strict=True)
    return LoadResult(sum(requests) / sum(seconds), sum(requests), sum(failed),
                      median_or_none(p50s), median_or_none(p99s))


LoadGenerator = Callable[[dict[str, int], argparse.Namespace], dict[str, LoadResult]]


def load_generator() -> tuple[str, LoadGenerator]:
    """wrk when installed (C, no GIL, the usual reference), else the Python generator."""
    if shutil.which("wrk"):
        return "wrk (-t1, Lua POST body)", wrk_load
    return "python (asyncio protocols on uvloop, raw HTTP/1.1; wrk not installed)", python_chat_load


def measure_served(args: argparse.Namespace) -> dict[str, LoadResult]:
    """Serve both apps on SERVER_CORE, load them in turns, and abort on any failure: a
    fast 500 is not throughput."""
    ports = {"mockshot": free_port(), "bare": free_port()}
    cmds = {"mockshot": mockshot_cmd(ports["mockshot"], "--log-level", "warning",
                                     "--clock", "virtual"),
            "bare": bare_cmd(ports["bare"])}
    # A big balance so a long --duration cannot drain the account into 429s mid-run.
    env = {"MOCKSHOT_INITIAL_BALANCE": "1e12"}
    with contextlib.ExitStack() as stack:
        for name, port in ports.items():
            ready = http_request("POST", "/v1/chat/completions", port, CHAT_BODY)
            stack.enter_context(running(cmds[name], port, ready, core=SERVER_CORE, env=env))
        results = load_generator()[1](ports, args)
    for name, result in results.items():
        if result.failed or not result.ok:
            raise SystemExit(f"{name}: {result.failed} failed requests, {result.ok} ok")
    return results


def latency_row(label: str, mock: float | None, bare: float | None) -> Row:
    """An informational latency line (no target: throughput is what the brief sets)."""
    ratio = mock / bare if mock and bare else None
    return Row(f"served latency {label} ms", ms(mock), ms(bare), times(ratio), "—", verdict(None))


def bench_served(args: argparse.Namespace) -> list[Row]:
    """(b): throughput over a real socket, where the SDK's cost no longer hides ours."""
    section(f"(b) served: non-streaming chat, {args.concurrency} keep-alive connections")
    print(f"- load generator: {load_generator()[0]}, pinned to core {CLIENT_CORE}; both servers "
          f"pinned to core {SERVER_CORE} ({'taskset' if shutil.which('taskset') else 'affinity'})")
    print(f"- {args.warmup_seconds:g} s warm-up each, then {turns(args)} alternating turns of "
          f"{args.duration / turns(args):g} s per server counted; only 200s count and any "
          "non-200 or dropped connection aborts the run")
    res = measure_served(args)
    mock, bare = res["mockshot"], res["bare"]
    for name, one in res.items():
        print(f"- {name}: {one.rps:,.0f} req/s ({one.ok} ok, 0 failed), "
              f"p50 {ms(one.p50)} ms, p99 {ms(one.p99)} ms")
    share = mock.rps / bare.rps
    return [
        Row(f"served chat req/s (c={args.concurrency})", f"{mock.rps:,.0f}", f"{bare.rps:,.0f}",
            f"{share:.0%}", "≥ 50%", verdict(share >= 0.5)),
        latency_row("p50", mock.p50, bare.p50),
        latency_row("p99", mock.p99, bare.p99),
    ]


