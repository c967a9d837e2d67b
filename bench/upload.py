"""(g) upload: a 100 MiB multipart upload through `read_upload` into a temporary file, MB/s
and the peak resident-memory growth of the process reading it (goal < 30 MB): in-process
from a fake ASGI `receive`, and served by uvicorn (bench/upload_app.py) from a raw socket
sending it chunked, without a Content-Length."""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys

import orjson
from common import (
    CLIENT_CORE,
    HERE,
    ROOT,
    SERVER_CORE,
    Row,
    content_length,
    free_port,
    http_request,
    pinned_to,
    running,
    section,
    verdict,
)

MIB = 100
GOAL_KIB = 30 * 1000  # 30 MB


def inprocess_once() -> dict:
    out = subprocess.run([sys.executable, str(HERE / "upload_app.py"), "--inprocess", str(MIB)],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return orjson.loads(out)


def served_cmd(port: int) -> list[str]:
    """uvicorn with the stack `mockshot serve` runs, on the upload app."""
    return [sys.executable, "-m", "uvicorn", "upload_app:app", "--app-dir", str(HERE),
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http",
            "httptools", "--no-access-log", "--log-level", "warning", "--lifespan", "off"]


def send_chunked(port: int) -> dict:
    """POST the upload with Transfer-Encoding: chunked, 64 KiB frames; the server's JSON."""
    import upload_app

    head = (f"POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked"
            f"\r\nContent-Type: multipart/form-data; boundary={upload_app.BOUNDARY}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head.encode())
        for chunk in [upload_app.head(), *upload_app.file_chunks(MIB << 20), upload_app.tail()]:
            sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.partition(b"\r\n\r\n")[2]) < content_length(
                reply.partition(b"\r\n\r\n")[0]):
            reply += sock.recv(65536)
    return orjson.loads(reply.partition(b"\r\n\r\n")[2])


def served(runs: int) -> list[dict]:
    port = free_port()
    with running(served_cmd(port), port, http_request("GET", "/", port), core=SERVER_CORE), \
            pinned_to(CLIENT_CORE):
        return [send_chunked(port) for _ in range(runs)]


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
    """(g): what a 100 MiB upload costs the process that reads it."""
    section("(g) upload: 100 MiB multipart, no Content-Length, into a temporary file")
    print("| path | runs | MB/s (median) | peak RSS growth per run, KiB |\n|---|---:|---:|---|")
    rows = [report("in-process, fake ASGI receive, 64 KiB chunks",
                   [inprocess_once() for _ in range(3)])]
    rows.append(report("served by uvicorn (httptools, uvloop), chunked over loopback",
                       served(3)))
    return rows
