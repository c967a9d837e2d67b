"""Stream pacing: each model's time to first token and tokens per second, on the clock.

The expected timings are the catalog's own numbers, read from mockshot/data/models.json
(a model's family, then the model's overrides). On the VirtualClock a stream takes its
model's time in *virtual* seconds (observed here with `mock.clock.now()` as each chunk
reaches an in-process async client) and almost no real time; `X-Mockshot-Pacing`
overrides the timing per request (`instant`, or `ttft_ms=..,tokens_per_second=..,jitter=..`);
a served mock on the real clock takes about the paced time in wall time.

Clients here have no spec-checking response hook: that hook reads a whole body before the
SDK sees its first chunk, which would hide every arrival time.
"""

from __future__ import annotations

import json
import time
from functools import cache
from importlib import resources
from typing import Any

import openai
import pytest

from mockshot import Mock, ServedMock, Settings, async_http_client, create_app, http_client

from . import spec_check

KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
PATH = "/v1/chat/completions"
HELLO = [{"role": "user", "content": "Hello"}]
OFF = {"type": "disabled"}
JITTER = 0.10  # each wait is within ±10% of its nominal value

EVENT = {"type": "function", "function": {
    "name": "create_event", "description": "Put an event in the calendar",
    "parameters": {"type": "object", "properties": {
        "title": {"type": "string"}, "notes": {"type": "string"},
        "attendees": {"type": "array", "items": {"type": "string"}}},
        "required": ["title", "notes", "attendees"]}}}


@cache
def catalog_timing(model: str) -> tuple[float, float]:
    """(time_to_first_token in seconds, tokens_per_second) as models.json gives them."""
    data = json.loads(resources.files("mockshot").joinpath("data/models.json").read_text())
    entry = next(m for m in data["models"] if m["id"] == model)
    merged = {**data["families"][entry["family"]], **entry}
    return merged["time_to_first_token_ms"] / 1000, merged["tokens_per_second"]


def virtual_mock(**settings: Any) -> Mock:
    return Mock(Settings(clock="virtual", log_level="warning", **settings))


def async_sdk(mock: Mock) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                              http_client=async_http_client(create_app(mock=mock)),
                              max_retries=0)


def has_tokens(chunk) -> bool:
    """A chunk that carries generated tokens (not the role chunk, not the finish chunk)."""
    if not chunk.choices:
        return False
    delta = chunk.choices[0].delta
    return bool(delta.content or (delta.model_extra or {}).get("reasoning_content")
                or delta.tool_calls)


def delta_text(chunk) -> str:
    delta = chunk.choices[0].delta
    calls = "".join(c.function.arguments or "" for c in delta.tool_calls or [])
    return (delta.content or "") + ((delta.model_extra or {}).get("reasoning_content") or "") \
        + calls


async def timeline(mock: Mock, headers: dict | None = None,
                   **body: Any) -> tuple[list[tuple[float, Any]], float]:
    """Every chunk with the virtual time (since the request) it reached the client, and the
    real seconds the whole stream took."""
    sdk = async_sdk(mock)
    started, wall = mock.clock.now(), time.perf_counter()
    body.setdefault("messages", HELLO)
    stream = await sdk.chat.completions.create(stream=True, stream_options={
        "include_usage": True}, extra_headers=headers or {}, **body)
    arrivals = [(mock.clock.now() - started, chunk) async for chunk in stream]
    return arrivals, time.perf_counter() - wall


def first_token(arrivals: list) -> tuple[int, float]:
    return next((i, t) for i, (t, chunk) in enumerate(arrivals) if has_tokens(chunk))


def finish_time(arrivals: list) -> float:
    return next(t for t, chunk in arrivals if chunk.choices and chunk.choices[0].finish_reason)


def measured_rate(mock: Mock, arrivals: list) -> float:
    """Tokens per second from the first token to the finish chunk: the reply's tokens
    (usage) less those of the first delta, which the time to first token paid for."""
    index, first_at = first_token(arrivals)
    usage = arrivals[-1][1].usage
    later = usage.completion_tokens - mock.tokenizer.count(delta_text(arrivals[index][1]))
    return later / (finish_time(arrivals) - first_at)


# --- each model's own timing, in virtual time ----------------------------------------------


