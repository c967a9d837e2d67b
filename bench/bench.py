"""How much does mockshot cost over the thinnest possible Starlette mock? One run says.

Three measurements, each against a target, each beside a bare Starlette app
(bench/bare_app.py: one Route, fixed orjson bytes, no validation) so the number isolates
what mockshot's own request road adds:

  (a) in-process: µs per `client.chat.completions.create(...)` through the official openai
      SDK (sync, max_retries=0) over `mockshot.http_client(app)`, the way test suites use it.
  (b) served: requests/s of non-streaming chat at concurrency 32 over loopback keep-alive,
      `mockshot serve` vs the bare app under uvicorn with the same stack; server on core 0,
      load generator on core 1 (wrk if installed, else a raw-socket uvloop client here).
  (c) cold start: launch of `python -m mockshot serve` to the first 200 of GET /v1/models,
      plus `-X importtime`'s slowest imports to explain it.

    .venv/bin/python bench/bench.py [--calls N] [--duration S] [--concurrency C]
                                    [--only {inprocess,served,coldstart}] [--profile]

This is a benchmark, not a test: it prints a Markdown report and exits 0 whether or not a
target is met (non-zero only if a request fails or a server does not come up).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.util
import os
import pstats
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KEY = "sk-bench"
MODEL = "kimi-k2.6"
MESSAGES = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "What is the capital of France?"},
]
CHAT_BODY = orjson.dumps({"model": MODEL, "messages": MESSAGES})
SERVER_CORE, CLIENT_CORE = 0, 1
READY_TIMEOUT = 30.0  # seconds a server may take to answer its first 200
BLOCK = 200  # in-process calls per app before switching, so drift hits both alike
TERMINATED = threading.Event()  # set by SIGTERM; see on_sigterm()


@dataclass
class Row:
    """One line of the final table."""

    measurement: str
    mockshot: str
    bare: str
    ratio: str
    target: str
    met: str


def times(ratio: float | None) -> str:
    """A ratio as 1.23 and a multiplication sign (escaped: ruff RUF001 flags the literal)."""
    return "—" if ratio is None else f"{ratio:.2f}\N{MULTIPLICATION SIGN}"


def verdict(ok: bool | None) -> str:
    """The met? column; bold "no" so a missed target stands out in rendered Markdown."""
    return "—" if ok is None else ("yes" if ok else "**no**")


def section(title: str) -> None:
    """A Markdown heading, flushed so progress shows while a long step runs."""
    print(f"\n## {title}\n", flush=True)


# ---------------------------------------------------------------- (a) in-process


def load_bare_app() -> Any:
    """bench/bare_app.py by file path, so the script works from any working directory."""
    spec = importlib.util.spec_from_file_location("bare_app", HERE / "bare_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def sdk_client(app: Any) -> Any:
    """The openai SDK as a test suite would hold it: in-process transport, no retries."""
    import openai

    from mockshot import http_client

    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                         http_client=http_client(app), max_retries=0)


def chat(client: Any) -> Any:
    """The one call every in-process number is about (the brief's exact request)."""
    return client.chat.completions.create(model=MODEL, messages=MESSAGES)


def time_calls(client: Any, count: int) -> list[float]:
    """µs per call, one sample per call (perf_counter_ns around the SDK call only)."""
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        chat(client)
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def mockshot_app() -> Any:
    """mockshot as a test suite builds it: virtual clock (no waiting), quiet logs."""
    from mockshot import Settings, create_app

    return create_app(Settings(clock="virtual", log_level="warning"))


def inprocess_apps() -> dict[str, Any]:
    """Both apps, each to be driven through the same in-process transport."""
    return {"mockshot": mockshot_app(), "bare": load_bare_app()}


def interleaved(clients: dict[str, Any], calls: int) -> dict[str, list[float]]:
    """Alternate blocks of calls between the apps, so neither gets the quieter minute."""
    samples: dict[str, list[float]] = {name: [] for name in clients}
    done = 0
    while done < calls:
        count = min(BLOCK, calls - done)
        for name, client in clients.items():
            samples[name] += time_calls(client, count)
        done += count
    return samples


def check_reply(name: str, reply: Any) -> None:
    """Refuse to time an app whose reply the SDK does not parse as a completion."""
    if reply.object != "chat.completion" or not reply.choices[0].message.content:
        raise SystemExit(f"{name}: not a chat.completion: {reply!r}")


def p90(values: list[float]) -> float:
    """The 90th percentile: how bad the slow tail of a test suite's calls gets."""
    return statistics.quantiles(values, n=10)[-1]


def bench_inprocess(args: argparse.Namespace) -> list[Row]:
    """(a): the per-call price a test suite pays for mockshot's realism, SDK included."""
    section("(a) in-process: openai SDK → mockshot.http_client(app)")
    clients = {name: sdk_client(app) for name, app in inprocess_apps().items()}
    for name, client in clients.items():
        check_reply(name, chat(client))
        time_calls(client, args.warmup)
    samples = interleaved(clients, args.calls)
    med = {name: statistics.median(s) for name, s in samples.items()}
    tail = {name: p90(s) for name, s in samples.items()}
    print(f"{args.calls} timed calls per app after {args.warmup} warm-up calls, "
          f"interleaved in blocks of {BLOCK}; sync SDK, max_retries=0.")
    for name in clients:
        print(f"- {name}: median {med[name]:.0f} µs, p90 {tail[name]:.0f} µs, "
              f"min {min(samples[name]):.0f} µs")
    ratio, ratio90 = med["mockshot"] / med["bare"], tail["mockshot"] / tail["bare"]
    return [
        Row("in-process chat, median µs/call", f"{med['mockshot']:.0f}", f"{med['bare']:.0f}",
            times(ratio), "≤ 1.5\N{MULTIPLICATION SIGN}", verdict(ratio <= 1.5)),
        Row("in-process chat, p90 µs/call", f"{tail['mockshot']:.0f}", f"{tail['bare']:.0f}",
            times(ratio90), "—", verdict(None)),
    ]


class OnLoop:
    """ASGI wrapper remembering the loop the app runs on. The sync transport runs the app
    on its own thread and cProfile only sees the thread that enabled it, so the profiler
    has to be switched on over there too."""

    def __init__(self, app: Any) -> None:
        self.app, self.loop = app, None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)

    def run(self, fn: Callable[[], Any]) -> None:
        async def call() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(call(), self.loop).result()


