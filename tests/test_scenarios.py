"""The ready-made scenario files in scenarios/: each one loads, and does what its comments
promise through the official openai SDK — in-process, and over a socket from
`python -m mockshot serve --port 0 --scenario FILE`.

These tests double as the files' documentation: one test (or a few) per file, in the order
of scenarios/README.md.
"""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import jsonschema
import openai
import openai._base_client
import pytest

from mockshot import Mock, Settings, create_app, http_client
from mockshot.errors import account_label
from mockshot.scenarios.book import ScenarioBook
from mockshot.scenarios.files import read_scenario_file
from mockshot.state.memory import MemoryStore
from mockshot.transport import httpx_module

from . import spec_check

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
KEY = "sk-test"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"timezone": {"type": "string"}}}}}
WEB_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}
RPM_MESSAGE = re.compile(r"Your account org-[0-9a-f]{16}<cak-[0-9a-f]{12}> request reached "
                         r"organization max RPM: 3, please try again after 1 seconds")
OVERLOADED = "The engine is currently overloaded, please try again later"


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def load(*names: str, **settings) -> Mock:
    """A mock on a virtual clock with these scenario files loaded, as CI would."""
    paths = tuple(str(SCENARIOS / f"{name}.yaml") for name in names)
    return Mock(Settings(scenario=paths, clock="virtual", log_level="warning", **settings))


@pytest.fixture
def connect():
    """`connect(mock)`: the openai SDK in-process, every reply checked against the spec."""
    made = []

    def make(mock: Mock, retries: int = 0, **headers: str) -> openai.OpenAI:
        inner = http_client(create_app(mock=mock), event_hooks={"response": [spec_check.hook]})
        made.append(inner)
        return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                             http_client=inner, max_retries=retries, default_headers=headers)

    yield make
    for inner in made:
        inner.close()


@pytest.fixture
def sdk_sleeps(monkeypatch) -> list[float]:
    """The waits the SDK's own retry logic asks for, recorded instead of slept."""
    sleeps: list[float] = []
    fake = types.SimpleNamespace(sleep=sleeps.append, time=time.time)
    monkeypatch.setattr(openai._base_client, "time", fake)
    return sleeps


