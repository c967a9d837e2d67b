"""Record and replay, end to end: a session recorded through a mock forwarding to a second
mockshot (faults on: a stream cut, an error frame, a malformed frame, a 429 with
Retry-After), then the recorded directory served as an ordinary scenario gives every
client the same bytes — in-process and over a socket, recorded either way.
"""

from __future__ import annotations

import json
import time

import openai
import pytest

from mockshot import ServedMock, Settings, create_app, http_client
from mockshot.scenarios.files import read_scenario_file
from mockshot.state.clock import VIRTUAL_EPOCH
from mockshot.transport import httpx_module

from . import spec_check
from .recording import AUTH, KEY, UPSTREAM_RULES, chat, run_session, seen


@pytest.fixture(scope="module")
def upstream():
    """The second mockshot, standing in for the real service."""
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning", seed=7)) as served:
        served.mock.scenarios.load_sync(UPSTREAM_RULES)
        yield served


def restart(upstream) -> None:
    """Forget the session (the 429 rule answers once) and set the clock back, so the same
    calls get the same bytes."""
    upstream.mock.reset()
    upstream.mock.clock.set(VIRTUAL_EPOCH)


@pytest.fixture
def fresh(upstream):
    restart(upstream)
    return upstream


def recording_settings(upstream, out, **extra) -> Settings:
    return Settings(clock="virtual", log_level="warning", record_upstream=upstream.url,
                    record_out=str(out), **extra)


def replay_settings(out, **extra) -> Settings:
    return Settings(clock="virtual", log_level="warning", scenario=(str(out),), **extra)


def record_in_process(upstream, out) -> list:
    with http_client(create_app(recording_settings(upstream, out))) as client:
        return run_session(client)


def replay_in_process(out) -> list:
    with http_client(create_app(replay_settings(out))) as client:
        return run_session(client)


def replay_served(out) -> list:
    with ServedMock(replay_settings(out, port=0)) as served, \
            httpx_module().Client(base_url=served.url) as client:
        return run_session(client)


def test_the_recording_client_sees_what_the_upstream_sent(fresh, tmp_path):
    """Forwarding changes nothing: the same calls straight to the upstream (reset, same
    seeds) give the same bytes as through the recorder."""
    through = record_in_process(fresh, tmp_path)
    restart(fresh)
    with httpx_module().Client(base_url=fresh.url) as client:
        direct = run_session(client)
    assert [s.status for s in through] == [200, 200, 200, 200, 200, 200, 200, 429, 200, 200,
                                           200]
    assert [s.body for s in through] == [s.body for s in direct]
    assert through[7].retry_after == "2"


@pytest.mark.parametrize("replay", [replay_in_process, replay_served],
                         ids=["in-process", "served"])
def test_a_recorded_session_replays_byte_for_byte(fresh, tmp_path, replay):
    recorded = record_in_process(fresh, tmp_path)
    assert replay(tmp_path) == recorded


def test_a_session_recorded_over_a_socket_replays_in_process(fresh, tmp_path):
    with ServedMock(recording_settings(fresh, tmp_path, port=0)) as recorder, \
            httpx_module().Client(base_url=recorder.url) as client:
        recorded = run_session(client)
    assert replay_in_process(tmp_path) == recorded


def test_the_faults_are_in_the_recording_as_they_came(fresh, tmp_path):
    recorded = record_in_process(fresh, tmp_path)
    cut, error, garbled = (s.body for s in recorded[4:7])
    assert b"[DONE]" not in cut and cut.count(b"data: ") == 3
    assert error.rstrip().endswith(b'"type":"engine_overloaded_error"}}')
    assert any(not frame.startswith(b"{") or not frame.endswith(b"}")
               for frame in garbled.split(b"data: ")[1:-1])
    document = read_scenario_file(str(tmp_path / "recording.yaml"))
    busy = next(r for r in document["rules"]
                if r["match"]["conversation"]["last_user"] == "busy?")
    first, retry = busy["reply"]
    assert first["recorded"]["status"] == 429
    assert first["recorded"]["headers"]["retry-after"] == "2"
    assert retry["recorded"]["status"] == 200


def test_a_replay_past_the_recording_repeats_its_last_reply(fresh, tmp_path):
    """A 429 and the retry that succeeded: then the success again (the scenario's "first
    unused, then the last one again")."""
    recorded = record_in_process(fresh, tmp_path)
    with http_client(create_app(replay_settings(tmp_path))) as client:
        answers = [seen(client.post("/v1/chat/completions", headers=AUTH,
                                    json=chat("busy?"))) for _ in range(3)]
    assert answers == [recorded[7], recorded[8], recorded[8]]


def test_the_openai_sdk_reads_a_replay_as_it_read_the_recording(fresh, tmp_path):
    def ask(app) -> list:
        inner = http_client(app, event_hooks={"response": [spec_check.hook]})
        client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                               http_client=inner, max_retries=0)
        reply = client.chat.completions.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "Hi"}])
        stream = client.chat.completions.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "Hi"}], stream=True)
        return [reply.model_dump(), [chunk.model_dump() for chunk in stream]]

    recorded = ask(create_app(recording_settings(fresh, tmp_path)))
    assert ask(create_app(replay_settings(tmp_path))) == recorded


def test_unmatched_calls_fall_back_to_the_generator_or_fail_in_strict_mode(fresh, tmp_path):
    record_in_process(fresh, tmp_path)
    with http_client(create_app(replay_settings(tmp_path))) as client:
        generated = client.post("/v1/chat/completions", headers=AUTH, json=chat("new"))
    assert generated.status_code == 200
    with http_client(create_app(replay_settings(tmp_path, strict=True))) as client:
        refused = client.post("/v1/chat/completions", headers=AUTH, json=chat("Hallo"))
    assert refused.status_code == 422
    message = refused.json()["error"]["message"]
    assert "recording-1: the last user message is 'Hallo', not 'Hello'" in message