LOOP_PLUMBING = r"^(?!.*(asyncio/|selectors\.py|_contextvars|epoll))"  # idle loop, not the app


def print_profile(title: str, profiler: cProfile.Profile, *only: str) -> None:
    """Top 15 by cumulative time; `only` are pstats regexes applied first (to hide the
    loop thread's idle epoll wait, which would otherwise fill the list)."""
    print(f"\n### {title}\n\n```")
    stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative")
    stats.print_stats(*only, 15)
    print("```")


def profile_inprocess(args: argparse.Namespace) -> None:
    """--profile: where an in-process mockshot chat call spends its time, per thread."""
    section(f"cProfile: {args.calls} in-process mockshot chat calls, top 15 cumulative")
    app = OnLoop(mockshot_app())
    client = sdk_client(app)
    time_calls(client, args.warmup)
    sdk_side, app_side = cProfile.Profile(), cProfile.Profile()
    app.run(app_side.enable)
    sdk_side.runcall(time_calls, client, args.calls)
    app.run(app_side.disable)
    print_profile("caller thread: openai SDK + httpx + sync transport", sdk_side)
    print_profile("loop thread: transport exchange + Starlette + mockshot "
                  "(asyncio plumbing hidden)", app_side, LOOP_PLUMBING)
    print("\ncProfile counts each resumption of a coroutine as a call, so ncalls of async "
          "functions can exceed the number of requests.")