def assistant_turn(message) -> dict:
    """The assistant's tool-call turn as a client sends it back (reasoning included)."""
    turn: dict = {"role": "assistant", "content": message.content or "", "tool_calls": [
        {"id": c.id, "type": c.type,
         "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in message.tool_calls]}
    reasoning = (message.model_extra or {}).get("reasoning_content")
    if reasoning is not None:
        turn["reasoning_content"] = reasoning
    return turn


def tool_results(message, content: str = "ok") -> list[dict]:
    return [{"role": "tool", "tool_call_id": c.id, "name": c.function.name, "content": content}
            for c in message.tool_calls]


def statuses(mock: Mock) -> list[int]:
    return [entry.status for entry in mock.journal()]


# --- every file ------------------------------------------------------------------------------


def test_the_readme_lists_every_file_once():
    readme = (SCENARIOS / "README.md").read_text()
    listed = re.findall(r"^\| `([\w.-]+\.yaml)` \| .+ \|$", readme, re.M)
    assert sorted(listed) == [f.name for f in FILES]
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_loads_and_is_a_commented_named_story(path):
    document = read_scenario_file(str(path))
    assert document["scenario"] == path.stem
    assert document["description"]
    assert path.read_text().startswith("# ")
    rules = ScenarioBook(MemoryStore()).load_sync(document, f"{path}: ")
    assert [r.scenario for r in rules] == [path.stem] * len(rules)
    assert all(rule.get("name") for rule in document["rules"])
    assert Mock(Settings(scenario=(str(path),), clock="virtual")).rules()


def test_all_files_load_together_and_the_header_picks_one(connect):
    mock = load(*(path.stem for path in FILES))
    greeting = connect(mock, **{"X-Mockshot-Scenario": "happy-path"})
    overloaded = connect(mock, **{"X-Mockshot-Scenario": "overloaded-engine"})
    reply = greeting.chat.completions.create(model="kimi-k2.6", messages=user("Hello"))
    assert reply.choices[0].message.content.startswith("Hello! I'm Kimi")
    with pytest.raises(openai.RateLimitError):
        overloaded.chat.completions.create(model="kimi-k2.6", messages=user("Hello"))


# --- happy-path.yaml ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Hi", "hello there", "HEY, anyone?"])
def test_happy_path_greets_every_greeting_alike(connect, text):
    client = connect(load("happy-path"))
    reply = client.chat.completions.create(model="kimi-k2.6", messages=user(text))
    assert reply.choices[0].message.content == (
        "Hello! I'm Kimi, your support assistant. How can I help you today?")
    assert reply.choices[0].finish_reason == "stop"


def test_happy_path_quotes_the_order_question_and_the_model(connect):
    client = connect(load("happy-path"))
    reply = client.chat.completions.create(model="moonshot-v1-8k",
                                           messages=user("Where is my order?"))
    assert reply.choices[0].message.content == (
        'You asked: "Where is my order?". Order #1042 shipped yesterday and arrives on '
        "Friday. (moonshot-v1-8k)")


def test_happy_path_streams_the_summary_and_generates_the_rest(connect):
    mock = load("happy-path")
    client = connect(mock)
    stream = client.chat.completions.create(model="kimi-k2.6", messages=user("please summarize"),
                                            stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ("Summary: the customer asked about order #1042; it ships Friday; "
                    "no action needed.")
    assert chunks[-1].choices[0].finish_reason == "stop"
    other = client.chat.completions.create(model="kimi-k2.6", messages=user("Tell me a joke"))
    assert other.choices[0].message.content and "#1042" not in other.choices[0].message.content
    assert [e.rule for e in mock.journal()] == ["streamed-summary", None]


# --- tool-call-loop.yaml -----------------------------------------------------------------------


def run_weather_loop(client) -> tuple:
    messages = user("What's the weather in Paris?")
    first = client.chat.completions.create(model="kimi-k2.6", messages=messages, tools=[WEATHER])
    call = first.choices[0].message
    messages += [assistant_turn(call), *tool_results(call, '{"temp_c": 18, "sky": "sunny"}')]
    final = client.chat.completions.create(model="kimi-k2.6", messages=messages, tools=[WEATHER])
    return first, final


def test_tool_call_loop_calls_get_weather_then_answers(connect):
    mock = load("tool-call-loop")
    first, final = run_weather_loop(connect(mock))
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == ""
    [call] = choice.message.tool_calls
    assert (call.id, call.type, call.function.name) == ("get_weather_0", "function", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert choice.message.model_extra["reasoning_content"].startswith("The user wants")
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "It is 18 °C and sunny in Paris right now."
    assert final.choices[0].message.tool_calls is None
    assert [e.rule for e in mock.journal()] == ["call-get-weather", "answer-from-result"]


# --- parallel-tools.yaml -----------------------------------------------------------------------


def test_parallel_tools_calls_three_at_once_then_combines(connect):
    client = connect(load("parallel-tools"))
    messages = user("Weather in Paris and Tokyo, and the time in Tokyo?")
    first = client.chat.completions.create(model="kimi-k2.6", messages=messages,
                                           tools=[WEATHER, TIME])
    calls = first.choices[0].message.tool_calls
    assert first.choices[0].finish_reason == "tool_calls"
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather_0", "get_weather", {"city": "Paris"}),
        ("get_weather_1", "get_weather", {"city": "Tokyo"}),
        ("get_time_2", "get_time", {"timezone": "Asia/Tokyo"}),
    ]
    assert calls[2].function.arguments == '{"timezone": "Asia/Tokyo"}'  # a string, verbatim
    messages += [assistant_turn(first.choices[0].message), *tool_results(first.choices[0].message)]
    final = client.chat.completions.create(model="kimi-k2.6", messages=messages,
                                           tools=[WEATHER, TIME])
    assert final.choices[0].message.content.startswith("Paris is 18 °C and sunny; Tokyo is")


# --- web-search.yaml ---------------------------------------------------------------------------


def test_web_search_round_trip_bills_the_receipt_in_round_two(connect):
    client = connect(load("web-search"))
    messages = user("What's new in the Moonshot API?")
    first = client.chat.completions.create(model="kimi-k2.6", messages=messages,
                                           tools=[WEB_SEARCH])
    [call] = first.choices[0].message.tool_calls
    assert first.choices[0].finish_reason == "tool_calls"
    assert (call.type, call.function.name) == ("builtin_function", "$web_search")
    receipt = json.loads(call.function.arguments)
    assert receipt == {"search_result": {"search_id": "6a8de8e9aa990b556e50e057"},
                       "usage": {"total_tokens": 7981}}
    messages += [assistant_turn(first.choices[0].message),
                 {"role": "tool", "tool_call_id": call.id, "name": "$web_search",
                  "content": call.function.arguments}]
    final = client.chat.completions.create(model="kimi-k2.6", messages=messages,
                                           tools=[WEB_SEARCH])
    assert final.choices[0].message.content.startswith("According to today's search results")
    assert final.usage.prompt_tokens > first.usage.prompt_tokens + 7981


# --- partial-mode.yaml -------------------------------------------------------------------------


def test_partial_mode_continues_the_prefix_without_repeating_it(connect):
    client = connect(load("partial-mode"))
    prefix = '{"capital": "'
    messages = [*user("What is the capital of France? Answer in JSON."),
                {"role": "assistant", "content": prefix, "partial": True}]
    reply = client.chat.completions.create(model="moonshot-v1-8k", messages=messages)
    continuation = reply.choices[0].message.content
    assert not continuation.startswith(prefix)
    assert json.loads(prefix + continuation) == {"capital": "Paris", "country": "France"}


def test_partial_mode_role_play_line_is_only_the_line(connect):
    client = connect(load("partial-mode"))
    messages = [{"role": "system", "content": "You are Dr. Kelsier, a retired detective."},
                *user("Good evening, Dr. Kelsier."),
                {"role": "assistant", "name": "Dr. Kelsier", "content": "", "partial": True}]
    reply = client.chat.completions.create(model="kimi-k2.6", messages=messages)
    assert reply.choices[0].message.content == (
        "Ah, you have come at last. Sit down; the tea is still warm.")


# --- json-schema-output.yaml -------------------------------------------------------------------

PERSON = {"type": "object", "required": ["name", "born"], "properties": {
    "name": {"type": "string"}, "born": {"type": "integer"},
    "fields": {"type": "array", "items": {"type": "string"}}}}


def schema_format(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}


def test_json_schema_output_is_the_fixed_object(connect):
    client = connect(load("json-schema-output"))
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=user("Extract the person: Ada Lovelace, born 1815."),
        response_format=schema_format(PERSON))
    data = json.loads(reply.choices[0].message.content)
    assert data == {"name": "Ada Lovelace", "born": 1815,
                    "fields": ["mathematics", "computing"]}
    jsonschema.validate(data, PERSON)


def test_json_mode_and_other_schemas(connect):
    client = connect(load("json-schema-output"))
    mode = client.chat.completions.create(model="moonshot-v1-8k",
                                          messages=user("Reply in JSON: status?"),
                                          response_format={"type": "json_object"})
    assert json.loads(mode.choices[0].message.content) == {"status": "ok", "items": 3}
    other = client.chat.completions.create(model="moonshot-v1-8k",
                                           messages=user("Extract: Grace Hopper"),
                                           response_format=schema_format(PERSON))
    jsonschema.validate(json.loads(other.choices[0].message.content), PERSON)


# --- rate-limited-then-recovering.yaml ---------------------------------------------------------


def test_rate_limited_answers_429_twice_with_retry_after_then_succeeds(connect):
    mock = load("rate-limited-then-recovering")
    client = connect(mock)
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="kimi-k2.6", messages=user("Hi"))
        assert caught.value.status_code == 429
        assert caught.value.body["type"] == "rate_limit_reached_error"
        assert RPM_MESSAGE.fullmatch(caught.value.body["message"])
        assert account_label(KEY) in caught.value.body["message"]
        assert caught.value.response.headers["retry-after"] == "1"
    for _ in range(2):  # the last reply is used again from now on
        reply = client.chat.completions.create(model="kimi-k2.6", messages=user("Hi"))
        assert reply.choices[0].message.content.startswith("Done: your request went through")
    assert statuses(mock) == [429, 429, 200, 200]


def test_rate_limited_the_sdk_retries_recover_deterministically(connect, sdk_sleeps):
    mock = load("rate-limited-then-recovering")
    client = connect(mock, retries=2)
    raw = client.chat.completions.with_raw_response.create(model="kimi-k2.6",
                                                           messages=user("Hi"))
    assert raw.parse().choices[0].message.content.startswith("Done:")
    assert raw.retries_taken == 2
    assert sdk_sleeps == [1.0, 1.0]  # the SDK waited exactly what Retry-After said
    journal = mock.journal()
    assert [(e.status, e.rule, e.rule_use) for e in journal] == [
        (429, "rpm-burst", 0),
        (429, "rpm-burst", 1),
        (200, "rpm-burst", 2)]


def test_rate_limited_with_one_retry_the_sdk_gives_up(connect, sdk_sleeps):
    mock = load("rate-limited-then-recovering")
    with pytest.raises(openai.RateLimitError):
        connect(mock, retries=1).chat.completions.create(model="kimi-k2.6", messages=user("Hi"))
    assert statuses(mock) == [429, 429]
    assert sdk_sleeps == [1.0]


# --- flaky-stream.yaml -------------------------------------------------------------------------


def stream_outcomes(seed: int, calls: int = 12) -> list[str]:
    """How each of `calls` identical streams ended: ok, cut (no finish, no [DONE]) or error."""
    mock = load("flaky-stream", seed=seed)
    client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                           http_client=http_client(create_app(mock=mock)), max_retries=0)
    outcomes = []
    for _ in range(calls):
        stream = client.chat.completions.create(model="moonshot-v1-8k",
                                                messages=user("Tell me a story"), stream=True)
        try:
            chunks = list(stream)
        except openai.APIError as exc:
            assert exc.message == OVERLOADED
            assert exc.body == {"message": OVERLOADED, "type": "engine_overloaded_error"}
            outcomes.append("error")
            continue
        finished = chunks and chunks[-1].choices and chunks[-1].choices[0].finish_reason
        outcomes.append("ok" if finished else "cut")
        if not finished:
            assert len(chunks) == 4 and mock.journal()[-1].chunks_sent == 4
    client.close()
    faults = [e.fault for e in mock.journal()]
    assert faults == [{"ok": None, "cut": "stream_cut", "error": "error_frame"}[o]
                      for o in outcomes]
    return outcomes


def test_flaky_stream_fails_a_seeded_share_and_replays_exactly():
    first = stream_outcomes(seed=0)
    assert stream_outcomes(seed=0) == first  # the same seed: the same failures, in order
    assert set(first) == {"ok", "cut", "error"}
    assert all(o in ("ok", "cut") for o in first[0::2])  # the rule cycles cut / error
    assert all(o in ("ok", "error") for o in first[1::2])
    assert any(stream_outcomes(seed=seed) != first for seed in (1, 2, 3))


def test_flaky_stream_leaves_non_streaming_calls_alone(connect):
    mock = load("flaky-stream")
    client = connect(mock)
    for _ in range(6):
        reply = client.chat.completions.create(model="moonshot-v1-8k", messages=user("Hi"))
        assert reply.choices[0].finish_reason == "stop"
    assert [e.fault for e in mock.journal()] == [None] * 6


# --- overloaded-engine.yaml --------------------------------------------------------------------


def test_overloaded_engine_refuses_kimi_k26_with_retry_after(connect, sdk_sleeps):
    mock = load("overloaded-engine")
    client = connect(mock)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="kimi-k2.6", messages=user("Hi"))
    assert caught.value.status_code == 429
    assert caught.value.body == {"message": OVERLOADED, "type": "engine_overloaded_error"}
    assert caught.value.response.headers["retry-after"] == "5"
    fallback = client.chat.completions.create(model="moonshot-v1-8k", messages=user("Hi"))
    assert fallback.choices[0].finish_reason == "stop"
    with pytest.raises(openai.RateLimitError):  # the SDK retries, waiting 5 s each time
        connect(mock, retries=2).chat.completions.create(model="kimi-k2.6", messages=user("Hi"))
    assert sdk_sleeps == [5.0, 5.0]
    assert statuses(mock) == [429, 200, 429, 429, 429]
    assert [e.fault for e in mock.journal()] == [
        "overloaded", None, "overloaded", "overloaded", "overloaded"]


