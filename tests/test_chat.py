"""Non-streaming chat completions, through the official openai SDK.

Each test is one sentence of /work/shared/reference/moonshot-api.md: §1 (shape, id, usage,
finish reasons), §3 (partial mode), §5 (JSON mode), §6 (thinking), §14 (moonshot-v1-auto),
§15 (max tokens, stop), and mockshot's promise that a seed reproduces every byte.
"""

from __future__ import annotations

import json
import re

import jsonschema
import openai
import pytest

from mockshot import Mock, Settings, create_app, http_client

from . import spec_check

HELLO = [{"role": "user", "content": "Hello"}]
THINKING_OFF = {"thinking": {"type": "disabled"}}


def chat(client, model="kimi-k2.6", messages=HELLO, **kwargs):
    return client.chat.completions.create(model=model, messages=messages, **kwargs)


def extra(model_object) -> dict:
    """The fields Moonshot adds that the SDK's types do not declare."""
    return model_object.model_extra or {}


# --- shape (§1.1 - §1.3) ------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "moonshot-v1-auto", "kimi-k2-0905-preview",
                                   "kimi-k2-thinking", "kimi-k2.5", "kimi-k2.6"])
def test_the_reply_names_itself_like_the_real_service(client, model):
    reply = chat(client, model)
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", reply.id)
    assert int(reply.id[9:17], 16) == reply.created
    assert reply.object == "chat.completion"
    assert reply.model == model  # moonshot-v1-auto is echoed as moonshot-v1-auto
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_n_choices_come_indexed_from_zero(client):
    reply = chat(client, "moonshot-v1-8k", n=3, temperature=0.3)
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert all(c.message.content for c in reply.choices)
    assert len({c.message.content for c in reply.choices}) == 3


# --- the completion budget (§1.4, §15) -------------------------------------------------------


@pytest.mark.parametrize("field", ["max_completion_tokens", "max_tokens"])
@pytest.mark.parametrize("budget", [1, 2, 5, 17])
@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview"])
def test_a_budget_is_spent_to_the_token(client, model, field, budget):
    reply = chat(client, model, **{field: budget})
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == budget
    assert reply.choices[0].message.content


def test_without_a_budget_the_reply_ends_by_itself(client):
    reply = chat(client, "moonshot-v1-8k")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content.endswith(".")


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview"])
def test_completion_tokens_count_the_text_like_the_prompt_side_does(client, mock, model):
    """One token counter for usage, estimation and billing (mockshot/tokens.py)."""
    for _ in range(3):
        reply = chat(client, model)
        content = reply.choices[0].message.content
        assert reply.usage.completion_tokens == mock.tokenizer.count(content), content


def test_a_stop_sequence_is_honoured_and_not_emitted(client):
    reply = chat(client, "moonshot-v1-8k", stop=["."], n=3, temperature=0.5)
    for choice in reply.choices:
        assert choice.finish_reason == "stop"
        assert "." not in choice.message.content


# --- thinking (§1.3, §1.5, §6) ----------------------------------------------------------------


@pytest.mark.parametrize(("model", "body"), [("kimi-k2.6", {}), ("kimi-k2.5", {}),
                                             ("kimi-k2-thinking", {}),
                                             ("kimi-k2.6", {"thinking": {"type": "enabled"}})])
def test_thinking_replies_carry_reasoning_inside_the_budget(client, model, body):
    reply = chat(client, model, max_completion_tokens=400, extra_body=body)
    message = reply.choices[0].message
    assert extra(message)["reasoning_content"] and message.content
    thought = reply.usage.completion_tokens_details.reasoning_tokens
    assert 0 < thought < reply.usage.completion_tokens <= 400
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2-thinking"])
@pytest.mark.parametrize("budget", [1, 3, 8])
def test_a_tiny_budget_is_all_spent_thinking(client, model, budget):
    reply = chat(client, model, max_completion_tokens=budget)
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content == ""
    assert extra(reply.choices[0].message)["reasoning_content"]
    assert reply.usage.completion_tokens == budget
    assert reply.usage.completion_tokens_details.reasoning_tokens == budget


@pytest.mark.parametrize(("model", "body"), [("kimi-k2.6", THINKING_OFF),
                                             ("kimi-k2.5", THINKING_OFF),
                                             ("moonshot-v1-8k", {}),
                                             ("kimi-k2-0905-preview", {})])
def test_non_thinking_replies_have_no_reasoning(client, model, body):
    reply = chat(client, model, extra_body=body)
    assert "reasoning_content" not in extra(reply.choices[0].message)
    assert reply.usage.completion_tokens_details is None


# --- the prompt cache (§1.5) -------------------------------------------------------------------


def test_cached_tokens_appear_only_when_a_prefix_is_sent_again(client):
    first = chat(client)
    assert "cached_tokens" not in extra(first.usage)
    assert first.usage.prompt_tokens_details is None
    again = chat(client)
    cached = extra(again.usage)["cached_tokens"]
    assert 0 < cached <= again.usage.prompt_tokens
    assert again.usage.prompt_tokens_details.cached_tokens == cached
    longer = chat(client, messages=[*HELLO, {"role": "assistant", "content": "Hi there."},
                                    {"role": "user", "content": "Tell me more."}])
    assert extra(longer.usage)["cached_tokens"] == cached


