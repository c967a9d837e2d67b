"""The Redis store in one process, on a real redis-server: what a chat request costs in
round trips, the shared virtual clock's cell, what stays per process (test partitions),
and that only choosing `--store redis://` imports the client."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys

import pytest

from mockshot import Mock, Settings, create_app, http_client
from mockshot.settings import SettingsError
from mockshot.state.redis import RedisStore

HELLO = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "Hello there"}]}
AUTH = {"Authorization": "Bearer sk-trips"}
_dbs = itertools.count(8)  # databases of this module (the hosts' tests use 1)


@pytest.fixture
def url(redis_server) -> str:
    """A database of its own on the session's server, emptied first."""
    import redis

    db = next(_dbs)
    redis.Redis(port=redis_server.port, db=db).flushdb()
    return redis_server.url(db)


@pytest.fixture
def mock(url):
    made = Mock(Settings(store=url, clock="virtual", tier=9,
                         tiers=({"tier": 9, "concurrency": 100, "rpm": 1000},)))
    yield made
    made.store.close()


class Trips:
    """Counts what the mock sends to Redis: every command, and every pipeline (sent in
    one write), is one send on a redis-py connection, and one round trip."""

    def __init__(self, monkeypatch) -> None:
        from redis.asyncio.connection import AbstractConnection

        self.count = 0
        original = AbstractConnection.send_packed_command

        async def counted(*args, **kwargs):
            self.count += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


def test_a_chat_request_makes_two_round_trips(mock, monkeypatch):
    trips = Trips(monkeypatch)
    with http_client(create_app(mock=mock)) as http:
        # the first call also reads the rules (their version moved) and may load scripts
        assert http.post("/v1/chat/completions", json=HELLO, headers=AUTH).status_code == 200
        first = trips.count
        for _ in range(10):
            assert http.post("/v1/chat/completions", json=HELLO,
                             headers=AUTH).status_code == 200
    assert trips.count - first == 20


def test_a_scripted_limited_call_is_still_two_and_a_stream_says_what_it_adds(mock, monkeypatch):
    mock.on(contains="ticket").reply("t0").then("t1")
    trips = Trips(monkeypatch)
    ticket = {**HELLO, "messages": [{"role": "user", "content": "a ticket"}]}
    with http_client(create_app(mock=mock)) as http:
        http.post("/v1/chat/completions", json=HELLO, headers=AUTH)
        before = trips.count
        reply = http.post("/v1/chat/completions", json=ticket, headers=AUTH).json()
        assert reply["choices"][0]["message"]["content"] == "t0"
        assert trips.count - before == 2
        before = trips.count
        streamed = http.post("/v1/chat/completions", json={**HELLO, "stream": True},
                             headers={**AUTH, "X-Mockshot-Pacing": "instant"})
        assert streamed.status_code == 200 and streamed.text.endswith("[DONE]\n\n")
    # begin, settle, and at the end one step: how far it got, and the slot released
    assert trips.count - before == 3


def test_served_chat_calls_reach_redis_as_two_scripts_each(redis_server, url):
    import redis

    server = redis.Redis(port=redis_server.port)
    mock = Mock(Settings(store=url, clock="virtual"))
    try:
        with http_client(create_app(mock=mock)) as http:
            http.post("/v1/chat/completions", json=HELLO, headers=AUTH)
            server.config_resetstat()
            for _ in range(25):
                http.post("/v1/chat/completions", json=HELLO, headers=AUTH)
            stats = server.info("commandstats")
    finally:
        mock.store.close()
    assert stats["cmdstat_evalsha"]["calls"] == 50
    assert "cmdstat_eval" not in stats  # the scripts were loaded once, then sent by SHA


