"""Faults through the official openai SDK: every kind, scripted by a rule or asked for with
the X-Mockshot-Fault header (on chat, models and balance alike), seeded so a failing run
replays exactly, and journaled with what is needed to replay it.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading

import openai
import pytest

from mockshot import Mock, Settings, async_http_client, create_app, error, fault, http_client
from mockshot.state.journal import JournalEntry
from mockshot.transport import httpx_module

KEY = "sk-test"
OVERLOADED = "The engine is currently overloaded, please try again later"
SERVER_ERROR = "The server had an error while processing your request"
CHAT = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "Tell me a story"}]}


@pytest.fixture
def connect():
    """`connect(mock, fault=...)`: the openai SDK in-process, with steering headers."""
    made = []

    def make(mock: Mock, fault: str | None = None, seed: int | None = None) -> openai.OpenAI:
        inner = http_client(create_app(mock=mock))
        made.append(inner)
        headers = {"X-Mockshot-Fault": fault} if fault else {}
        if seed is not None:
            headers["X-Mockshot-Seed"] = str(seed)
        return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                             http_client=inner, max_retries=0, default_headers=headers)

    yield make
    for inner in made:
        inner.close()


@pytest.fixture
def raw(mock):
    """A plain in-process HTTP client, to see the bytes a fault sends."""
    with http_client(create_app(mock=mock)) as client:
        yield client


def post(raw, fault_header: str | None = None, **body):
    headers = {"Authorization": f"Bearer {KEY}"}
    if fault_header:
        headers["X-Mockshot-Fault"] = fault_header
    return raw.post("/v1/chat/completions", json={**CHAT, **body}, headers=headers)


def chat(client, **body):
    reply = client.chat.completions.create(**{**CHAT, **body})
    return list(reply) if body.get("stream") else reply


def last(mock: Mock) -> JournalEntry:
    return mock.journal()[-1]


def elapsed(mock: Mock, action) -> float:
    """Virtual seconds `action` took on the mock's clock."""
    start = mock.clock.now()
    action()
    return mock.clock.now() - start


# --- before any byte: latency, errors, timeout, reset -----------------------------------------


@pytest.mark.parametrize("ms", [0, 250, 1500, 60_000])
def test_latency_advances_the_virtual_clock_by_exactly_ms(mock, connect, ms):
    client = connect(mock)
    mock.on(contains="story").reply(fault("latency", ms=ms))
    seconds = elapsed(mock, lambda: chat(client))
    assert seconds == pytest.approx(ms / 1000, abs=1e-6)
    assert last(mock).fault == "latency" and last(mock).status == 200


def test_latency_between_ms_and_max_ms_is_drawn_from_the_seed(connect):
    def waits(seed: int) -> list[float]:
        mock = Mock(Settings(clock="virtual", seed=seed))
        client = connect(mock, fault="latency:ms=100,max_ms=900")
        return [round(elapsed(mock, lambda: chat(client)), 6) for _ in range(6)]

    first = waits(7)
    assert all(0.1 <= w <= 0.9 for w in first) and len(set(first)) > 1
    assert waits(7) == first
    assert waits(8) != first


RPM = (r"Your account org-[0-9a-f]{16}<cak-[0-9a-f]{12}> request reached organization max "
       r"RPM: 3, please try again after \d+ seconds")
ERRORS = [
    ("rate_limit", openai.RateLimitError, 429, "rate_limit_reached_error", RPM, "1"),
    ("rate_limit:retry_after=7", openai.RateLimitError, 429, "rate_limit_reached_error", RPM,
     "7"),
    ("overloaded", openai.RateLimitError, 429, "engine_overloaded_error", OVERLOADED, "1"),
    ("overloaded:retry_after=30", openai.RateLimitError, 429, "engine_overloaded_error",
     OVERLOADED, "30"),
    ("server_error", openai.InternalServerError, 500, "server_error", SERVER_ERROR, None),
    ("rate_limit:message=slow down", openai.RateLimitError, 429, "rate_limit_reached_error",
     "slow down", "1"),
]