# --- insufficient-balance.yaml -----------------------------------------------------------------


def test_insufficient_balance_refuses_chat_with_the_real_message(connect):
    mock = load("insufficient-balance")
    client = connect(mock)
    for stream in (False, True):
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="kimi-k2.6", messages=user("Hi"), stream=stream)
        assert caught.value.status_code == 429
        assert caught.value.body == {
            "message": f"Your account {account_label(KEY)} is suspended due to insufficient "
                       "balance, please recharge your account or check your plan and billing "
                       "details",
            "type": "exceeded_current_quota_error"}
        assert "retry-after" not in caught.value.response.headers
    quota = client.with_options(api_key="sk-quota-plan")
    with pytest.raises(openai.RateLimitError) as caught:
        quota.chat.completions.create(model="kimi-k2.6", messages=user("Hi"))
    assert caught.value.body["message"] == (
        "You exceeded your current token quota: <org-7df23a> 338950, please check your "
        "account balance")


def test_insufficient_balance_leaves_free_endpoints_working(connect):
    client = connect(load("insufficient-balance"))
    assert "kimi-k2.6" in [m.id for m in client.models.list().data]
    balance = client.get("/users/me/balance", cast_to=object)
    assert balance["data"]["available_balance"] == 1000.0  # refused calls are not billed
    estimate = client.post("/tokenizers/estimate-token-count", cast_to=object,
                           body={"model": "kimi-k2.6", "messages": user("Hi")})
    assert estimate["data"]["total_tokens"] > 0