# ---------------------------------------------------------------- servers and sockets


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick for port 0, released again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    """A pre-built HTTP/1.1 keep-alive request, byte for byte what goes on the wire."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {KEY}\r\n")
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def content_length(head: bytes) -> int:
    """The Content-Length of a response head; every reply here is sized, never chunked."""
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head.lower())
    if match is None:
        raise ValueError(f"response without content-length: {head[:200]!r}")
    return int(match.group(1))


def fetch_status(port: int, request: bytes, timeout: float = 2.0) -> int | None:
    """Send one request on a fresh connection and read the whole reply; None if refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            need = content_length(head) - len(rest)
            while need > 0:
                chunk = sock.recv(65536)
                if not chunk:
                    return None
                need -= len(chunk)
            return int(head[9:12])
    except (ConnectionError, TimeoutError, OSError):
        return None


def stderr_tail(log: Any) -> str:
    """The end of a dead server's stderr, so a failed start says why."""
    log.seek(0)
    return log.read().decode(errors="replace")[-2000:]


def wait_ready(proc: subprocess.Popen, port: int, request: bytes, log: Any,
               poll: float = 0.005) -> None:
    """Poll until the server answers 200 (or dies, or READY_TIMEOUT passes)."""
    deadline = time.perf_counter() + READY_TIMEOUT
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{stderr_tail(log)}")
        if fetch_status(port, request) == 200:
            return
        time.sleep(poll)
    raise RuntimeError(f"server not ready on port {port} after {READY_TIMEOUT}s")


def pin_command(cmd: list[str], core: int) -> list[str]:
    """Prefix `taskset -c core` when available (spawn() falls back to sched_setaffinity)."""
    return ["taskset", "-c", str(core), *cmd] if shutil.which("taskset") else cmd


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (uvicorn's clean shutdown), then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running(cmd: list[str], port: int, ready: bytes, core: int | None = None,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A server subprocess that is answering 200s inside the block and gone after it."""
    if core is not None:
        cmd = pin_command(cmd, core)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                                env={**os.environ, **(env or {})})
        try:
            if core is not None and cmd[0] != "taskset":
                os.sched_setaffinity(proc.pid, {core})
            wait_ready(proc, port, ready, log)
            yield proc
        finally:
            stop(proc)


def mockshot_cmd(port: int, *extra: str) -> list[str]:
    """`python -m mockshot serve`, exactly as a user would start it."""
    return [sys.executable, "-m", "mockshot", "serve", "--port", str(port), *extra]


def bare_cmd(port: int) -> list[str]:
    """uvicorn with the stack `mockshot serve` runs (see mockshot/server.py `_config`)."""
    return [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(HERE),
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--log-level", "warning",
            "--lifespan", "off", "--no-server-header"]


# ---------------------------------------------------------------- (b) load generators
#
# Other work shares this machine (test suites start and stop at any moment), and a run
# of one server then the other lets that noise land on one side only: sequential 5 s runs
# of the bare app moved between 16k and 34k req/s here. So both servers stay up (both on
# SERVER_CORE, the idle one costs nothing) and the load alternates between them in SLICE
# second turns, the way (a) interleaves blocks of calls.

SLICE = 1.0  # seconds of load one server gets before the other's turn


@dataclass
class LoadResult:
    """What a load run measured for one server; latencies in seconds."""

    rps: float
    ok: int
    failed: int
    p50: float | None = None
    p99: float | None = None