@pytest.mark.parametrize(("header", "exception", "status", "kind", "message", "retry_after"),
                         ERRORS)
def test_error_faults_answer_the_real_error(mock, connect, header, exception, status, kind,
                                            message, retry_after):
    with pytest.raises(exception) as caught:
        chat(connect(mock, fault=header))
    assert caught.value.status_code == status
    assert caught.value.body["type"] == kind
    assert re.fullmatch(message, caught.value.body["message"])
    assert caught.value.response.headers.get("retry-after") == retry_after
    assert last(mock).fault == header.split(":")[0]
    assert mock.balance(KEY).available == 1000.0  # a refused call is not billed


@pytest.mark.parametrize("script", ["fault", "error"])
def test_a_rate_limit_message_names_the_wait_retry_after_gives(mock, connect, script):
    """The real text says when to come back ('please try again after N seconds'); a client
    reading it must not be told 1 s while Retry-After says N."""
    wait = 5
    if script == "fault":
        mock.on(contains="story").reply(fault("rate_limit", retry_after=wait))
    else:
        mock.on(contains="story").reply(error("rate_limit_reached_error", retry_after=wait))
    with pytest.raises(openai.RateLimitError) as caught:
        chat(connect(mock))
    assert caught.value.response.headers["retry-after"] == str(wait)
    assert caught.value.body["message"].endswith(f"please try again after {wait} seconds")


@pytest.mark.parametrize(("header", "seconds"), [("timeout", 900.0), ("timeout:ms=3000", 3.0)])
def test_timeout_answers_504_after_its_delay(mock, connect, header, seconds):
    client, start = connect(mock, fault=header), mock.clock.now()
    with pytest.raises(openai.InternalServerError) as caught:
        chat(client)
    assert caught.value.status_code == 504
    assert caught.value.body == {"message": "upstream request timeout", "type": "server_error"}
    assert mock.clock.now() - start == pytest.approx(seconds)
    assert last(mock).fault == "timeout"


def test_reset_drops_the_connection_in_process(mock, connect):
    with pytest.raises(openai.APIConnectionError):
        chat(connect(mock, fault="reset"))
    assert last(mock).reset is True and last(mock).fault == "reset"


@pytest.fixture
def over_socket(served):
    """`over_socket(fault)`: the openai SDK to the session's served mock, no reply checks
    (a fault's broken body must reach the SDK's own parser, not a test hook)."""
    made = []

    def make(fault: str | None = None) -> openai.OpenAI:
        inner = httpx_module().Client()
        made.append(inner)
        return openai.OpenAI(api_key=KEY, base_url=f"{served.url}/v1", http_client=inner,
                             max_retries=0,
                             default_headers={"X-Mockshot-Fault": fault} if fault else {})

    yield make
    for inner in made:
        inner.close()


def test_reset_drops_the_connection_over_a_socket(served, over_socket):
    client = over_socket("reset")
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(**CHAT)
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
    assert [e.reset for e in served.mock.journal()[-2:]] == [True, True]
    assert over_socket().models.list().data  # the server itself is fine


# --- in the body: truncated JSON, broken streams -----------------------------------------------


def test_truncated_body_fails_in_the_clients_json_parser(mock, connect):
    with pytest.raises(json.JSONDecodeError):
        chat(connect(mock, fault="truncated_body"))


@pytest.mark.parametrize(("header", "kept"), [("truncated_body", None),
                                              ("truncated_body:bytes=40", 40)])