CASES = {
    "moonshot-v1-8k": {"model": "moonshot-v1-8k"},
    "moonshot-v1-128k": {"model": "moonshot-v1-128k"},
    "kimi-k2-0905-preview": {"model": "kimi-k2-0905-preview"},
    "kimi-k2-turbo-preview": {"model": "kimi-k2-turbo-preview"},
    "kimi-k2-thinking": {"model": "kimi-k2-thinking"},
    "kimi-k2-thinking-turbo": {"model": "kimi-k2-thinking-turbo"},
    "kimi-k2.5": {"model": "kimi-k2.5"},
    "kimi-k2.6": {"model": "kimi-k2.6"},
    "kimi-k2.6 without thinking": {"model": "kimi-k2.6", "extra_body": {"thinking": OFF}},
}


@pytest.mark.anyio
@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
async def test_the_first_token_comes_after_the_models_time_to_first_token(body):
    mock = virtual_mock()
    ttft, _ = catalog_timing(body["model"])
    arrivals, wall = await timeline(mock, **body)
    _, first_at = first_token(arrivals)
    assert ttft * (1 - JITTER) <= first_at <= ttft * (1 + JITTER)
    assert wall < min(1.0, finish_time(arrivals) / 2)  # virtual seconds cost no real ones


@pytest.mark.anyio
@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
async def test_tokens_stream_at_the_models_tokens_per_second(body):
    mock = virtual_mock()
    _, rate = catalog_timing(body["model"])
    arrivals, _ = await timeline(mock, **body)
    assert arrivals[-1][1].usage.completion_tokens >= 10
    assert rate * (1 - JITTER) <= measured_rate(mock, arrivals) <= rate * (1 + JITTER)


CALLS = {
    "short": {"city": "Paris", "unit": "c"},
    "long": {"title": "Summer garden party with the whole neighbourhood",
             "notes": "Bring lemonade, folding chairs, a guitar and plenty of sunscreen; the "
                      "barbecue starts at five and the fireworks after dark.",
             "attendees": ["Alice Martin", "Bob Okafor", "Chen Wei", "Dana Kowalski"]},
}


