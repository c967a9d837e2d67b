"""What every section of the benchmark shares: the request, the table row, and servers.

Servers are real subprocesses (`python -m mockshot serve`, uvicorn on bench/bare_app.py)
pinned to SERVER_CORE, answering a 200 before a block uses them and stopped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for the table, "—" when not measured."""
    return "—" if seconds is None else f"{seconds * 1000:.2f}"


# ---------------------------------------------------------------- servers and sockets


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick for port 0, released again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(method: str, path: str, port: int, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> bytes:
    """A pre-built HTTP/1.1 keep-alive request, byte for byte what goes on the wire;
    `headers` adds lines such as X-Mockshot-Pacing."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {KEY}\r\n")
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    return (head + "\r\n").encode() + body


def content_length(head: bytes) -> int:
    """The Content-Length of a sized response head (streams are chunked: see sse.py)."""
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


async def watchful_sleep(seconds: float) -> None:
    """Sleep in 0.1 s slices, leaving early if SIGTERM arrived while uvloop swallowed it."""
    end = time.perf_counter() + seconds
    while (left := end - time.perf_counter()) > 0:
        if TERMINATED.is_set():
            raise SystemExit(128 + signal.SIGTERM)
        await asyncio.sleep(min(0.1, left))


@contextlib.contextmanager
def pinned_to(core: int) -> Iterator[None]:
    """Pin this thread to `core` for the block (Linux affinity is per thread)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)