def test_truncated_body_is_the_same_reply_cut_short(header, kept):
    def reply(fault_header: str | None):
        with http_client(create_app(mock=Mock(Settings(clock="virtual")))) as raw:
            return post(raw, fault_header)

    whole, cut = reply(None).content, reply(header)
    assert cut.status_code == 200
    assert cut.content == whole[: len(whole) // 2 if kept is None else kept]
    assert int(cut.headers["content-length"]) == len(cut.content)  # the HTTP layer is fine


def test_truncated_body_over_a_socket(over_socket):
    with pytest.raises(json.JSONDecodeError):
        over_socket("truncated_body").chat.completions.create(**CHAT)


def frames(response) -> list[bytes]:
    return [f for f in response.content.split(b"\n\n") if f]


@pytest.mark.parametrize("done", [False, True])
def test_stream_cut_ends_after_n_frames_with_or_without_done(mock, connect, raw, done):
    header = f"stream_cut:after=3,done={str(done).lower()}"
    chunks = chat(connect(mock, fault=header), stream=True)
    assert len(chunks) == 3
    assert all(c.choices[0].finish_reason is None for c in chunks)
    sent = frames(post(raw, header, stream=True))
    assert len(sent) == 3 + done
    assert (sent[-1] == b"data: [DONE]") is done


def test_stream_cut_after_zero_sends_nothing(mock, connect):
    assert chat(connect(mock, fault="stream_cut"), stream=True) == []


@pytest.mark.parametrize(("header", "expected"), [
    ("error_frame:after=2", {"message": OVERLOADED, "type": "engine_overloaded_error"}),
    ("error_frame:after=2,type=server_error", {"message": SERVER_ERROR, "type": "server_error"}),
])
def test_error_frame_breaks_the_stream_with_the_real_error(mock, connect, raw, header,
                                                           expected):
    with pytest.raises(openai.APIError) as caught:
        chat(connect(mock, fault=header), stream=True)
    assert caught.value.message == expected["message"]
    assert caught.value.body == expected
    sent = frames(post(raw, header, stream=True))
    assert len(sent) == 3 and json.loads(sent[-1][6:]) == {"error": expected}
    assert last(mock).chunks_sent == 3


def test_malformed_frame_is_cut_mid_json_and_the_stream_goes_on():
    def sent(header: str | None) -> list[bytes]:
        with http_client(create_app(mock=Mock(Settings(clock="virtual")))) as raw:
            return frames(post(raw, header, stream=True))

    clean, sent = sent(None), sent("malformed_frame:after=2")
    assert sent[:2] == clean[:2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(sent[2][6:])
    assert clean[2].startswith(sent[2])
    assert sent[3:] == clean[3:]


def test_malformed_frame_fails_the_async_sdks_parser(mock):
    async def run() -> None:
        client = openai.AsyncOpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                                    http_client=async_http_client(create_app(mock=mock)),
                                    max_retries=0)
        stream = await client.chat.completions.create(
            **CHAT, stream=True, extra_headers={"X-Mockshot-Fault": "malformed_frame:after=2"})
        with pytest.raises(json.JSONDecodeError):
            async for _ in stream:
                pass

    asyncio.run(asyncio.wait_for(run(), timeout=10))


def test_malformed_frame_over_a_socket(over_socket):
    seen = []
    with pytest.raises(json.JSONDecodeError):
        for chunk in over_socket("malformed_frame:after=2").chat.completions.create(
                **CHAT, stream=True):
            seen.append(chunk)
    assert len(seen) == 2


STUCK: list = []  # what a hung call holds, kept alive so it is never collected mid-suite


def test_malformed_frame_fails_the_sync_sdks_parser_in_process(mock):
    """The sync SDK closes the response when the frame does not parse; the in-process
    transport must let it (the app still has frames queued), not hang."""
    client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                           http_client=http_client(create_app(mock=mock)), max_retries=0,
                           default_headers={"X-Mockshot-Fault": "malformed_frame:after=2"})
    outcome: list = []

    def consume() -> None:
        try:
            chat(client, stream=True)
        except Exception as exc:  # which one is asserted below
            outcome.append(exc)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    worker.join(timeout=3)
    if worker.is_alive():
        STUCK.append((client, worker))
        pytest.fail("the sync openai SDK hung closing an in-process stream after a bad frame")
    assert len(outcome) == 1 and isinstance(outcome[0], json.JSONDecodeError)


