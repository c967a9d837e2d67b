"""The Python scripting API, `mock.on(...).reply(...).then(...)`, through the openai SDK.

The vocabulary is respx's and pytest_httpx's: a rule is a match plus replies; replies are
used in order ("first unused, then the last one again") unless `.cycle()`; `.times(n)` stops
a rule, and the seeded generator answers again; named states script multi-turn flows.
"""

from __future__ import annotations

import json

import openai
import pytest

from mockshot import Mock, Settings, create_app, error, fault, http_client, tool_call
from mockshot.scenarios.checks import ScenarioError

KEY = "sk-test"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def connect():
    """`connect(mock)`: the openai SDK in-process (not spec-checked: 422 is mockshot's own)."""
    made = []

    def make(mock: Mock, **headers: str) -> openai.OpenAI:
        inner = http_client(create_app(mock=mock))
        made.append(inner)
        return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                             http_client=inner, max_retries=0, default_headers=headers)

    yield make
    for inner in made:
        inner.close()


@pytest.fixture
def sdk(connect, mock):
    return connect(mock)


def ask(client, text: str = "Hello", model: str = "moonshot-v1-8k", **body):
    """One chat call; a stream is read to the end and returned as its chunks."""
    reply = client.chat.completions.create(model=model, messages=body.pop("messages", user(text)),
                                           **body)
    return list(reply) if body.get("stream") else reply


def content(reply) -> str:
    return reply.choices[0].message.content


def rules_used(mock: Mock) -> list[str | None]:
    return [entry.rule for entry in mock.journal()]


# --- replies in order -------------------------------------------------------------------------


