"""What the console reads: journal pages and whole entries (with the replies the client
got), the accounts and scenario panels, the live feed, and the page's own assets."""

from __future__ import annotations

import asyncio
import re
from importlib import resources

import orjson
import pytest

from mockshot import Mock, Settings, async_http_client, create_app, http_client
from mockshot.state.journal import BODY_CAP, JournalEntry

from .conftest import KEY

AUTH = {"Authorization": f"Bearer {KEY}"}
HELLO = [{"role": "user", "content": "Hello"}]


def chat(http, text: str = "Hello", key: str = KEY, **extra):
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": text}], **extra}
    return http.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})


def entry(http, entry_id: int) -> dict:
    found = http.get(f"/_mockshot/journal/{entry_id}")
    assert found.status_code == 200, found.text
    return found.json()


def newest(http) -> dict:
    return http.get("/_mockshot/journal?order=newest&limit=1").json()["data"][0]


# ---- whole entries: what was sent and what was answered ---------------------------------

def test_an_entry_holds_the_reply_the_client_got(http):
    reply = chat(http, "What is in the box?")
    shown = entry(http, newest(http)["id"])
    assert shown["reply"] == {"text": reply.text, "bytes": len(reply.content), "truncated": False}
    assert shown["request"]["messages"][0]["content"] == "What is in the box?"
    assert shown["seed"] == newest(http)["seed"] and shown["surface"] == "openai"


def test_a_streamed_entry_holds_its_frames_in_order_with_their_due_times(http):
    with http.stream("POST", "/v1/chat/completions", headers=AUTH, json={
            "model": "kimi-k2.6", "messages": HELLO, "stream": True}) as reply:
        sent = reply.read()
    shown = entry(http, newest(http)["id"])
    frames = shown["frames"]
    assert "".join(frame["data"] for frame in frames).encode() == sent
    assert frames[-1]["data"] == "data: [DONE]\n\n"
    assert all(frame["sent"] for frame in frames) and shown["chunks_sent"] == len(frames)
    due = [frame["at_ms"] for frame in frames]
    assert due == sorted(due) and due[-1] > 0  # the model's pacing, on the virtual clock
    assert shown["frames_truncated"] is False and "reply" not in shown


def test_an_abandoned_stream_shows_which_frames_were_never_sent(app):
    async def run() -> dict:
        async with async_http_client(app) as http:
            async with http.stream("POST", "/v1/chat/completions", headers=AUTH, json={
                    "model": "kimi-k2.6", "messages": HELLO, "stream": True}) as reply:
                async for _ in reply.aiter_raw():
                    break
            await asyncio.sleep(0.05)
            latest = (await http.get("/_mockshot/journal?order=newest")).json()["data"][0]
            return (await http.get(f"/_mockshot/journal/{latest['id']}")).json()

    shown = asyncio.run(run())
    sent = [frame["sent"] for frame in shown["frames"]]
    assert shown["disconnected"] is True and True in sent and False in sent
    assert sent == sorted(sent, reverse=True)  # a prefix was sent, the rest was not


def test_a_reply_past_the_bound_is_cut_and_says_so(app, mock):
    huge = "x" * (BODY_CAP + 100)
    mock.on(contains="big").reply(content=huge)
    with http_client(app) as http:
        reply = chat(http, "big one")
        shown = entry(http, newest(http)["id"])
    assert shown["reply"]["truncated"] is True and shown["reply"]["bytes"] == len(reply.content)
    assert len(shown["reply"]["text"].encode()) <= BODY_CAP
    assert shown["rule"] == "default:on#1" and shown["rule_use"] == 0  # uses count from 0


def test_an_unknown_entry_is_a_404_in_the_envelope(http):
    for wanted in ("999", "abc", "-1"):
        found = http.get(f"/_mockshot/journal/{wanted}")
        assert found.status_code == 404
        assert found.json()["error"]["type"] == "resource_not_found_error"


