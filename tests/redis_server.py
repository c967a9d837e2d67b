"""A real `redis-server` for the tests: started on a free loopback port in a directory of
its own, persisting nothing, stopped at the end. A machine without redis-server fails
the tests that need it (never skips them): `.ci/run` installs it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["RedisServer"]

START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """`with RedisServer(tmp) as server: server.url(db)`."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; the Redis store's tests need "
                               "it (apt-get install redis-server; .ci/run does this)")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # a port taken between the probe and the start: try another
            self.port = port or _free_port()
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                 str(directory), "--save", "", "--appendonly", "no", "--databases", "64"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._started():
                return
            self.process.kill()
            self.process.wait(5)
        raise RuntimeError("redis-server did not start on a loopback port")

    def _started(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if _answers(self.port):
                return True
            time.sleep(0.02)
        return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
