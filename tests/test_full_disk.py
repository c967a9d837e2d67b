"""A full disk under --state-dir: every call (each keeps a journal entry) answers a clean
500 in the envelope, nothing half-written appears, the connection stays usable, and the
mock recovers by itself when space returns.

The disk is a 2 MB tmpfs the test mounts (CI runs as root, as does this machine); a
filler file takes the space, and removing it gives the space back.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from mockshot.transport import httpx_module

AUTH = {"Authorization": "Bearer sk-disk"}
CHAT = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"this test mounts a tmpfs (needs root): {done.stderr}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    filler = disk / f"filler-{uuid.uuid4().hex}"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_answers_clean_500s_and_the_mock_recovers(small_disk):
    process = subprocess.Popen(
        [sys.executable, "-m", "mockshot", "serve", "--port", "0", "--clock", "virtual",
         "--state-dir", str(small_disk / "state"), "--log-level", "critical"],
        stdout=subprocess.PIPE, text=True)
    url = process.stdout.readline().split(" at ")[1].strip().removesuffix("/v1")
    try:
        with httpx_module().Client(base_url=url, timeout=30) as http:
            assert http.post("/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
            filler = fill(small_disk)
            refused = [http.post("/v1/chat/completions", json=CHAT, headers=AUTH)
                       for _ in range(3)]
            upload = http.post("/v1/files", headers=AUTH, data={"purpose": "file-extract"},
                               files={"file": ("big.txt", b"x" * 300_000, "text/plain")})
            listing = http.get("/v1/models", headers=AUTH)  # even a read: its journal entry
            for reply in [*refused, upload, listing]:
                assert reply.status_code == 500, reply.text
                error = reply.json()["error"]
                assert error["type"] == "server_error" and "could not keep its state" in \
                    error["message"]

            filler.unlink()  # space returns
            assert http.post("/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
            kept = http.post("/v1/files", headers=AUTH, data={"purpose": "file-extract"},
                             files={"file": ("big.txt", b"y" * 300_000, "text/plain")})
            assert kept.status_code == 200, kept.text
            listed = http.get("/v1/files", headers=AUTH).json()["data"]
            assert [f["id"] for f in listed] == [kept.json()["id"]]  # no half-kept upload
            assert http.get("/_mockshot/journal").status_code == 200
    finally:
        process.terminate()
        process.wait(10)
    assert list((small_disk / "state" / "files" / "tmp").iterdir()) == []
