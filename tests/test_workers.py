"""`mockshot serve --workers 2 --state-dir DIR`: two processes on one port that behave as
one service — a tier's RPM admits exactly its limit across both, a scripted sequence hands
each reply out once, the virtual clock moves for both, seeded replies are the same."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from mockshot.transport import httpx_module

KEY = "sk-workers"
HELLO = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "Hello there"}]}
CONFIG = """
tier = 9
[[tiers]]
tier = 9
rpm = 20
"""
SCENARIO = """
rules:
  - name: ticket
    match: {contains: ticket}
    times: 10
    reply: [{content: t0}, {content: t1}, {content: t2}, {content: t3}, {content: t4},
            {content: t5}, {content: t6}, {content: t7}, {content: t8}, {content: t9}]
"""


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workers")
    (folder / "mockshot.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "tickets.yaml").write_text(SCENARIO, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "mockshot", "serve", "--port", "0", "--workers", "2",
         "--state-dir", str(folder / "state"), "--clock", "virtual", "--log-level", "warning",
         "--config", str(folder / "mockshot.toml"), "--scenario", str(folder / "tickets.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert " at " in line, process.stderr.read()
    url = line.split(" at ")[1].strip().removesuffix("/v1")
    with httpx_module().Client(base_url=url, timeout=30) as http:
        for _ in range(200):  # both workers have started once health answers twice over
            if http.get("/_mockshot/health").status_code == 200:
                break
        yield process, http
    process.terminate()
    process.wait(15)


def at_once(http, count: int, body: dict, key: str = KEY) -> list:
    """`count` calls from `count` threads at once; the replies."""
    replies: list = [None] * count
    url = str(http.base_url)

    def call(index: int) -> None:
        with httpx_module().Client(base_url=url, timeout=30) as own:
            replies[index] = own.post("/v1/chat/completions", json=body,
                                      headers={"Authorization": f"Bearer {key}"})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_two_workers_serve_one_port(workers):
    process, _ = workers
    assert len(children(process.pid)) >= 2


def test_a_tiers_rpm_admits_exactly_its_limit_across_both_workers(workers):
    _, http = workers
    statuses = Counter(r.status_code for r in at_once(http, 64, HELLO))
    assert statuses == {200: 20, 429: 44}
    http.post("/_mockshot/clock", json={"advance": 60})
    assert Counter(r.status_code for r in at_once(http, 30, HELLO)) == {200: 20, 429: 10}


def test_a_scripted_sequence_hands_out_each_reply_once_across_both(workers):
    _, http = workers
    http.post("/_mockshot/clock", json={"advance": 60})
    body = {**HELLO, "messages": [{"role": "user", "content": "a ticket please"}]}
    replies = at_once(http, 20, body, key="sk-tickets")  # another account: its own RPM
    contents = sorted(r.json()["choices"][0]["message"]["content"] for r in replies
                      if r.status_code == 200)
    scripted = [c for c in contents if c.startswith("t") and len(c) == 2]
    assert scripted == [f"t{i}" for i in range(10)]
    assert len(contents) == 20  # the other ten: generated, the rule being used up
    uses = {r["name"]: r["uses"] for r in http.get("/_mockshot/rules").json()["data"]}
    assert uses == {"ticket": 10}


def test_moving_the_virtual_clock_moves_every_worker(workers):
    _, http = workers
    now = http.post("/_mockshot/clock", json={"advance": 3600}).json()["now"]
    created = {r.json()["created"] for r in at_once(http, 12, HELLO, key="sk-clock")}
    assert created == {int(now)}


def test_a_pinned_seed_gives_one_reply_whichever_worker_answers(workers):
    _, http = workers
    http.post("/_mockshot/clock", json={"advance": 60})
    body = {**HELLO, "messages": [{"role": "user", "content": "seeded"}]}
    url = str(http.base_url)
    seen = set()
    for _ in range(12):  # new connections: the kernel spreads them over both workers
        with httpx_module().Client(base_url=url) as own:
            reply = own.post("/v1/chat/completions", json=body, headers={
                "Authorization": "Bearer sk-seeded", "X-Mockshot-Seed": "7"}).json()
        seen.add((reply["id"][17:], reply["choices"][0]["message"]["content"]))
    assert len(seen) == 1


def test_the_journal_shows_every_call_of_both_workers(workers):
    _, http = workers
    before = len(http.get("/_mockshot/journal", params={"limit": 100000}).json()["data"])
    at_once(http, 10, HELLO, key="sk-journal")
    after = http.get("/_mockshot/journal", params={"limit": 100000}).json()["data"]
    assert len(after) == before + 10


def test_workers_without_shared_state_are_refused():
    done = subprocess.run([sys.executable, "-m", "mockshot", "serve", "--port", "0",
                           "--workers", "2"], capture_output=True, text=True, timeout=30,
                          env={**os.environ})
    assert done.returncode == 2 and "--state-dir" in done.stderr