@pytest.mark.anyio
@pytest.mark.parametrize("arguments", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize("model", ["kimi-k2-0905-preview", "moonshot-v1-8k"])
async def test_tool_call_arguments_stream_at_the_models_tokens_per_second(model, arguments):
    """A tool call's argument tokens (usage counts them with the same tokenizer as text)
    arrive at the model's tokens per second, from the call's first delta to the finish."""
    mock = virtual_mock()
    mock.on(contains="party").reply({"tool_calls": [{"name": "create_event",
                                                     "arguments": arguments}]})
    _, rate = catalog_timing(model)
    arrivals, _ = await timeline(mock, model=model, tools=[EVENT],
                                 messages=[{"role": "user", "content": "Plan the party"}])
    assert arrivals[-2][1].choices[0].finish_reason == "tool_calls"
    _, head_at = first_token(arrivals)
    text = "".join(delta_text(c) for _, c in arrivals if c.choices and c.choices[0].delta)
    assert json.loads(text) == arguments
    argument_rate = mock.tokenizer.count(text) / (finish_time(arrivals) - head_at)
    assert rate * (1 - JITTER) <= argument_rate <= rate * (1 + JITTER)


@pytest.mark.anyio
async def test_the_stream_moves_the_virtual_clock_and_nothing_else_does():
    mock = virtual_mock()
    started = mock.clock.now()
    arrivals, _ = await timeline(mock, model="moonshot-v1-8k")
    assert mock.clock.now() - started == pytest.approx(arrivals[-1][0])
    assert mock.clock.now() - started > catalog_timing("moonshot-v1-8k")[0]


# --- X-Mockshot-Pacing -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_instant_pacing_takes_no_time_at_all():
    mock = virtual_mock()
    started = mock.clock.now()
    arrivals, wall = await timeline(mock, {"X-Mockshot-Pacing": "instant"}, model="kimi-k2.6")
    assert {t for t, _ in arrivals} == {0.0}
    assert mock.clock.now() == started and wall < 1.0


@pytest.mark.anyio
async def test_a_mock_without_pacing_streams_instantly_unless_the_request_asks():
    mock = virtual_mock(pacing=False)
    arrivals, _ = await timeline(mock, model="kimi-k2.6")
    assert {t for t, _ in arrivals} == {0.0}
    arrivals, _ = await timeline(mock, {"X-Mockshot-Pacing": "ttft_ms=300,tokens_per_second=30"},
                                 model="moonshot-v1-8k")
    _, first_at = first_token(arrivals)
    assert 0.3 * (1 - JITTER) <= first_at <= 0.3 * (1 + JITTER)
    assert 30 * (1 - JITTER) <= measured_rate(mock, arrivals) <= 30 * (1 + JITTER)


@pytest.mark.anyio
@pytest.mark.parametrize("ttft_ms,rate", [(200, 100), (1500, 25), (50, 400)])
@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2.6"])
async def test_the_header_overrides_the_models_timing(model, ttft_ms, rate):
    mock = virtual_mock()
    arrivals, wall = await timeline(
        mock, {"X-Mockshot-Pacing": f"ttft_ms={ttft_ms},tokens_per_second={rate}"}, model=model)
    _, first_at = first_token(arrivals)
    assert ttft_ms / 1000 * (1 - JITTER) <= first_at <= ttft_ms / 1000 * (1 + JITTER)
    assert rate * (1 - JITTER) <= measured_rate(mock, arrivals) <= rate * (1 + JITTER)
    assert wall < 1.0


@pytest.mark.anyio
@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2.6"])
async def test_without_jitter_every_chunk_arrives_exactly_on_schedule(model):
    """`jitter=0`: the first token at exactly ttft, then each delta exactly when its tokens
    have been produced at tokens_per_second, as the client observes the clock."""
    mock = virtual_mock()
    arrivals, _ = await timeline(
        mock, {"X-Mockshot-Pacing": "ttft_ms=500,tokens_per_second=20,jitter=0"}, model=model)
    index, first_at = first_token(arrivals)
    assert first_at == pytest.approx(0.5, abs=1e-6)
    due = 0.5
    for at, chunk in arrivals[index + 1:]:
        if has_tokens(chunk):
            due += mock.tokenizer.count(delta_text(chunk)) / 20
        assert at == pytest.approx(due, abs=1e-6), delta_text(chunk) if chunk.choices else ""
    assert arrivals[-1][0] == pytest.approx(
        0.5 + (arrivals[-1][1].usage.completion_tokens
               - mock.tokenizer.count(delta_text(arrivals[index][1]))) / 20, abs=1e-6)


BAD = ["fast", "ttft_ms=-5", "tokens_per_second=0", "tokens_per_second=-3", "speed=2",
       "ttft_ms=abc", "ttft_ms", "ttft_ms=100,", "ttft_ms=inf", "ttft_ms=1e400", "ttft_ms=nan",
       "tokens_per_second=nan"]


@pytest.mark.parametrize("value", BAD)
def test_a_bad_pacing_header_is_a_400_that_says_how_to_write_it(value):
    mock = virtual_mock()
    with http_client(create_app(mock=mock), event_hooks={"response": [spec_check.hook]}) as raw:
        body = {"model": "moonshot-v1-8k", "messages": HELLO, "stream": True}
        response = raw.post(PATH, json=body, headers={**AUTH, "X-Mockshot-Pacing": value})
        assert response.status_code == 400, response.content[:200]
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert "X-Mockshot-Pacing" in error["message"] and "ttft_ms=" in error["message"]
        assert list(response.json()) == ["error"] and list(error) == ["message", "type"]
        # the mock is none the worse for it
        again = raw.post(PATH, json={**body, "stream": False}, headers=AUTH)
        assert again.status_code == 200 and mock.clock.now() < 2e9


# --- the real clock, over a socket ---------------------------------------------------------


@pytest.fixture(scope="module")
def real_served():
    with ServedMock(Settings(port=0, clock="real", log_level="warning")) as running:
        yield running


@pytest.mark.parametrize("model", ["kimi-k2-thinking", "kimi-k2.6"])  # 100+ tokens: ~0.4 s
def test_a_served_stream_on_the_real_clock_takes_the_paced_time(real_served, model):
    sdk = openai.OpenAI(api_key=KEY, base_url=f"{real_served.url}/v1", max_retries=0)
    started = time.perf_counter()
    stream = sdk.chat.completions.create(
        model=model, messages=HELLO, stream=True, stream_options={"include_usage": True},
        extra_headers={"X-Mockshot-Pacing": "ttft_ms=100,tokens_per_second=400"})
    arrivals = [(time.perf_counter() - started, chunk) for chunk in stream]
    index, first_at = first_token(arrivals)
    later = (arrivals[-1][1].usage.completion_tokens
             - real_served.mock.tokenizer.count(delta_text(arrivals[index][1])))
    expected = 0.1 + later / 400
    assert expected > 0.25
    assert 0.1 * 0.7 <= first_at <= 0.1 * 1.3 + 0.05
    assert expected * 0.7 <= arrivals[-1][0] <= expected * 1.3