# --- served by the CLI ------------------------------------------------------------------------

URL = re.compile(r"(http://127\.0\.0\.1:\d+)/v1")


class Serve:
    """`python -m mockshot serve --port 0 --scenario ...` in a subprocess, stopped by SIGINT."""

    def __init__(self, *files: str) -> None:
        scenario_flags = [flag for name in files
                          for flag in ("--scenario", str(SCENARIOS / f"{name}.yaml"))]
        command = [sys.executable, "-m", "mockshot", "serve", "--port", "0", "--clock",
                   "virtual", "--log-level", "warning", *scenario_flags]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=ROOT)
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        line = self.proc.stdout.readline() if selector.select(timeout=30) else ""
        found = URL.search(line)
        if found is None:
            self.proc.kill()
            pytest.fail(f"mockshot serve printed {line!r}: {self.proc.communicate()[1]}")
        self.url = found.group(1)
        httpx = httpx_module()
        for _ in range(600):
            try:
                httpx.get(f"{self.url}/_mockshot/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return err


@pytest.fixture(scope="module")
def cli_served():
    running = Serve("tool-call-loop", "rate-limited-then-recovering")
    yield running
    assert "Traceback" not in running.stop()


def cli_client(served: Serve, scenario: str, retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=f"{served.url}/v1", max_retries=retries,
                         http_client=httpx_module().Client(),
                         default_headers={"X-Mockshot-Scenario": scenario})


def test_served_tool_call_loop(cli_served):
    first, final = run_weather_loop(cli_client(cli_served, "tool-call-loop"))
    assert first.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert final.choices[0].message.content == "It is 18 °C and sunny in Paris right now."


def test_served_rate_limited_recovers_with_the_sdk_retries(cli_served, sdk_sleeps):
    client = cli_client(cli_served, "rate-limited-then-recovering", retries=2)
    raw = client.chat.completions.with_raw_response.create(model="kimi-k2.6",
                                                           messages=user("Hi"))
    assert raw.retries_taken == 2 and sdk_sleeps == [1.0, 1.0]
    assert raw.parse().choices[0].message.content.startswith("Done:")