def test_a_batch_line_is_journaled_with_its_reply(http):
    line = {"custom_id": "one", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "kimi-k2.6", "messages": HELLO}}
    uploaded = http.post("/v1/files", headers=AUTH, data={"purpose": "batch"},
                         files={"file": ("in.jsonl", orjson.dumps(line) + b"\n")}).json()
    batch = http.post("/v1/batches", headers=AUTH, json={
        "input_file_id": uploaded["id"], "endpoint": "/v1/chat/completions",
        "completion_window": "24h"}).json()
    http.post("/_mockshot/clock", json={"advance": 86_400})
    assert http.get(f"/v1/batches/{batch['id']}", headers=AUTH).json()["status"] == "completed"
    shown = [entry(http, e["id"]) for e in http.get("/_mockshot/journal").json()["data"]]
    (line,) = [e for e in shown if e["surface"] == "batch"]
    assert orjson.loads(line["reply"]["text"])["object"] == "chat.completion"
    assert line["request"]["messages"] == HELLO


# ---- pages: newest first, both ways, with filters ---------------------------------------

@pytest.fixture
def filled(mock):
    """A journal of 250 calls settled straight into the store: statuses 200/429 by turn,
    two accounts."""
    for index in range(250):
        mock.store.sync(mock.store.settle(JournalEntry(
            "POST /v1/chat/completions", "sk-a" if index % 2 else "sk-b",
            429 if index % 5 == 0 else 200, float(index), 1.0, index, model="kimi-k2.6")))
    return mock


def walk(http, query: str) -> list[int]:
    ids, before = [], ""
    while True:
        page = http.get(f"/_mockshot/journal?order=newest&limit=50{query}{before}").json()
        ids += [e["id"] for e in page["data"]]
        if not page["has_more"]:
            return ids
        before = f"&before={page['last_id']}"


def test_pages_walk_the_whole_journal_newest_first_without_gaps(filled, http):
    ids = walk(http, "")
    assert ids == list(range(250, 0, -1))


def test_filtered_pages_count_and_walk_only_what_passes(filled, http):
    page = http.get("/_mockshot/journal?order=newest&limit=10&status=429&key=sk-b").json()
    assert page["total"] == 25 and len(page["data"]) == 10 and page["has_more"]
    assert {(e["status"], e["account"]) for e in page["data"]} == {(429, "sk-b…")}
    assert page["latest_id"] == 250
    assert len(walk(http, "&status=4xx")) == 50


def test_after_walks_forward_and_the_default_order_is_unchanged(filled, http):
    forward = http.get("/_mockshot/journal?after=240&limit=5").json()
    assert [e["id"] for e in forward["data"]] == [241, 242, 243, 244, 245]
    assert forward["has_more"] is True
    default = http.get("/_mockshot/journal?limit=3").json()
    assert [e["id"] for e in default["data"]] == [248, 249, 250]


@pytest.mark.parametrize("query", ["order=sideways", "before=x", "after=-3", "limit=0",
                                   "page=2"])
def test_a_bad_page_query_is_a_400_naming_it(http, query):
    found = http.get(f"/_mockshot/journal?{query}")
    assert found.status_code == 400
    assert query.split("=")[0] in found.json()["error"]["message"]


def test_a_journal_of_ten_thousand_entries_pages_from_the_middle():
    mock = Mock(Settings(clock="virtual", journal_size=10_000))
    for index in range(10_000):
        mock.store.sync(mock.store.settle(JournalEntry(
            "POST /v1/chat/completions", "sk-a", 200, float(index), 1.0, index)))
    with http_client(create_app(mock=mock)) as big:
        page = big.get("/_mockshot/journal?order=newest&limit=50&before=5000").json()
    assert [e["id"] for e in page["data"]] == list(range(4999, 4949, -1))
    assert page["total"] == 10_000 and page["has_more"]


# ---- accounts, files, batches, scenario states ------------------------------------------