@dataclass
class Target:
    """One server under load: its connections and what they counted. Only 200s that
    complete while `measuring` count; any non-200 or dropped connection is a failure."""

    request: bytes
    conns: list[Connection] = field(default_factory=list)
    active: bool = False
    measuring: bool = False
    closing: bool = False
    ok: int = 0
    failed: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def done(self, status: int, latency: float) -> None:
        """One reply in: a failure whenever it is not 200, counted only inside a turn."""
        if status != 200:
            self.failed += 1
        elif self.measuring:
            self.ok += 1
            self.latencies.append(latency)

    async def connect(self, port: int, count: int) -> None:
        """Open the keep-alive connections once; every turn reuses them."""
        loop = asyncio.get_running_loop()
        for _ in range(count):
            _, conn = await loop.create_connection(lambda: Connection(self), "127.0.0.1", port)
            self.conns.append(conn)

    async def turn(self, seconds: float, measure: bool) -> None:
        """Keep every connection busy for `seconds`, then let in-flight replies land."""
        self.active, self.measuring, start = True, measure, time.perf_counter()
        for conn in self.conns:
            conn.send()
        await watchful_sleep(seconds)
        self.active = self.measuring = False
        if measure:
            self.elapsed += time.perf_counter() - start
        await self.drain()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait out in-flight replies, so the next server's turn starts on a quiet core."""
        deadline = time.perf_counter() + timeout
        while any(conn.busy for conn in self.conns):
            if time.perf_counter() > deadline:
                raise SystemExit("a server stopped answering mid-run")
            await asyncio.sleep(0.0005)

    def close(self) -> LoadResult:
        """Hang up and summarise: req/s over measured time only, nearest-rank p50/p99."""
        self.closing = True
        for conn in self.conns:
            conn.transport.close()
        lat = sorted(self.latencies)
        p50, p99 = (lat[int(q * (len(lat) - 1))] for q in (0.50, 0.99)) if lat else (None,) * 2
        return LoadResult(self.ok / self.elapsed, self.ok, self.failed, p50, p99)


class Connection(asyncio.Protocol):
    """One keep-alive connection: send, read the reply by Content-Length, send again
    while the target's turn lasts."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.buf = b""
        self.need: int | None = None
        self.status = 0
        self.sent_at = 0.0
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def send(self) -> None:
        self.busy, self.sent_at = True, time.perf_counter()
        self.transport.write(self.target.request)

    def data_received(self, data: bytes) -> None:
        try:
            self.parse(data)
        except ValueError:  # unparseable reply: count it and drop the connection
            self.target.failed += 1
            self.busy = False
            self.transport.close()

    def parse(self, data: bytes) -> None:
        """Accumulate until a whole reply is in, then record it and maybe send again."""
        buf = self.buf + data if self.buf else data
        if self.need is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            self.status = int(buf[9:12])
            self.need = end + 4 + content_length(buf[:end])
        if len(buf) < self.need:
            self.buf = buf
            return
        if len(buf) > self.need:  # one request in flight: extra bytes mean a broken reply
            self.target.failed += 1
        self.buf, self.need, self.busy = b"", None, False
        self.target.done(self.status, time.perf_counter() - self.sent_at)
        if self.target.active:
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.busy = False
        if not self.target.closing:
            self.target.failed += 1


async def watchful_sleep(seconds: float) -> None:
    """Sleep in 0.1 s slices, leaving early if SIGTERM arrived while uvloop swallowed it."""
    end = time.perf_counter() + seconds
    while (left := end - time.perf_counter()) > 0:
        if TERMINATED.is_set():
            raise SystemExit(128 + signal.SIGTERM)
        await asyncio.sleep(min(0.1, left))


def turns(args: argparse.Namespace) -> int:
    """How many measured turns each server gets: `--duration` split into SLICE pieces."""
    return max(1, round(args.duration / SLICE))


async def drive(ports: dict[str, int], args: argparse.Namespace) -> dict[str, LoadResult]:
    """Connect to every server, warm each up, then alternate measured turns."""
    targets = {name: Target(http_request("POST", "/v1/chat/completions", port, CHAT_BODY))
               for name, port in ports.items()}
    for name, target in targets.items():
        await target.connect(ports[name], args.concurrency)
        await target.turn(args.warmup_seconds, measure=False)
    for _ in range(turns(args)):
        for target in targets.values():
            await target.turn(args.duration / turns(args), measure=True)
    return {name: target.close() for name, target in targets.items()}


@contextlib.contextmanager
def pinned_to(core: int) -> Iterator[None]:
    """Pin this thread to `core` for the block (Linux affinity is per thread)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def python_load(ports: dict[str, int], args: argparse.Namespace) -> dict[str, LoadResult]:
    """The in-script generator: raw asyncio protocols on uvloop, pinned to CLIENT_CORE."""
    import uvloop

    with pinned_to(CLIENT_CORE), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(drive(ports, args))


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
    return "python (asyncio protocols on uvloop, raw HTTP/1.1; wrk not installed)", python_load


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


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for the table, "—" when not measured."""
    return "—" if seconds is None else f"{seconds * 1000:.2f}"


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


# ---------------------------------------------------------------- (c) cold start


def cold_start_once() -> float:
    """Seconds from Popen to the first 200 of GET /v1/models, polled every 5 ms."""
    port = free_port()
    ready = http_request("GET", "/v1/models", port)
    start = time.perf_counter()
    with running(mockshot_cmd(port), port, ready):
        return time.perf_counter() - start


def slowest_imports(count: int = 5) -> tuple[int, list[tuple[int, int, str]]]:
    """Total µs of `import mockshot.app`, and (cumulative µs, self µs, module) of its
    slowest imports. The roots (`mockshot`, `mockshot.app`) are the total, so they are left
    out of the list; a module listed twice (re-imported name) keeps its larger entry."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mockshot.app"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stderr
    found: dict[str, tuple[int, int, str]] = {}
    for line in out.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if match:
            row = (int(match.group(2)), int(match.group(1)), match.group(3))
            found[row[2]] = max(found.get(row[2], row), row)
    total = max(found.values())[0]
    rest = [row for name, row in found.items() if name not in ("mockshot", "mockshot.app")]
    return total, sorted(rest, reverse=True)[:count]