def test_reply_then_uses_each_reply_once_then_repeats_the_last(mock, sdk):
    rule = mock.on(contains="weather").reply(tool_call("get_weather", city="Paris")) \
        .then("It is sunny.").then("Still sunny.")
    replies = [ask(sdk, "weather in Paris?", tools=[WEATHER]) for _ in range(4)]
    first = replies[0].choices[0]
    assert first.finish_reason == "tool_calls"
    assert json.loads(first.message.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert [content(r) for r in replies[1:]] == ["It is sunny.", "Still sunny.", "Still sunny."]
    assert len(rule.calls) == 4 == rule.uses
    assert [e.rule_use for e in mock.journal()] == [0, 1, 2, 3]


def test_a_rules_calls_are_a_list_with_the_last_request(mock, sdk):
    """respx's call list: `rule.calls.last.request` is what the client sent last."""
    rule = mock.on(contains="weather").reply("Sunny.")
    assert rule.calls == [] and not rule.called
    ask(sdk, "weather in Paris?")
    ask(sdk, "hello")  # the generator's, not the rule's
    ask(sdk, "weather in Rome?", model="kimi-k2.6")
    assert [c.model for c in rule.calls] == ["moonshot-v1-8k", "kimi-k2.6"]
    assert rule.calls.last.request.messages == user("weather in Rome?")
    assert rule.calls.last.status == 200 and rule.called
    assert len(mock.calls(operation="chat")) == 3
    assert len(mock.calls(model="kimi-k2.6")) == 1


def test_cycle_loops_over_the_replies(mock, sdk):
    rule = mock.on(contains="coin").reply("heads").then("tails").cycle()
    assert [content(ask(sdk, "flip a coin")) for _ in range(5)] == [
        "heads", "tails", "heads", "tails", "heads"]
    assert len(rule.calls) == 5 == rule.uses


def test_times_stops_the_rule_and_the_generator_answers_as_without_rules(mock, sdk, connect):
    rule = mock.on(contains="joke").reply("Knock knock.").times(2)
    replies = [ask(sdk, "a joke please") for _ in range(3)]
    assert [content(r) for r in replies[:2]] == ["Knock knock."] * 2
    unscripted = ask(connect(Mock(Settings(clock="virtual"))), "a joke please")
    assert content(replies[2]) == content(unscripted) != "Knock knock."
    assert replies[2].id == unscripted.id
    assert len(rule.calls) == 2 == rule.uses
    assert rules_used(mock) == [rule.name, rule.name, None]


def test_named_states_script_a_multi_turn_flow(mock, sdk):
    mock.on(scenario="checkout", name="ask-size", contains="buy").reply("Which size?") \
        .then_state("asked-size")
    mock.on(scenario="checkout", name="confirm", state="asked-size", contains="large") \
        .reply("Large it is.").then_state("done")
    mock.on(scenario="checkout", name="after", state="done").reply("Anything else?")
    assert content(ask(sdk, "large")) != "Large it is."  # not before the size was asked
    assert [content(ask(sdk, text)) for text in ("buy shoes", "large", "large")] == [
        "Which size?", "Large it is.", "Anything else?"]
    assert mock.scenario_state("checkout") == "done"
    mock.reset()
    assert mock.scenario_state("checkout") == "started"
    assert content(ask(sdk, "buy shoes")) == "Which size?"


def test_a_later_step_changes_the_registered_rule_in_place(mock, sdk):
    rule = mock.on(contains="x").reply("one")
    assert content(ask(sdk, "x")) == "one"
    rule.then("two")
    assert [content(ask(sdk, "x")) for _ in range(2)] == ["two", "two"]
    assert len(mock.rules()) == 1 and len(rule.calls) == 3


def test_bad_steps_are_refused_at_once(mock):
    with pytest.raises(ScenarioError, match=r"Additional properties are not allowed"):
        mock.on(contain="typo").reply("x")
    with pytest.raises(TypeError, match="a reply is text or a dict"):
        mock.on(contains="x").reply(42)
    with pytest.raises(ScenarioError, match=r"not a valid regex"):
        mock.on(regex="(").reply("x")
    assert not bool(mock.rules())


# --- matching ---------------------------------------------------------------------------------

TOOL_TURN = [*user("weather?"),
             {"role": "assistant", "content": "", "tool_calls": [{"id": "get_weather_0",
              "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
             {"role": "tool", "tool_call_id": "get_weather_0", "name": "get_weather",
              "content": "18C"}]
SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": {
    "type": "object", "properties": {"a": {"type": "string"}}}}}

# match, a call it matches, a call it does not
MATCHES = [
    ({"model": "kimi-k2.6"}, {"model": "kimi-k2.6"}, {"model": "moonshot-v1-8k"}),
    ({"model": ["kimi-k2.5", "kimi-k2.6"]}, {"model": "kimi-k2.5"}, {}),
    ({"contains": "order"}, {"text": "my order?"}, {"messages": [
        *user("my order?"), {"role": "assistant", "content": "Which?"}, *user("#12")]}),
    ({"regex": r"order #\d+"}, {"text": "where is order #12"}, {"text": "order #x"}),
    ({"any_contains": "pirate"}, {"messages": [{"role": "system", "content": "Be a pirate."},
                                               *user("Hi")]}, {"text": "Hi"}),
    ({"any_regex": r"(?i)^be a"}, {"messages": [{"role": "system", "content": "Be a cat."},
                                                *user("Hi")]}, {"text": "Hi"}),
    ({"tools": True}, {"tools": [WEATHER]}, {}),
    ({"tools": False}, {}, {"tools": [WEATHER]}),
    ({"tool": "get_weather"}, {"tools": [WEATHER]}, {}),
    ({"tool_result": True}, {"messages": TOOL_TURN, "tools": [WEATHER]}, {"tools": [WEATHER]}),
    ({"tool_result": "get_weather"}, {"messages": TOOL_TURN, "tools": [WEATHER]},
     {"messages": [*TOOL_TURN[:2], {**TOOL_TURN[2], "name": "get_time"}], "tools": [WEATHER]}),
    ({"tool_result": False}, {"tools": [WEATHER]}, {"messages": TOOL_TURN, "tools": [WEATHER]}),
    ({"stream": True}, {"stream": True}, {}),
    ({"stream": False}, {}, {"stream": True}),
    ({"response_format": "json_object"}, {"response_format": {"type": "json_object"}}, {}),
    ({"response_format": "json_schema"}, {"response_format": SCHEMA}, {}),
    ({"response_format": "text"}, {}, {"response_format": {"type": "json_object"}}),
    ({"api_key": "sk-alice"}, {"key": "sk-alice"}, {"key": "sk-bob"}),
    ({"api_key": ["sk-alice", "sk-carol"]}, {"key": "sk-carol"}, {}),
    ({"header": {"X-Team": "blue"}}, {"headers": {"x-team": "blue"}},
     {"headers": {"X-Team": "red"}}),
    ({"operation": "chat"}, {}, None),
    ({"operation": "POST /v1/chat/completions"}, {}, None),
]


def send(client, call: dict):
    call = dict(call)
    key, headers = call.pop("key", None), call.pop("headers", None)
    if key or headers:
        client = client.with_options(**({"api_key": key} if key else {}),
                                     default_headers=headers or {})
    return ask(client, call.pop("text", "Hello"), **call)


@pytest.mark.parametrize(("match", "hit", "miss"), MATCHES, ids=[str(m[0]) for m in MATCHES])
def test_each_match_key_picks_its_calls(mock, sdk, match, hit, miss):
    rule = mock.on(**match).reply("scripted")
    send(sdk, hit)
    if miss is not None:
        send(sdk, miss)
    assert rules_used(mock) == [rule.name] + ([None] if miss is not None else [])


def test_nth_counts_calls_of_the_operation(mock, sdk):
    rule = mock.on(nth=[2, 4]).reply("even")
    assert [content(ask(sdk, f"call {i}")) == "even" for i in range(1, 6)] == [
        False, True, False, True, False]
    assert len(rule.calls) == 2 == rule.uses


def test_nth_of_another_operation_counts_from_the_start(mock, sdk):
    """'The call's ordinal among calls of its operation since the last reset (1 = first)':
    a models call made before any rule existed is still the first."""
    sdk.models.list()
    mock.on(operation="models", nth=2).reply(error("server_error"))
    with pytest.raises(openai.InternalServerError):
        sdk.models.list()


def test_tool_result_names_the_tool_through_its_call_id(mock, sdk):
    """Tool messages need no `name` (OpenAI-style clients omit it; the service accepts it):
    the result of call `get_weather_0` is get_weather's result."""
    rule = mock.on(tool_result="get_weather").reply("From the tool.")
    unnamed = [*TOOL_TURN[:2], {"role": "tool", "tool_call_id": "get_weather_0",
                                "content": "18C"}]
    assert content(ask(sdk, messages=unnamed, tools=[WEATHER])) == "From the tool."
    assert len(rule.calls) == 1 == rule.uses


# --- other operations get errors and faults only ----------------------------------------------


def test_other_operations_take_errors_and_faults(mock, sdk):
    mock.on(operation="models").reply(error("permission_denied_error"))
    mock.on(operation="GET /v1/users/me/balance").reply(fault("server_error"))
    mock.on(operation="estimate").reply(error("rate_limit_reached_error", retry_after=7))
    with pytest.raises(openai.PermissionDeniedError) as denied:
        sdk.models.list()
    assert denied.value.body == {"message": "The API you are accessing is not open",
                                 "type": "permission_denied_error"}
    with pytest.raises(openai.InternalServerError):
        sdk.get("/users/me/balance", cast_to=object)
    with pytest.raises(openai.RateLimitError) as limited:
        sdk.post("/tokenizers/estimate-token-count", cast_to=object,
                 body={"model": "kimi-k2.6", "messages": user("Hi")})
    assert limited.value.response.headers["retry-after"] == "7"
    assert content(ask(sdk)) != ""  # chat is untouched


@pytest.mark.parametrize("reply", ["hello", tool_call("get_weather"), {"usage": {
    "prompt_tokens": 1}}, {"reasoning": "hmm"}, {"finish_reason": "stop"}])
def test_content_replies_on_other_operations_are_refused(mock, sdk, reply):
    with pytest.raises(ScenarioError, match="can only script chat operations"):
        mock.on(operation="models").reply(reply)
    assert not bool(mock.rules())
    assert sdk.models.list().data


# --- what a reply can say ---------------------------------------------------------------------


def test_templates_fill_in_from_the_call(mock, sdk):
    mock.on(contains="echo").reply(
        "[{{ last_user }}] [{{ model }}] [{{ nth }}] [{{ request.messages.0.content }}] "
        "[{{request.temperature}}] [{{ request.messages.-1.role }}] [{{ request.nope.x }}]")
    ask(sdk, "first")
    reply = ask(sdk, "echo me", temperature=0.3)
    assert content(reply) == "[echo me] [moonshot-v1-8k] [2] [echo me] [0.3] [user] []"


def test_templates_fill_reasoning_and_never_run_code(mock, sdk):
    mock.on(contains="x").reply("{{ __import__('os') }} {{ 1 + 1 }}",
                                reasoning="thinking about {{ last_user }}")
    reply = ask(sdk, "x marks", model="kimi-k2.6")
    assert content(reply) == "{{ __import__('os') }} {{ 1 + 1 }}"
    assert reply.choices[0].message.model_extra["reasoning_content"] == "thinking about x marks"


USAGE = {"prompt_tokens": 11, "completion_tokens": 42, "cached_tokens": 5}


def test_usage_overrides_are_reported_and_billed(mock, sdk):
    mock.on(contains="u").reply("fixed", usage=USAGE)
    usage = ask(sdk, "u").usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (11, 42, 53)
    assert usage.prompt_tokens_details.cached_tokens == 5
    spent = 1000.0 - mock.balance(KEY).available  # moonshot-v1-8k: no cache-hit price
    assert spent == pytest.approx((11 * 0.2 + 42 * 2.0) / 1e6)


def test_usage_overrides_agree_across_a_stream(mock, sdk):
    mock.on(contains="u").reply("fixed", usage=USAGE)
    chunks = ask(sdk, "u", stream=True, stream_options={"include_usage": True})
    finish = chunks[-2].choices[0]
    assert finish.finish_reason == "stop"
    assert chunks[-1].usage.completion_tokens == 42
    assert finish.model_extra["usage"]["completion_tokens"] == 42  # the same reply's usage


def test_scripted_reasoning_on_thinking_models(mock, sdk):
    mock.on(contains="plan").reply("Step 1.", reasoning="First, list the steps.")
    thinking = ask(sdk, "plan it", model="kimi-k2.6")
    message = thinking.choices[0].message
    assert (message.content, message.model_extra["reasoning_content"]) == (
        "Step 1.", "First, list the steps.")
    assert thinking.usage.completion_tokens_details.reasoning_tokens > 0
    off = ask(sdk, "plan it", model="kimi-k2.6", extra_body={"thinking": {"type": "disabled"}})
    assert content(off) == "Step 1."
    assert "reasoning_content" not in off.choices[0].message.model_extra
    plain = ask(sdk, "plan it", model="moonshot-v1-8k")
    assert "reasoning_content" not in plain.choices[0].message.model_extra
    chunks = ask(sdk, "plan it", model="kimi-k2.6", stream=True)
    kinds = [("reasoning" if (c.choices[0].delta.model_extra or {}).get("reasoning_content")
              else "content" if c.choices[0].delta.content else None) for c in chunks]
    seen = [k for k in kinds if k]
    assert seen == sorted(seen, key=["reasoning", "content"].index)  # reasoning first
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Step 1."


def test_scripted_content_keeps_to_the_budget(mock, sdk):
    words = "one two three four five six seven eight nine ten eleven twelve"
    mock.on(contains="count").reply(words, reasoning="Let me count slowly, one by one.")
    cut = ask(sdk, "count", max_tokens=3)
    assert cut.choices[0].finish_reason == "length"
    assert words.startswith(content(cut)) and content(cut) != words
    assert cut.usage.completion_tokens == 3
    thinking = ask(sdk, "count", model="kimi-k2.6", max_tokens=4)
    message = thinking.choices[0].message
    assert thinking.choices[0].finish_reason == "length"
    assert message.content == ""
    assert "Let me count slowly, one by one.".startswith(message.model_extra["reasoning_content"])


def test_scripted_content_and_tool_calls_come_together(mock, sdk):
    """`reply(tool_call(...), content=...)` is one reply with both (scripting.py's own
    example); the text must not be dropped."""
    mock.on(contains="weather").reply(tool_call("get_weather", city="Paris"),
                                      content="Let me check the weather.")
    reply = ask(sdk, "weather?", tools=[WEATHER])
    assert reply.choices[0].finish_reason == "tool_calls"
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert content(reply) == "Let me check the weather."


def test_a_scripted_error_is_the_real_one_and_is_not_billed(mock, sdk):
    mock.on(contains="x").reply(error("content_filter"))
    with pytest.raises(openai.BadRequestError) as caught:
        ask(sdk, "x")
    assert caught.value.body == {
        "message": "The request was rejected because it was considered high risk",
        "type": "content_filter"}
    balance = sdk.get("/users/me/balance", cast_to=object)["data"]["available_balance"]
    assert balance == 1000.0


# --- strict mode and the scenario header ------------------------------------------------------


@pytest.fixture
def strict(connect):
    mock = Mock(Settings(clock="virtual", strict=True))
    return mock, connect(mock)


def unmatched(client, **call) -> str:
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        send(client, call)
    assert caught.value.status_code == 422
    assert caught.value.body["type"] == "mockshot_unmatched_error"
    message = caught.value.body["message"]
    assert message.startswith("strict mode: no scenario rule matches this call. Nearest: ")
    return message


def test_strict_mode_without_rules_says_so(strict):
    _, client = strict
    assert unmatched(client).endswith("Nearest: no rules are loaded")


def test_strict_mode_lists_the_near_misses_with_reasons(strict):
    mock, client = strict
    mock.on(name="weather", contains="weather", model="kimi-k2.6").reply("sunny")
    mock.on(name="greet", regex=r"^hi\b").reply("hey").times(1)
    mock.on(scenario="shop", name="confirm", state="asked").reply("ok")
    assert content(send(client, {"text": "hi there"})) == "hey"
    message = unmatched(client, text="hi there")
    assert "greet: used up (1 times)" in message
    assert "weather: model is moonshot-v1-8k, not kimi-k2.6" in message
    assert "the last user message does not contain 'weather'" in message
    assert "confirm: scenario state is 'started', not 'asked'" in message
    assert content(send(client, {"text": "weather?", "model": "kimi-k2.6"})) == "sunny"
    assert client.models.list().data  # strict mode is about chat calls


def test_a_scenario_file_can_turn_strict_mode_on(tmp_path, connect):
    path = tmp_path / "strict.yaml"
    path.write_text("scenario: s\nstrict: true\nrules:\n  - name: only\n"
                    "    match: {contains: ping}\n    reply: {content: pong}\n")
    mock = Mock(Settings(clock="virtual", scenario=(str(path),)))
    client = connect(mock)
    assert content(send(client, {"text": "ping"})) == "pong"
    assert "only: the last user message does not contain 'ping'" in unmatched(client)


def test_the_scenario_header_selects_only_that_scenarios_rules(mock, connect):
    mock.on(scenario="calm", contains="status").reply("All good.")
    mock.on(scenario="storm", contains="status").reply(error("engine_overloaded_error"))
    calm = connect(mock, **{"X-Mockshot-Scenario": "calm"})
    storm = connect(mock, **{"X-Mockshot-Scenario": "storm"})
    nobody = connect(mock, **{"X-Mockshot-Scenario": "nobody"})
    assert content(ask(calm, "status?")) == "All good."
    with pytest.raises(openai.RateLimitError):
        ask(storm, "status?")
    with pytest.raises(openai.BadRequestError, match=r"X-Mockshot-Scenario 'nobody': no "
                       r"scenario of that name is loaded \(loaded: 'calm', 'storm'\)"):
        ask(nobody, "status?")  # an unknown name would silently apply no rules
    assert content(ask(connect(mock), "status?")) == "All good."  # first added wins


def test_the_scenario_header_in_strict_mode_names_only_its_rules(strict, connect):
    mock, _ = strict
    mock.on(scenario="calm", name="calm-rule", contains="status").reply("All good.")
    mock.on(scenario="storm", name="storm-rule", contains="weather").reply("Rain.")
    message = unmatched(connect(mock, **{"X-Mockshot-Scenario": "storm"}), text="status?")
    assert "storm-rule" in message and "calm-rule" not in message