def test_the_upstreams_timing_is_recorded_and_replayed_on_the_mocks_clock(tmp_path):
    """A paced upstream (real clock): each frame keeps its wait, and a replay waits the
    same on the mock's clock — scaled by replay_pacing, none with pacing off or the
    instant header."""
    pacing = {"X-Mockshot-Pacing": "ttft_ms=150,tokens_per_second=200"}
    body = chat("Hello", True, max_tokens=20, thinking={"type": "disabled"})
    with ServedMock(Settings(port=0, log_level="warning")) as paced, \
            http_client(create_app(recording_settings(paced, tmp_path))) as client:
        client.post("/v1/chat/completions", headers={**AUTH, **pacing}, json=body)
    frames = read_scenario_file(str(tmp_path / "recording.yaml"))["rules"][0]["reply"][
        "recorded"]["frames"]
    assert max(frame["delay_ms"] for frame in frames) >= 140  # the time to first token
    recorded = sum(frame["delay_ms"] for frame in frames) / 1000

    def waited(headers: dict | None = None, **settings) -> float:
        app = create_app(replay_settings(tmp_path, **settings))
        start = app.mock.clock.now()
        with http_client(app) as client:
            client.post("/v1/chat/completions", headers={**AUTH, **(headers or {})},
                        json=body)
        return app.mock.clock.now() - start

    assert waited() == pytest.approx(recorded, abs=1e-3)
    assert waited(replay_pacing=0.5) == pytest.approx(recorded / 2, abs=1e-3)
    assert waited(replay_pacing=0) == waited(pacing=False) == 0
    assert waited({"X-Mockshot-Pacing": "instant"}) == 0


def test_a_forwarded_stream_reaches_the_client_as_it_arrives(tmp_path):
    pacing = {"X-Mockshot-Pacing": "ttft_ms=0,tokens_per_second=20"}
    body = chat("Hello", True, max_tokens=20, thinking={"type": "disabled"})
    with ServedMock(Settings(port=0, log_level="warning")) as paced, \
            http_client(create_app(recording_settings(paced, tmp_path))) as client, \
            client.stream("POST", "/v1/chat/completions", headers={**AUTH, **pacing},
                          json=body) as response:
        arrivals = [time.monotonic() for _ in response.iter_raw()]
    assert arrivals[-1] - arrivals[0] >= 0.5  # 20 tokens at 20/s: the first came long before


def test_a_stream_the_client_abandons_is_not_recorded(tmp_path):
    pacing = {"X-Mockshot-Pacing": "ttft_ms=0,tokens_per_second=20"}
    body = chat("Hello", True, max_tokens=40, thinking={"type": "disabled"})
    with ServedMock(Settings(port=0, log_level="warning")) as paced:
        app = create_app(recording_settings(paced, tmp_path))
        with http_client(app) as client:
            with client.stream("POST", "/v1/chat/completions", headers={**AUTH, **pacing},
                               json=body) as response:
                next(response.iter_raw())
            client.post("/v1/chat/completions", headers=AUTH, json=chat("after"))
    rules = read_scenario_file(str(tmp_path / "recording.yaml"))["rules"]
    assert [r["match"]["conversation"]["last_user"] for r in rules] == ["after"]


def test_an_upstream_that_does_not_answer_is_a_502_and_nothing_is_written(tmp_path):
    settings = Settings(clock="virtual", log_level="warning",
                        record_upstream="http://127.0.0.1:9", record_out=str(tmp_path))
    with http_client(create_app(settings)) as client:
        response = client.post("/v1/chat/completions", headers=AUTH, json=chat("Hello"))
    assert response.status_code == 502
    assert "the upstream http://127.0.0.1:9 did not answer" in response.json()["error"][
        "message"]
    assert not (tmp_path / "recording.yaml").exists()


def test_rules_of_the_recording_mock_answer_before_the_upstream(fresh, tmp_path):
    app = create_app(recording_settings(fresh, tmp_path))
    app.mock.on(contains="local").reply("answered here")
    with http_client(app) as client:
        local = client.post("/v1/chat/completions", headers=AUTH, json=chat("local?"))
        client.post("/v1/chat/completions", headers=AUTH, json=chat("Hello"))
    assert local.json()["choices"][0]["message"]["content"] == "answered here"
    rules = read_scenario_file(str(tmp_path / "recording.yaml"))["rules"]
    assert [r["match"]["conversation"]["last_user"] for r in rules] == ["Hello"]


def test_recording_into_a_loaded_directory_adds_only_new_calls(fresh, tmp_path):
    record_in_process(fresh, tmp_path)
    before = read_scenario_file(str(tmp_path / "recording.yaml"))["rules"]
    settings = recording_settings(fresh, tmp_path, scenario=(str(tmp_path),))
    with http_client(create_app(settings)) as client:
        again = client.post("/v1/chat/completions", headers=AUTH, json=chat("Hello"))
        client.post("/v1/chat/completions", headers=AUTH, json=chat("Something new"))
    after = read_scenario_file(str(tmp_path / "recording.yaml"))["rules"]
    assert after[:-1] == before
    assert after[-1]["match"]["conversation"]["last_user"] == "Something new"
    assert json.loads(again.content) == json.loads(
        before[0]["reply"]["recorded"]["body"])
