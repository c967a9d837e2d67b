"""Reading a served mock's state through its control API, for tests that check that a
refused call changed nothing and that the mock kept answering while it was in flight.

The control API's shapes are stable whatever store sits behind it, so these helpers read
nothing else: the journal, the rules (with their uses), one account, the clock.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

from mockshot.transport import httpx_module

ACCOUNT = "sk-hostile"
_PROBES: dict[str, object] = {}  # one health client per served mock (clients are slow to make)


def _probe(served) -> object:
    if served.url not in _PROBES:
        _PROBES[served.url] = httpx_module().Client(base_url=served.url, timeout=5)
    return _PROBES[served.url]


def snapshot(http) -> dict:
    """What a refused call must leave as it was (its own journal entry aside)."""
    journal = http.get("/_mockshot/journal").json()["data"]
    return {"journal": journal, "rules": http.get("/_mockshot/rules").json(),
            "account": http.get(f"/_mockshot/accounts/{ACCOUNT}").json(),
            "clock": http.get("/_mockshot/clock").json()}


def refused(http, before: dict, status: int = 400) -> None:
    """Only the refused call's journal entry (its 4xx, no ordinal) was added."""
    after = snapshot(http)
    new = after["journal"][len(before["journal"]):]
    assert after["journal"][: len(before["journal"])] == before["journal"]
    assert [(e["status"], e["ordinal"], e["rule"]) for e in new] in ([], [(status, None, None)])
    assert {k: v for k, v in after.items() if k != "journal"} == {
        k: v for k, v in before.items() if k != "journal"}


def responsive(served, request: Callable[[], object]) -> tuple[object, float]:
    """Run `request` in a thread while health is polled: its result and the slowest
    health answer seen while it was in flight."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(request())
        except Exception as exc:  # the caller decides what a dropped connection means
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    slowest, probe = 0.0, _probe(served)
    collecting = gc.isenabled()
    gc.disable()  # a collection pausing this process is no stall of the server's
    try:
        worker.start()
        while worker.is_alive():
            started = time.perf_counter()
            assert probe.get("/_mockshot/health").status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            worker.join(0.002)
        worker.join()
    finally:
        if collecting:
            gc.enable()
    return outcome[0], slowest


class ServedProcess:
    """`mockshot serve` in its own process: what users run, and a server whose event loop
    shares no interpreter lock with the test's threads (so a stall it shows is its own,
    not a pause of the test process)."""

    def __init__(self, *flags: str) -> None:
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockshot", "serve", "--port", "0", "--clock", "virtual",
             "--log-level", "critical", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if " at " not in line:
            self.process.kill()
            raise RuntimeError(f"mockshot serve did not start: {line!r}")
        self.url = line.split(" at ")[1].strip().removesuffix("/v1")

    def __enter__(self) -> ServedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(10)
