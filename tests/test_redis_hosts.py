"""Two mockshot hosts on one Redis (`mockshot serve --store redis://...`, two processes on
two ports, as behind a load balancer; the first with two workers of its own) behave as
one service: a tier's RPM admits exactly its limit across both, concurrent debits sum
exactly, a scripted sequence hands each reply out once, the journal shows every call,
the virtual clock moves for both, and seeded replies are the same whichever answers."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from collections import Counter

import pytest

from mockshot.transport import httpx_module

HELLO = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "Hello there"}]}
CONFIG = """
tier = 9
[[tiers]]
tier = 9
rpm = 20
[[tiers]]
tier = 8
rpm = 100000
[[accounts]]
id = "debits"
keys = ["sk-debits"]
balance = 5.0
tier = 8
"""
SCENARIO = """
rules:
  - name: ticket
    match: {contains: ticket}
    times: 10
    reply: [{content: t0}, {content: t1}, {content: t2}, {content: t3}, {content: t4},
            {content: t5}, {content: t6}, {content: t7}, {content: t8}, {content: t9}]
"""
DB = 1  # this module's database on the session's redis-server


def serve(folder, url: str, *flags: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockshot", "serve", "--port", "0", "--store", url,
         "--clock", "virtual", "--log-level", "warning", "--config",
         str(folder / "mockshot.toml"), "--scenario", str(folder / "tickets.yaml"), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert " at " in line, process.stderr.read()
    return process, line.split(" at ")[1].strip().removesuffix("/v1")


@pytest.fixture(scope="module")
def hosts(redis_server, tmp_path_factory):
    """Two hosts' base URLs, sharing database DB (emptied first)."""
    import redis

    redis.Redis(port=redis_server.port, db=DB).flushdb()
    folder = tmp_path_factory.mktemp("hosts")
    (folder / "mockshot.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "tickets.yaml").write_text(SCENARIO, encoding="utf-8")
    started = [serve(folder, redis_server.url(DB), "--workers", "2"),
               serve(folder, redis_server.url(DB))]
    try:
        for _, url in started:
            with httpx_module().Client(base_url=url, timeout=30) as http:
                for _ in range(200):  # the workers answer once health does, twice over
                    if http.get("/_mockshot/health").status_code == 200:
                        break
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(15)


def spread(urls: list[str], count: int, body: dict, key: str,
           headers: dict | None = None) -> list:
    """`count` calls at once from `count` threads, alternating between the hosts."""
    replies: list = [None] * count

    def call(index: int) -> None:
        with httpx_module().Client(base_url=urls[index % len(urls)], timeout=30) as own:
            replies[index] = own.post("/v1/chat/completions", json=body, headers={
                "Authorization": f"Bearer {key}", **(headers or {})})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def control(url: str, method: str, path: str, **kwargs):
    with httpx_module().Client(base_url=url, timeout=30) as http:
        return http.request(method, f"/_mockshot/{path}", **kwargs).json()


def journal(url: str, account: str) -> list[dict]:
    """The journal's entries of `account` (as the journal shows it: an id, or a key cut
    short)."""
    entries = control(url, "GET", "journal", params={"limit": 100000})["data"]
    return [e for e in entries if e["account"].startswith(account)]


def test_a_tiers_rpm_admits_exactly_its_limit_across_both_hosts(hosts):
    statuses = Counter(r.status_code for r in spread(hosts, 64, HELLO, "sk-rpm"))
    assert statuses == {200: 20, 429: 44}
    control(hosts[0], "POST", "clock", json={"advance": 60})
    assert Counter(r.status_code for r in spread(hosts, 30, HELLO, "sk-rpm")) == \
        {200: 20, 429: 10}


def test_concurrent_debits_from_64_clients_over_both_hosts_sum_exactly(hosts):
    replies = spread(hosts, 64, HELLO, "sk-debits")
    assert Counter(r.status_code for r in replies) == {200: 64}
    costs = [e["cost"] for e in journal(hosts[1], "debits")]
    assert len(costs) == 64 and all(cost > 0 for cost in costs)
    shown = [control(url, "GET", "accounts/sk-debits") for url in hosts]
    assert shown[0] == shown[1] and shown[0]["account"] == "debits"
    # a lost debit is ~1.7e-4 USD; the balance is shown rounded to 5 places
    assert shown[0]["data"]["cash_balance"] == pytest.approx(5.0 - math.fsum(costs), abs=1e-5)
    assert shown[0]["usage"]["concurrency"] == 0


def test_a_scripted_sequence_hands_out_each_reply_once_across_both(hosts):
    body = {**HELLO, "messages": [{"role": "user", "content": "a ticket please"}]}
    replies = spread(hosts, 20, body, "sk-tickets")
    contents = sorted(r.json()["choices"][0]["message"]["content"] for r in replies)
    scripted = [c for c in contents if c.startswith("t") and len(c) == 2]
    assert scripted == [f"t{i}" for i in range(10)] and len(contents) == 20
    for url in hosts:
        uses = {r["name"]: r["uses"] for r in control(url, "GET", "rules")["data"]}
        assert uses == {"ticket": 10}


def test_the_journal_shows_every_call_of_both_hosts(hosts):
    before = [len(control(url, "GET", "journal", params={"limit": 100000})["data"])
              for url in hosts]
    spread(hosts, 10, HELLO, "sk-journal")
    after = [control(url, "GET", "journal", params={"limit": 100000})["data"] for url in hosts]
    assert before[0] == before[1] and len(after[0]) == before[0] + 10
    assert after[0] == after[1]
    assert len(journal(hosts[0], "sk-jou")) == 10


def test_moving_the_virtual_clock_on_one_host_moves_the_other(hosts):
    now = control(hosts[0], "POST", "clock", json={"advance": 3600})["now"]
    assert control(hosts[1], "GET", "clock")["now"] == now
    created = {r.json()["created"] for r in spread(hosts[1:], 6, HELLO, "sk-clock")}
    assert created == {int(now)}
    moved = control(hosts[1], "POST", "clock", json={"set": now + 7})["now"]
    assert control(hosts[0], "GET", "clock")["now"] == moved == now + 7


def test_seeded_output_is_the_same_whichever_host_answers(hosts):
    body = {**HELLO, "messages": [{"role": "user", "content": "seeded"}]}
    pinned = {r.json()["choices"][0]["message"]["content"] for r in spread(
        hosts, 8, body, "sk-seeded", {"X-Mockshot-Seed": "7"})}
    assert len(pinned) == 1
    unpinned = {**HELLO, "messages": [{"role": "user", "content": "the nth identical call"}]}
    first = []
    for url in hosts:  # the same call, first on one host, then (after a reset) the other
        control(url, "POST", "reset", json={"keep_accounts": True})
        reply = spread([url], 1, unpinned, "sk-seeded")[0].json()
        first.append((reply["choices"][0]["message"]["content"], reply["created"]))
    assert first[0] == first[1]