def test_the_cache_is_per_key(client):
    chat(client)
    other = chat(client.with_options(api_key="sk-other"))
    assert "cached_tokens" not in extra(other.usage)
    assert other.usage.prompt_tokens_details is None


# --- partial mode (§3) ----------------------------------------------------------------------


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2.6"])
def test_partial_mode_returns_only_the_continuation(client, model):
    prefix = "Once upon a time"
    reply = chat(client, model, messages=[
        {"role": "user", "content": "Tell me a story."},
        {"role": "assistant", "content": prefix, "partial": True}])
    content = reply.choices[0].message.content
    assert content
    assert not content.startswith(prefix) and prefix not in content


def test_partial_mode_role_play_name_with_empty_content(client):
    reply = chat(client, "moonshot-v1-8k", messages=[
        {"role": "system", "content": "Play Dr. Kelsier."},
        {"role": "user", "content": "Who are you?"},
        {"role": "assistant", "name": "Dr. Kelsier", "content": "", "partial": True}])
    content = reply.choices[0].message.content
    assert content and not content.startswith("Dr. Kelsier")


# --- JSON mode and structured output (§5) ----------------------------------------------------


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview", "kimi-k2.6"])
def test_json_mode_returns_a_json_object(client, model):
    reply = chat(client, model, response_format={"type": "json_object"},
                 messages=[{"role": "user", "content": "Reply in JSON."}])
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


def test_structured_output_matches_the_given_schema(client):
    schema = {"type": "object", "properties": {"city": {"type": "string"},
                                               "celsius": {"type": "number"}},
              "required": ["city", "celsius"], "additionalProperties": False}
    reply = chat(client, "kimi-k2.6", messages=[{"role": "user", "content": "Weather?"}],
                 response_format={"type": "json_schema",
                                  "json_schema": {"name": "weather", "schema": schema}})
    jsonschema.validate(json.loads(reply.choices[0].message.content), schema)


def test_json_schema_mode_without_a_schema_is_refused(client):
    """The spec: type json_schema 'requires the json_schema field'."""
    with pytest.raises(openai.BadRequestError) as caught:
        chat(client, response_format={"type": "json_schema"})
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["message"].startswith("Invalid request: response_format")
    assert "json_schema" in caught.value.body["message"]


# --- tool calls (§1.3, §4.2) ---------------------------------------------------------------

PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}},
              "required": ["city"]}
WEATHER = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city", "parameters": PARAMETERS}}]
ASK = [{"role": "user", "content": "Weather in Paris?"}]
PICK = {"type": "function", "function": {"name": "get_weather"}}


@pytest.mark.parametrize(("model", "choice", "body", "call_id"), [
    ("kimi-k2.6", "required", THINKING_OFF, "get_weather_0"),
    ("kimi-k2.5", PICK, THINKING_OFF, "get_weather_0"),
    ("moonshot-v1-8k", "required", {}, "get_weather:0"),
    ("moonshot-v1-8k", PICK, {}, "get_weather:0"),
])
def test_a_forced_tool_choice_gets_a_tool_call(client, model, choice, body, call_id):
    reply = chat(client, model, ASK, tools=WEATHER, tool_choice=choice, extra_body=body)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == ""
    (call,) = choice.message.tool_calls
    assert call.id == call_id and call.type == "function"
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), PARAMETERS)


def test_tool_choice_none_gets_text(client):
    reply = chat(client, "moonshot-v1-8k", ASK, tools=WEATHER, tool_choice="none")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content and not reply.choices[0].message.tool_calls


# --- seeds and reproducibility ---------------------------------------------------------------

BODY = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Write a haiku."}]}


def fresh_http(seed: int = 0):
    app = create_app(mock=Mock(Settings(clock="virtual", log_level="warning", seed=seed)))
    return http_client(app, event_hooks={"response": [spec_check.hook]})


def replies(http, count: int, headers=None) -> list[bytes]:
    headers = {"Authorization": "Bearer sk-test", **(headers or {})}
    out = []
    for _ in range(count):
        reply = http.post("/v1/chat/completions", json=BODY, headers=headers)
        assert reply.status_code == 200
        out.append(reply.content)
    return out


def test_the_same_seed_reproduces_every_byte_on_a_fresh_mock():
    with fresh_http(seed=7) as one, fresh_http(seed=7) as two:
        assert replies(one, 3) == replies(two, 3)


def test_a_repeated_call_gets_a_new_reply_that_is_itself_reproducible():
    with fresh_http() as one, fresh_http() as two:
        first, second = replies(one, 2)
        assert json.loads(first)["choices"] != json.loads(second)["choices"]
        assert replies(two, 2) == [first, second]


def first_content(seed_header: str) -> str:
    with fresh_http() as http:
        reply = replies(http, 1, {"X-Mockshot-Seed": seed_header})[0]
    return json.loads(reply)["choices"][0]["message"]["content"]


def test_the_seed_header_changes_the_reply():
    assert len({first_content(seed) for seed in ("1", "2", "3")}) == 3
    assert first_content("2") == first_content("2")


def test_the_seed_setting_changes_the_reply():
    with fresh_http(seed=1) as one, fresh_http(seed=2) as two:
        assert replies(one, 1) != replies(two, 1)
