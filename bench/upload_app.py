"""An upload server for the benchmark: `read_upload` into a temporary file and nothing else,
reporting its own peak memory growth. Until the files handler is wired this is the whole of
what `POST /v1/files` will do with the bytes; the store's bookkeeping is small beside them.

    uvicorn upload_app:app --app-dir bench ...     # served: POST a multipart body
    python bench/upload_app.py --inprocess 100     # in-process: a 100 MiB body, chunked

Memory is read from /proc/self/status (Linux): the peak (VmHWM) is reset to the current RSS
by writing 5 to /proc/self/clear_refs before the body is read, and read again after it, so
the growth is the upload's alone, whatever the process did before.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockshot.resources.files.upload import read_upload

BOUNDARY = "mockshot-bench-4f1c"
CHUNK = 64 * 1024  # what uvicorn hands an app at a time (its high-water mark)


def status_kib(field: str) -> int:
    """A `VmRSS`/`VmHWM`-style line of /proc/self/status, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+)."""
    Path("/proc/self/clear_refs").write_text("5")


async def measured(receive: Callable, content_type: str, length: str | None) -> dict:
    """Read one upload into a temporary file; its size, seconds and peak RSS growth."""
    reset_peak()
    before = status_kib("VmHWM")  # = the RSS at the reset
    start = time.perf_counter()
    with tempfile.TemporaryFile(prefix="mockshot-upload-") as sink:
        upload = await read_upload(receive, content_type, sink, content_length=length)
    seconds = time.perf_counter() - start
    return {"bytes": upload.size, "seconds": seconds,
            "rss_growth_kib": status_kib("VmHWM") - before}


async def app(scope: dict, receive: Callable, send: Callable) -> None:
    """GET: 200 (ready). POST: one measured upload, its figures as JSON."""
    if scope["type"] != "http":
        return
    body = b"ok"
    if scope["method"] == "POST":
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = orjson.dumps(await measured(receive, headers.get("content-type", ""),
                                           headers.get("content-length")))
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def head() -> bytes:
    """Everything before the file's bytes: the purpose field and the file part's headers."""
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
            f"file-extract\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()


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


def inprocess(mib: int) -> dict:
    """A `mib` MiB file through read_upload from a fake ASGI receive, without a length."""
    pieces = iter([head(), *file_chunks(mib << 20), tail()])
    ahead = [next(pieces)]

    async def receive() -> dict:
        chunk = ahead.pop()
        following = next(pieces, None)
        if following is not None:
            ahead.append(following)
        return {"type": "http.request", "body": chunk, "more_body": following is not None}

    return asyncio.run(measured(receive, f"multipart/form-data; boundary={BOUNDARY}", None))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inprocess", type=int, metavar="MIB", required=True)
    print(orjson.dumps(inprocess(parser.parse_args().inprocess)).decode())