def test_accounts_show_balance_windows_files_and_batch_timelines(http):
    chat(http)
    uploaded = http.post("/v1/files", headers=AUTH, data={"purpose": "file-extract"},
                         files={"file": ("notes.txt", b"some notes")}).json()
    found = http.get("/_mockshot/accounts").json()
    (account,) = found["data"]
    balance = http.get("/v1/users/me/balance", headers=AUTH).json()
    assert account["account"] == "sk-tes…" and account["data"] == balance["data"]
    untouched = http.get("/_mockshot/accounts/sk-nobody").json()["data"]["cash_balance"]
    assert account["data"]["cash_balance"] < untouched  # the chat was billed
    assert set(account["usage"]) == {"concurrency", "rpm", "tpm", "tpd"}
    assert [f["id"] for f in account["files"]] == [uploaded["id"]]
    assert account["batches"] == []


def test_a_batch_shows_every_state_its_schedule_reaches(http):
    line = {"custom_id": "one", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "kimi-k2.6", "messages": HELLO}}
    uploaded = http.post("/v1/files", headers=AUTH, data={"purpose": "batch"},
                         files={"file": ("in.jsonl", orjson.dumps(line) + b"\n")}).json()
    http.post("/v1/batches", headers=AUTH, json={"input_file_id": uploaded["id"],
                                                 "endpoint": "/v1/chat/completions",
                                                 "completion_window": "24h"})
    (batch,) = http.get("/_mockshot/accounts").json()["data"][0]["batches"]
    steps = [(step["status"], step["reached"]) for step in batch["timeline"]]
    assert steps[0] == ("validating", True) and steps[-1] == ("completed", False)
    http.post("/_mockshot/clock", json={"advance": 86_400})
    (batch,) = http.get("/_mockshot/accounts").json()["data"][0]["batches"]
    assert batch["status"] == "completed" and all(s["reached"] for s in batch["timeline"])


def test_scenario_states_follow_the_rules(http):
    http.post("/_mockshot/scenarios", json={"scenario": "door", "rules": [
        {"name": "open", "match": {"contains": "open"}, "reply": {"content": "opened"},
         "then_state": "open"}]})
    assert http.get("/_mockshot/scenarios").json()["data"] == [
        {"scenario": "door", "state": "started", "rules": 1}]
    chat(http, "open the door")
    assert http.get("/_mockshot/scenarios").json()["data"][0]["state"] == "open"


# ---- the live feed -----------------------------------------------------------------------

class Events:
    """The feed's events as they come, read from one open stream."""

    def __init__(self, stream) -> None:
        self.pieces, self.buffer = stream.aiter_raw(), b""

    async def next(self, count: int = 1) -> list[tuple[str, dict]]:
        found = []
        while len(found) < count:
            while b"\n\n" not in self.buffer:
                self.buffer += await asyncio.wait_for(anext(self.pieces), 5)
            message, self.buffer = self.buffer.split(b"\n\n", 1)
            if message.startswith(b"event: "):
                kind, data = message.split(b"\n", 1)
                found.append((kind[7:].decode(), orjson.loads(data[6:])))
        return found


def test_the_feed_says_hello_then_each_new_call_and_each_steering(app, mock):
    async def run() -> list[tuple[str, dict]]:
        async with async_http_client(app) as http:
            await http.post("/v1/chat/completions", headers=AUTH,
                            json={"model": "kimi-k2.6", "messages": HELLO})
            async with http.stream("GET", "/_mockshot/events") as feed:
                assert feed.headers["content-type"].startswith("text/event-stream")
                events = Events(feed)
                hello = await events.next()
                await http.post("/v1/chat/completions", headers=AUTH,
                                json={"model": "kimi-k2.6", "messages": HELLO})
                journal = await events.next()
                await http.post("/_mockshot/clock", json={"advance": 5})
                steered = await events.next()
            return hello + journal + steered

    assert asyncio.run(run()) == [("hello", {"latest_id": 1, "test": None}),
                                  ("journal", {"latest_id": 2, "test": None}),
                                  ("state", {"test": None})]
    assert mock.changes.watched is False and mock.changes.watchers == []