STARTUP_PROBE = """import time
t0 = time.perf_counter()
import mockshot.app, mockshot.cli, mockshot.server
t1 = time.perf_counter()
mockshot.app.create_app(mockshot.Settings(log_level="warning"))
print(t1 - t0, time.perf_counter() - t1)
"""


def startup_parts(runs: int = 3) -> dict[str, float]:
    """Median seconds for interpreter start, `serve`'s imports and create_app(): the parts
    of a cold start that are not uvicorn binding and answering."""
    bare, imports, build = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
        out = subprocess.run([sys.executable, "-c", STARTUP_PROBE], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
        imports.append(float(out[0]))
        build.append(float(out[1]))
    return {"interpreter start (`python -c pass`)": statistics.median(bare),
            "import mockshot.app + cli + server": statistics.median(imports),
            "create_app() (Mock: spec, schemas, catalog, tokenizer)": statistics.median(build)}


def bench_coldstart(args: argparse.Namespace) -> list[Row]:
    """(c): how long a CI job or `docker run` waits before the mock answers."""
    section("(c) cold start: `python -m mockshot serve --port <free>` → first 200 /v1/models")
    runs = [cold_start_once() for _ in range(args.runs)]
    med = statistics.median(runs)
    print(f"- {args.runs} runs (ms): " + ", ".join(f"{r * 1000:.0f}" for r in runs))
    print(f"- median {med * 1000:.0f} ms\n\nWhere it goes (median of 3, separate processes):\n")
    for part, seconds in startup_parts().items():
        print(f"- {part}: {seconds * 1000:.0f} ms")
    total, slowest = slowest_imports()
    print(f"\n`python -X importtime -c \"import mockshot.app\"`: {total / 1000:.0f} ms in all; "
          "the 5 slowest imports under it, by cumulative time:\n")
    print("| module | cumulative ms | self ms |\n|---|---:|---:|")
    for cumulative, own, module in slowest:
        print(f"| {module} | {cumulative / 1000:.1f} | {own / 1000:.1f} |")
    return [Row(f"cold start to first 200, median of {args.runs} (ms)", f"{med * 1000:.0f}",
                "—", "—", "≤ 1000 ms", verdict(med <= 1.0))]


# ---------------------------------------------------------------- report and main


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
    """Flags; defaults give a full run of about a minute on two cores."""
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
    parser.add_argument("--only", choices=["inprocess", "served", "coldstart"])
    parser.add_argument("--profile", action="store_true",
                        help="instead: cProfile --calls in-process mockshot calls, top 15")
    return parser.parse_args(argv)


def check_cores() -> None:
    """The served comparison is only fair with server and load on separate cores."""
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
    if args.only in (None, "served"):
        check_cores()
    steps = {"inprocess": bench_inprocess, "served": bench_served, "coldstart": bench_coldstart}
    rows = [row for name, step in steps.items() if args.only in (None, name)
            for row in step(args)]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