@pytest.mark.parametrize("ms", [500, 5000])
def test_slow_first_token_delays_the_stream_by_exactly_ms(connect, ms):
    def duration(header: str | None) -> float:
        mock = Mock(Settings(clock="virtual"))
        client = connect(mock, fault=header)
        return elapsed(mock, lambda: chat(client, stream=True))

    normal = duration(None)
    assert duration(f"slow_first_token:ms={ms}") - normal == pytest.approx(ms / 1000, abs=1e-6)


def test_a_stream_fault_on_a_call_that_does_not_stream_is_refused(mock, connect):
    with pytest.raises(openai.BadRequestError, match="stream_cut breaks a stream, and this "
                                                     "call does not stream"):
        chat(connect(mock, fault="stream_cut:after=1"))


# --- other operations, by header --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/models", "/users/me/balance"])
def test_the_fault_header_works_on_models_and_balance(mock, connect, path):
    def get(header: str):
        return connect(mock, fault=header).get(path, cast_to=object)

    with pytest.raises(openai.RateLimitError) as caught:
        get("rate_limit:retry_after=3")
    assert caught.value.response.headers["retry-after"] == "3"
    with pytest.raises(openai.InternalServerError):
        get("server_error")
    with pytest.raises(openai.InternalServerError) as timeout:
        get("timeout:ms=20")
    assert timeout.value.status_code == 504
    with pytest.raises(openai.APIConnectionError):
        get("reset")
    with pytest.raises(json.JSONDecodeError):
        get("truncated_body")
    assert elapsed(mock, lambda: get("latency:ms=400")) == pytest.approx(0.4, abs=1e-6)
    with pytest.raises(openai.BadRequestError, match="slow_first_token breaks a stream"):
        get("slow_first_token:ms=400")  # a stream fault cannot happen here: refused
    assert [e.fault for e in mock.journal()] == [
        "rate_limit", "server_error", "timeout", "reset", "truncated_body", "latency", None]


@pytest.mark.parametrize(("header", "detail"), [
    ("explode", "unknown fault kind 'explode'"),
    ("latency:ms", "'ms' is not key=value"),
    ("latency:speed=3", "unknown fault field(s) speed"),
])
def test_a_bad_fault_header_is_a_400_that_says_why(mock, connect, header, detail):
    with pytest.raises(openai.BadRequestError) as caught:
        chat(connect(mock, fault=header))
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["message"].startswith(f"Invalid request: X-Mockshot-Fault {header!r}")
    assert detail in caught.value.body["message"]


def test_the_header_fault_wins_over_the_rules(mock, connect):
    mock.on(contains="story").reply(fault("server_error"))
    with pytest.raises(openai.RateLimitError):
        chat(connect(mock, fault="overloaded"))
    assert last(mock).rule == mock.rules()[0].name


# --- seeds: the same failures again, and only the call decides ----------------------------------


def statuses_with(settings_seed: int, header_seed: int | None = None,
                  scripted: bool = False, calls: int = 16) -> list[int]:
    mock = Mock(Settings(clock="virtual", seed=settings_seed))
    if scripted:
        mock.on(contains="story").reply(fault("server_error", probability=0.5))
    header = None if scripted else "server_error:probability=0.5"
    out = []
    with http_client(create_app(mock=mock)) as inner:
        client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                               http_client=inner, max_retries=0,
                               default_headers={"X-Mockshot-Fault": header} if header else {})
        for _ in range(calls):
            try:
                chat(client, **({"extra_headers": {"X-Mockshot-Seed": str(header_seed)}}
                                if header_seed is not None else {}))
                out.append(200)
            except openai.InternalServerError:
                out.append(500)
    return out


@pytest.mark.parametrize("scripted", [False, True], ids=["header", "rule"])
def test_probability_faults_replay_with_the_seed(scripted):
    first = statuses_with(0, scripted=scripted)
    assert set(first) == {200, 500}
    assert statuses_with(0, scripted=scripted) == first
    assert statuses_with(1, scripted=scripted) != first


def test_a_rule_served_fault_replays_with_the_same_seed_and_uses():
    """A rule's draws follow its uses, so a pinned seed replays the same sequence."""
    first = statuses_with(0, scripted=True)
    assert statuses_with(1, header_seed=0, scripted=True) == first