def test_a_burst_of_calls_wakes_the_feed_once(app):
    async def run() -> list[tuple[str, dict]]:
        async with async_http_client(app) as http, \
                http.stream("GET", "/_mockshot/events") as feed:
            events = Events(feed)
            await events.next()
            await asyncio.gather(*(http.get("/v1/models", headers=AUTH) for _ in range(40)))
            return await events.next()

    assert asyncio.run(run()) == [("journal", {"latest_id": 40, "test": None})]


def test_nobody_watching_costs_a_call_one_attribute(app, mock, monkeypatch):
    def announced(*_):
        raise AssertionError("announced with nobody watching")

    monkeypatch.setattr(mock.changes, "journal", announced)
    with http_client(app) as http:
        assert chat(http).status_code == 200
        assert http.get("/v1/models", headers=AUTH).status_code == 200


def test_the_feed_of_a_test_partition_is_that_partitions(app):
    async def run() -> list[tuple[str, dict]]:
        mine = {"X-Mockshot-Test": "t1"}
        async with async_http_client(app) as http, \
                http.stream("GET", "/_mockshot/events", headers=mine) as feed:
            events = Events(feed)
            await events.next()
            await http.get("/v1/models", headers=AUTH)  # the root's: not for this feed
            await http.get("/v1/models", headers={**AUTH, **mine})
            return await events.next()

    assert asyncio.run(run()) == [("journal", {"latest_id": 1, "test": "t1"})]


# ---- the page and the admin-token rule ---------------------------------------------------

def guarded_app():
    return create_app(Settings(clock="virtual", host="0.0.0.0", admin_token="s3cret"))


def test_the_page_loads_without_the_token_and_the_data_needs_it():
    with http_client(guarded_app()) as http:
        page = http.get("/_mockshot/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert http.get("/_mockshot/console/console.js").status_code == 200
        for path in ("/_mockshot/events", "/_mockshot/journal", "/_mockshot/accounts"):
            assert http.get(path).status_code == 401
        assert http.get("/_mockshot/journal", headers={
            "X-Mockshot-Admin-Token": "s3cret"}).status_code == 200


def test_assets_carry_an_etag_and_unknown_ones_are_404(app):
    with http_client(app) as http:  # no reply checker: a 304 and a 308 have no JSON body
        assets_answer(http)


def assets_answer(http) -> None:
    first = http.get("/_mockshot/console/console.css")
    assert first.headers["content-type"].startswith("text/css")
    again = http.get("/_mockshot/console/console.css",
                     headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    for name in ("nope.js", "..%2fapi.py", ".hidden.js", "index"):
        assert http.get(f"/_mockshot/console/{name}").status_code == 404
    moved = http.get("/_mockshot", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/_mockshot/"


def test_the_page_reaches_nothing_beyond_the_mock():
    """Offline by construction: every URL in the shipped assets is the mock's own."""
    static = resources.files("mockshot.console").joinpath("static")
    for asset in static.iterdir():
        text = asset.read_text(encoding="utf-8")
        urls = re.findall(r"""(?:src|href)=["']([^"']+)""", text) + \
            re.findall(r"https?://[^\s\"'`]+", text)
        assert all(u.startswith(("/_mockshot/", "#", "data:")) for u in urls), (asset, urls)


def test_the_feed_sees_calls_another_worker_served_on_a_shared_store(tmp_path):
    """Two mocks on one state directory are two workers: a call the second serves never
    announces itself to the first, whose feed finds it by looking at the journal."""
    here = create_app(Settings(clock="virtual", state_dir=str(tmp_path)))
    there = create_app(Settings(clock="virtual", state_dir=str(tmp_path)))

    async def run() -> list[tuple[str, dict]]:
        async with async_http_client(here) as http, async_http_client(there) as other, \
                http.stream("GET", "/_mockshot/events") as feed:
            events = Events(feed)
            hello = await events.next()
            await other.get("/v1/models", headers=AUTH)
            return hello + await events.next()

    assert asyncio.run(run()) == [("hello", {"latest_id": None, "test": None}),
                                  ("journal", {"latest_id": 1, "test": None})]