def test_a_lost_redis_is_a_clean_500_and_the_mock_recovers_when_it_is_back(tmp_path):
    from .redis_server import RedisServer

    first = RedisServer(tmp_path / "first")
    mock = Mock(Settings(store=first.url(), clock="virtual"))
    try:
        with http_client(create_app(mock=mock)) as http:
            assert http.post("/v1/chat/completions", json=HELLO, headers=AUTH).status_code == 200
            first.stop()
            lost = http.post("/v1/chat/completions", json=HELLO, headers=AUTH)
            assert lost.status_code == 500 and lost.json()["error"]["type"] == "server_error"
            with RedisServer(tmp_path / "again", port=first.port):  # empty: scripts reload
                assert http.post("/v1/chat/completions", json=HELLO,
                                 headers=AUTH).status_code == 200
    finally:
        mock.store.close()


# --- the shared virtual clock --------------------------------------------------------------


def test_two_stores_on_one_redis_share_the_clock_from_plain_code(url):
    one = Mock(Settings(store=url, clock="virtual"))
    other = Mock(Settings(store=url, clock="virtual"))
    try:
        one.clock.advance(100)
        assert other.store.sync(other.clock.synced()) == one.clock.now()
        other.clock.set(5_000_000_000.0)
        assert one.store.sync(one.clock.synced()) == 5_000_000_000.0
    finally:
        one.store.close()
        other.store.close()


def test_a_move_on_an_event_loop_reaches_redis_in_order_before_the_next_begin(url):
    one = Mock(Settings(store=url, clock="virtual"))
    other = Mock(Settings(store=url, clock="virtual"))

    async def moves() -> float:
        start = one.clock.now()
        one.clock.set(start + 10)
        one.clock.advance(5)  # sent after the set, never overtaking it
        await one.clock.settled()
        return start + 15

    try:
        expected = asyncio.run(moves())
        assert one.clock.now() == expected
        assert other.store.sync(other.clock.synced()) == expected
    finally:
        one.store.close()
        other.store.close()


def test_an_answer_that_crossed_a_local_move_does_not_undo_it(url):
    store = RedisStore(url, prefix="crossed:")
    try:
        cell = store.shared_time(1000.0)
        moves = cell.moves
        cell.set(2000.0)
        cell.seen(1000.0, moves)  # read before the move
        assert cell.get() == 2000.0
        cell.seen(3000.0, cell.moves)
        assert cell.get() == 3000.0
    finally:
        store.close()


# --- what is per process, and what is imported ---------------------------------------------


def test_a_test_partition_is_this_processs_own_beside_a_shared_store(mock):
    with http_client(create_app(mock=mock)) as http:
        headers = {**AUTH, "X-Mockshot-Test": "tests/x.py::one"}
        http.post("/_mockshot/clock", headers=headers, json={"advance": 50})
        assert http.post("/v1/chat/completions", json=HELLO, headers=headers).status_code == 200
        assert len(http.get("/_mockshot/journal", headers=headers).json()["data"]) == 1
    child = mock.partition("tests/x.py::one")
    assert type(child.store).__name__ == "MemoryStore"
    assert mock.journal() == []  # the shared store saw nothing of the partition
    assert mock.store.sync(mock.clock.synced()) == child.clock.now() - 50


def test_import_mockshot_does_not_import_redis():
    code = "import sys, mockshot, mockshot.mock, mockshot.cli; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://h:port/0",
                                 "redis://127.0.0.1:6379/zero", "redis://:secret@h:1/0",
                                 "sqlite:///tmp/x"])
def test_a_store_that_is_not_redis_host_port_db_is_refused_clearly(url):
    with pytest.raises(SettingsError, match=r"setting store: .* redis://HOST:PORT/DB"):
        Settings().updated({"store": url})


def test_an_unreachable_redis_stops_serve_with_where_and_why(tmp_path):
    with socket_taken() as port:
        done = subprocess.run([sys.executable, "-m", "mockshot", "serve", "--port", "0",
                               "--store", f"redis://127.0.0.1:{port}/0"],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"redis://127.0.0.1:{port}/0 cannot be reached" in done.stderr
    assert "Traceback" not in done.stderr and "pending" not in done.stderr


class socket_taken:
    """A loopback port nothing answers on (bound, never listening)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
