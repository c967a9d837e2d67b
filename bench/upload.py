"""(g) upload: a 100 MiB file through the real `POST /v1/files` (purpose batch, so nothing is
extracted: the bytes are streamed into the blob area and recorded), MB/s and the peak
resident-memory growth of the process serving it (goal < 30 MB):

- in-process: the ASGI app called directly from a fake `receive` handing it 64 KiB chunks,
  the growth read from this process (in a subprocess, so nothing else it did counts);
- served: `mockshot serve` (uvicorn, httptools, uvloop) on its own core, the body sent
  chunked, without a Content-Length, from a raw socket; the server's growth read from its
  /proc/<pid>/status.

Memory (Linux): the peak (VmHWM) is reset to the current RSS by writing 5 to
/proc/<pid>/clear_refs before the upload, and read again after it, so the growth is the
upload's alone, whatever the process did before.

    .venv/bin/python bench/upload.py --inprocess 100    # one in-process upload, as JSON
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
from common import (
    CLIENT_CORE,
    HERE,
    KEY,
    ROOT,
    SERVER_CORE,
    Row,
    content_length,
    free_port,
    http_request,
    mockshot_cmd,
    pinned_to,
    running,
    section,
    verdict,
)

MIB = 100
GOAL_KIB = 30 * 1000  # 30 MB
BOUNDARY = "mockshot-bench-4f1c"
CHUNK = 64 * 1024  # what uvicorn hands an app at a time (its high-water mark)


def status_kib(pid: int | str, field: str) -> int:
    """A `VmRSS`/`VmHWM`-style line of /proc/<pid>/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int | str) -> int:
    """Start VmHWM again from the current RSS (Linux 4.0+); that RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return status_kib(pid, "VmHWM")


def head() -> bytes:
    """Everything before the file's bytes: the purpose field and the file part's headers."""
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
            f"batch\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n").encode()


def tail() -> bytes:
    return f"\r\n--{BOUNDARY}--\r\n".encode()


def file_chunks(total: int) -> Iterator[bytes]:
    """`total` bytes of varied data, each chunk a new object as a server receives them."""
    pattern = bytes(range(256)) * (CHUNK // 256 + 1)
    sent = 0
    while sent < total:
        size = min(CHUNK, total - sent)
        yield pattern[sent % 251: sent % 251 + size]
        sent += size


def body_chunks(mib: int) -> Iterator[bytes]:
    yield head()
    yield from file_chunks(mib << 20)
    yield tail()


async def _inprocess(mib: int) -> dict:
    from mockshot import Settings, create_app

    app = create_app(Settings(clock="virtual", log_level="warning"))
    pieces = body_chunks(mib)
    ahead = [next(pieces)]
    status, reply = 0, b""

    async def receive() -> dict:
        chunk = ahead.pop()
        following = next(pieces, None)
        if following is not None:
            ahead.append(following)
        return {"type": "http.request", "body": chunk, "more_body": following is not None}

    async def send(message: dict) -> None:
        nonlocal status, reply
        status = message.get("status", status)
        reply += message.get("body", b"")

    scope = {"type": "http", "method": "POST", "path": "/v1/files", "query_string": b"",
             "headers": [(b"authorization", f"Bearer {KEY}".encode()),
                         (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]}
    before = reset_peak("self")
    start = time.perf_counter()
    await app(scope, receive, send)
    seconds = time.perf_counter() - start
    if status != 200:
        raise SystemExit(f"in-process upload answered {status}: {reply[:200]!r}")
    return {"bytes": orjson.loads(reply)["bytes"], "seconds": seconds,
            "rss_growth_kib": status_kib("self", "VmHWM") - before}


def inprocess_once() -> dict:
    out = subprocess.run([sys.executable, str(HERE / "upload.py"), "--inprocess", str(MIB)],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return orjson.loads(out)


def send_chunked(port: int, pid: int) -> dict:
    """POST the upload with Transfer-Encoding: chunked, 64 KiB frames; its figures."""
    request = (f"POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Authorization: Bearer {KEY}\r\nTransfer-Encoding: chunked\r\n"
               f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n").encode()
    before = reset_peak(pid)
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        for chunk in body_chunks(MIB):
            sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.partition(b"\r\n\r\n")[2]) < content_length(
                reply.partition(b"\r\n\r\n")[0]):
            reply += sock.recv(65536)
    seconds = time.perf_counter() - start
    if not reply.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"served upload failed: {reply[:300]!r}")
    return {"bytes": orjson.loads(reply.partition(b"\r\n\r\n")[2])["bytes"],
            "seconds": seconds, "rss_growth_kib": status_kib(pid, "VmHWM") - before}


def served(runs: int) -> list[dict]:
    port = free_port()
    cmd = mockshot_cmd(port, "--log-level", "warning", "--clock", "virtual")
    with running(cmd, port, http_request("GET", "/v1/models", port), core=SERVER_CORE) as proc, \
            pinned_to(CLIENT_CORE):
        return [send_chunked(port, proc.pid) for _ in range(runs)]  # taskset execs: same pid


def report(label: str, results: list[dict]) -> Row:
    mbps = statistics.median(r["bytes"] / r["seconds"] / 1e6 for r in results)
    # The kernel syncs RSS counters in batches, so a figure is good to a few hundred KiB
    # and may read slightly below zero when nothing grew.
    growth = max(0, *(r["rss_growth_kib"] for r in results))
    print(f"| {label} | {len(results)} | {mbps:.0f} | "
          f"{', '.join(str(r['rss_growth_kib']) for r in results)} |")
    return Row(f"upload 100 MiB, {label}: MB/s; peak RSS growth (largest of {len(results)})",
               f"{mbps:.0f} MB/s; {growth / 1000:.1f} MB", "—", "—", "< 30 MB",
               verdict(growth < GOAL_KIB))


def bench_upload(args: argparse.Namespace) -> list[Row]:
    """(g): what a 100 MiB upload costs the process that serves it."""
    section("(g) upload: 100 MiB through POST /v1/files (purpose batch), into the blob area")
    print("| path | runs | MB/s (median) | peak RSS growth per run, KiB |\n|---|---:|---:|---|")
    rows = [report("in-process, the ASGI app from a fake receive, 64 KiB chunks",
                   [inprocess_once() for _ in range(3)])]
    rows.append(report("`mockshot serve` (uvicorn, httptools, uvloop), chunked over loopback",
                       served(3)))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inprocess", type=int, metavar="MIB", required=True)
    print(orjson.dumps(asyncio.run(_inprocess(parser.parse_args().inprocess))).decode())