def test_a_pinned_seed_draws_the_same_fault_on_every_identical_call():
    once = statuses_with(0, header_seed=7)
    assert len(set(once)) == 1 and statuses_with(1, header_seed=7) == once


def test_each_generated_calls_fault_replays_from_its_journal_seed():
    mock = Mock(Settings(clock="virtual", seed=0))
    app = create_app(mock=mock)
    headers = {"Authorization": f"Bearer {KEY}", "X-Mockshot-Fault": "server_error:probability=0.5"}
    with http_client(app) as inner:
        first = [inner.post("/v1/chat/completions", json=CHAT, headers=headers).status_code
                 for _ in range(16)]
    assert set(first) == {200, 500}
    for entry, status in zip(mock.journal(), first, strict=True):
        fresh = create_app(Settings(clock="virtual", seed=99))
        with http_client(fresh) as inner:
            again = inner.post("/v1/chat/completions", json=CHAT,
                               headers={**headers, "X-Mockshot-Seed": str(entry.seed)})
        assert again.status_code == status, entry


def test_probability_faults_on_other_operations_replay_with_the_seed():
    def statuses(seed: int) -> list[int]:
        mock = Mock(Settings(clock="virtual", seed=seed))
        mock.on(operation="models").reply(fault("overloaded", probability=0.5))
        with http_client(create_app(mock=mock)) as inner:
            return [inner.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})
                    .status_code for _ in range(16)]

    assert set(statuses(3)) == {200, 429}
    assert statuses(3) == statuses(3)
    assert statuses(4) != statuses(3)


def run_the_call(client, times: int, interleave: bool) -> list[tuple]:
    """The same call `times` times (with a seeded fault on it), optionally with unrelated
    calls in between; what each of the same calls got."""
    out = []
    for index in range(times):
        if interleave:
            chat(client, messages=[{"role": "user", "content": f"Unrelated {index}"}])
            chat(client, model="kimi-k2.6", stream=True)
            client.models.list()
        try:
            reply = chat(client, extra_headers={"X-Mockshot-Fault": "server_error:probability=0.5"})
            # the id's first 8 hex are `created`, which follows the clock (streams move it)
            out.append((reply.id[17:], reply.choices[0].message.content))
        except openai.InternalServerError:
            out.append("500")
    return out


def test_a_calls_reply_depends_only_on_seed_call_and_ordinal(connect):
    alone = run_the_call(connect(Mock(Settings(clock="virtual"))), 10, interleave=False)
    mixed = run_the_call(connect(Mock(Settings(clock="virtual"))), 10, interleave=True)
    assert mixed == alone
    assert "500" in alone and any(r != "500" for r in alone)
    assert len({r for r in alone if r != "500"}) == len([r for r in alone if r != "500"])


def flaky_story(seed: int = 0) -> Mock:
    mock = Mock(Settings(clock="virtual", seed=seed))
    mock.on(name="story", contains="story").reply(fault("latency", ms=10)).then(
        fault("error_frame", after=1))
    return mock


def test_the_journal_shows_rule_use_fault_and_seed_to_replay(connect):
    mock = flaky_story(seed=1234)
    client = connect(mock)
    first = chat(client)
    with pytest.raises(openai.APIError):
        chat(client, stream=True)
    entries = mock.journal()
    assert [(e.rule, e.rule_use, e.fault, e.seed) for e in entries] == [
        ("story", 0, "latency", 1234), ("story", 1, "error_frame", 1234)]
    assert entries[1].chunks_sent == 2
    # replay: the same rules and calls, the journal's seed sent as X-Mockshot-Seed
    replayed = chat(connect(flaky_story(), seed=entries[0].seed))
    assert (replayed.id, replayed.choices[0].message.content) == (
        first.id, first.choices[0].message.content)
    other = chat(connect(flaky_story(), seed=4321))
    assert other.choices[0].message.content != first.choices[0].message.content
