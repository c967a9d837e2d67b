"""The Anthropic-compatible surface, `POST /anthropic/v1/messages`, through the official
`anthropic` SDK (reference §16): the same engine as `/v1/chat/completions` in Anthropic's
format. Every reply and every stream event is checked against
`openapi/anthropic-messages.json` by the clients' response hooks below.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache

import anthropic
import jsonschema
import openai
import pytest
from openapi_spec_validator import validate

from mockshot import Settings, async_http_client, create_app, http_client
from mockshot.errors import APIError
from mockshot.spec import spec_dir
from mockshot.surfaces.anthropic_format import error_type, tool_input
from mockshot.surfaces.anthropic_messages import COUNT_PATH, PATH, request_validator
from mockshot.transport import httpx_module

from . import spec_check

KEY = "sk-test"
HELLO = [{"role": "user", "content": "Hello"}]
OFF = {"type": "disabled"}
WEATHER = {
    "name": "get_weather",
    "description": "The current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
                       "days": {"type": "integer", "minimum": 1, "maximum": 7}},
        "required": ["city", "unit"],
    },
}
CLOCK = {"name": "get_time", "input_schema": {"type": "object", "properties": {
    "zone": {"type": "string"}}, "required": ["zone"]}}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


# --- checking every reply against the surface's own document --------------------------


@cache
def document() -> dict:
    return json.loads((spec_dir() / "anthropic-messages.json").read_text())


@cache
def schema(name: str) -> jsonschema.Draft202012Validator:
    root = {"$ref": f"#/components/schemas/{name}", "components": document()["components"]}
    return jsonschema.Draft202012Validator(root)


def conforms(name: str, instance: object) -> None:
    error = jsonschema.exceptions.best_match(schema(name).iter_errors(instance))
    assert error is None, f"{name}: {error.message} at {list(error.absolute_path)}"


EVENT = re.compile(rb"event: ([a-z_]+)\ndata: ([^\n]*)\n\n")


def events(body: bytes) -> list[dict]:
    """The stream's events, after checking the framing covers every byte."""
    found = list(EVENT.finditer(body))
    assert b"".join(m.group(0) for m in found) == body, "bytes outside `event:/data:` frames"
    out = []
    for match in found:
        data = json.loads(match.group(2))
        assert data["type"] == match.group(1).decode(), "event name differs from data.type"
        out.append(data)
    return out


def well_ordered(stream: list[dict]) -> None:
    """message_start, ping, blocks started/delta'd/stopped in index order, message_delta,
    message_stop (or an `error` event ending the stream early)."""
    kinds = [e["type"] for e in stream]
    assert kinds[:2] == ["message_start", "ping"]
    if kinds[-1] == "error":
        return
    assert kinds[-2:] == ["message_delta", "message_stop"]
    open_block = -1
    for event in stream[2:-2]:
        if event["type"] == "content_block_start":
            assert event["index"] == open_block + 1
            open_block = event["index"]
        else:
            assert event["index"] == open_block
            assert event["type"] in ("content_block_delta", "content_block_stop")


def check(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    if path == COUNT_PATH and method == "POST":
        assert str(status) in document()["paths"][COUNT_PATH]["post"]["responses"], status
        conforms("MessageTokensCount" if status == 200 else "ErrorResponse", json.loads(body))
        return
    if path.startswith("/anthropic/") and (path != PATH or method != "POST"):
        conforms("ErrorResponse", json.loads(body))  # no such route: the Anthropic envelope
        return
    if path != PATH:
        spec_check.check(method, path, status, content_type, body)
        return
    assert str(status) in document()["paths"][PATH]["post"]["responses"], status
    if status != 200:
        conforms("ErrorResponse", json.loads(body))
    elif content_type.startswith("text/event-stream"):
        stream = events(body)
        for event in stream:
            conforms("MessageStreamEvent", event)
        well_ordered(stream)
    else:
        conforms("Message", json.loads(body))


def hook(response) -> None:
    response.read()
    check(response.request.method, response.request.url.path, response.status_code,
          response.headers.get("content-type", ""), response.content)


async def async_hook(response) -> None:
    await response.aread()
    hook(response)


HOOKS = {"response": [hook]}


# --- clients --------------------------------------------------------------------------------


def claude_for(app, **kwargs) -> anthropic.Anthropic:
    kwargs.setdefault("api_key", KEY)
    return anthropic.Anthropic(base_url="http://mockshot.local/anthropic", max_retries=0,
                               http_client=http_client(app, event_hooks=HOOKS), **kwargs)


def fresh(**settings) -> anthropic.Anthropic:
    """A client of a new mock: the same seed gives the same reply on it."""
    return claude_for(create_app(Settings(clock="virtual", log_level="warning", **settings)))


def fresh_openai() -> openai.OpenAI:
    app = create_app(Settings(clock="virtual", log_level="warning"))
    inner = http_client(app, event_hooks={"response": [spec_check.hook]})
    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1", http_client=inner,
                         max_retries=0)


@pytest.fixture
def claude(app) -> anthropic.Anthropic:
    return claude_for(app)


@pytest.fixture
def raw(app):
    with http_client(app, event_hooks=HOOKS) as client:
        yield client


def ask(client, model="kimi-k2.6", messages=HELLO, max_tokens=400, **kwargs):
    return client.messages.create(model=model, messages=messages, max_tokens=max_tokens,
                                  **kwargs)


def streamed(client, model="kimi-k2.6", messages=HELLO, max_tokens=400, **kwargs):
    with client.messages.stream(model=model, messages=messages, max_tokens=max_tokens,
                                **kwargs) as stream:
        for _ in stream:
            pass
        return stream.get_final_message()


def blocks(message, kind: str) -> list:
    return [b for b in message.content if b.type == kind]


# --- the document ---------------------------------------------------------------------------


def test_the_surface_document_is_valid_openapi_31():
    validate(document())


def test_the_request_validator_is_compiled_once():
    assert request_validator() is request_validator()
    create_app(Settings(clock="virtual"))
    assert request_validator() is request_validator()


# --- a message ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview", "kimi-k2.5",
                                   "kimi-k2.6"])
def test_a_message_names_itself_like_anthropic(claude, model):
    message = ask(claude, model)
    assert re.fullmatch(r"msg_01[0-9A-Za-z]{22}", message.id)
    assert (message.type, message.role, message.model) == ("message", "assistant", model)
    assert message.content[-1].type == "text" and message.content[-1].text.endswith(".")
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


@pytest.mark.anyio
async def test_async_create(app):
    client = anthropic.AsyncAnthropic(
        api_key=KEY, base_url="http://mockshot.local/anthropic", max_retries=0,
        http_client=async_http_client(app, event_hooks={"response": [async_hook]}))
    message = await client.messages.create(model="kimi-k2.6", max_tokens=300, messages=HELLO)
    assert message.stop_reason == "end_turn"
    async with client.messages.stream(model="kimi-k2.6", max_tokens=300,
                                      messages=HELLO) as stream:
        text = "".join([chunk async for chunk in stream.text_stream])
    assert text == (await stream.get_final_message()).content[-1].text


def test_the_same_seed_gives_the_same_message_and_another_seed_another():
    first, again = ask(fresh()), ask(fresh())
    assert first == again
    assert ask(fresh(seed=7)).content != first.content


@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-k2.6", "kimi-k2-thinking"])
def test_a_thinking_model_puts_its_thinking_block_before_the_text(claude, model):
    message = ask(claude, model)
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking and thinking.signature
    assert text.type == "text"
    assert ask(claude, model).content[0].signature != thinking.signature  # a hash of the text


def test_thinking_disabled_gives_no_thinking_block(claude):
    message = ask(claude, thinking=OFF)
    assert [b.type for b in message.content] == ["text"]


@pytest.mark.parametrize("thinking", [{"type": "enabled", "budget_tokens": 2048},
                                      {"type": "adaptive"}])
def test_thinking_enabled_or_adaptive_thinks(claude, thinking):
    message = ask(claude, max_tokens=3000, thinking=thinking)
    assert message.content[0].type == "thinking"


def test_sampling_in_anthropics_range_is_accepted_even_where_moonshot_fixes_it(claude):
    """kimi-k2.6 refuses any temperature but 1 on the OpenAI surface; Anthropic clients
    send one on every call, so this surface checks the range only."""
    sampling = {"temperature": 0.3, "top_p": 0.9, "top_k": 40}
    message = ask(claude, metadata={"user_id": "u-1"}, extra_body=sampling)
    assert message.stop_reason == "end_turn"


def test_max_tokens_cuts_the_reply_to_the_token(claude):
    message = ask(claude, "kimi-k2-0905-preview", max_tokens=5)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5


def test_max_tokens_can_end_a_reply_while_it_thinks(claude):
    message = ask(claude, max_tokens=4)
    assert [b.type for b in message.content] == ["thinking"]
    assert message.stop_reason == "max_tokens"


def test_a_stop_sequence_ends_the_reply_and_is_named(claude):
    message = ask(claude, "kimi-k2-0905-preview", stop_sequences=["."])
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", ".")
    assert "." not in message.content[0].text


def test_a_stop_sequence_that_never_comes_ends_the_turn(claude):
    message = ask(claude, "kimi-k2-0905-preview", stop_sequences=["never-said"])
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)


def prompt_tokens(message) -> int:
    return message.usage.input_tokens + (message.usage.cache_read_input_tokens or 0)


def test_a_system_prompt_counts_as_a_system_message(claude):
    plain = prompt_tokens(ask(claude, "moonshot-v1-8k"))
    as_text = prompt_tokens(ask(claude, "moonshot-v1-8k", system="Answer briefly."))
    as_blocks = prompt_tokens(ask(claude, "moonshot-v1-8k",
                                  system=[{"type": "text", "text": "Answer briefly."}]))
    assert as_text == as_blocks > plain


def test_cached_prompt_tokens_are_reported_apart_from_the_rest(claude):
    first = ask(claude, "kimi-k2-0905-preview")
    again = ask(claude, "kimi-k2-0905-preview",
                messages=[*HELLO, {"role": "assistant", "content": first.content[0].text},
                          {"role": "user", "content": "More"}])
    assert first.usage.cache_read_input_tokens is None
    assert 0 < again.usage.cache_read_input_tokens < prompt_tokens(again)
    assert again.usage.input_tokens == prompt_tokens(again) - again.usage.cache_read_input_tokens


def test_an_image_block_reaches_a_vision_model(claude):
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": PNG}}
    message = ask(claude, messages=[{"role": "user", "content": [
        image, {"type": "text", "text": "What is this?"}]}])
    assert message.usage.input_tokens > 1000  # the image's fixed price
    with pytest.raises(anthropic.BadRequestError, match="does not support image input"):
        ask(claude, "kimi-k2-0905-preview", messages=[{"role": "user", "content": [image]}])


def test_a_trailing_assistant_message_is_a_prefill(claude):
    message = ask(claude, "kimi-k2-0905-preview", messages=[
        *HELLO, {"role": "assistant", "content": "Well,"}])
    assert message.content[0].text.startswith(" ")  # continues "Well," mid-sentence


def test_x_api_key_and_bearer_both_authenticate_and_the_version_is_optional(raw):
    body = {"model": "kimi-k2.6", "max_tokens": 50, "messages": HELLO}
    for headers in ({"x-api-key": KEY, "anthropic-version": "2023-06-01"},
                    {"Authorization": f"Bearer {KEY}"}, {"x-api-key": KEY}):
        assert raw.post(PATH, json=body, headers=headers).status_code == 200


def test_the_journal_names_the_surface(claude, mock):
    ask(claude)
    entry = mock.journal()[-1]
    assert (entry.operation, entry.model, entry.status) == (
        f"POST {PATH}", "kimi-k2.6", 200)


# --- streaming ------------------------------------------------------------------------------


STREAM_CASES = {
    "thinking": {},
    "no thinking": {"model": "kimi-k2-0905-preview"},
    "cut while thinking": {"max_tokens": 4},
    "cut": {"model": "kimi-k2-0905-preview", "max_tokens": 9},
    "stop sequence": {"model": "kimi-k2-0905-preview", "stop_sequences": ["."]},
    "tool use": {"tools": [WEATHER, CLOCK]},
    "forced tool": {"tools": [WEATHER], "thinking": OFF,
                    "tool_choice": {"type": "tool", "name": "get_weather"}},
}


@pytest.mark.parametrize("case", STREAM_CASES.values(), ids=STREAM_CASES.keys())
def test_a_stream_adds_up_to_the_same_message(case):
    assert streamed(fresh(), **case).model_dump() == ask(fresh(), **case).model_dump()


@pytest.mark.parametrize("max_tokens", range(5, 24))
def test_a_tool_call_cut_by_max_tokens_streams_the_same_partial_input(max_tokens):
    case = {"model": "kimi-k2-0905-preview", "tools": [WEATHER], "max_tokens": max_tokens,
            "tool_choice": {"type": "any"}}
    message = ask(fresh(), **case)
    assert streamed(fresh(), **case).model_dump() == message.model_dump()
    assert message.stop_reason in ("max_tokens", "tool_use")


def test_the_events_come_in_anthropic_order(raw):
    body = {"model": "kimi-k2.6", "max_tokens": 400, "messages": HELLO, "stream": True}
    response = raw.post(PATH, json=body, headers={"x-api-key": KEY})
    assert response.headers["content-type"].startswith("text/event-stream")
    stream = events(response.content)
    start = stream[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["output_tokens"] == 1
    kinds = [(e["type"], e.get("delta", {}).get("type") or e.get("content_block", {})
              .get("type")) for e in stream]
    thinking_end = kinds.index(("content_block_stop", None))
    assert kinds[2] == ("content_block_start", "thinking")
    assert kinds[thinking_end - 1] == ("content_block_delta", "signature_delta")
    assert kinds[thinking_end + 1] == ("content_block_start", "text")
    final = stream[-2]
    assert final["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert final["usage"]["output_tokens"] > 1


def test_a_mid_stream_error_is_an_error_event(claude):
    faulty = claude.with_options(default_headers={"X-Mockshot-Fault": "error_frame:after=3"})
    with pytest.raises(anthropic.APIStatusError) as caught:
        streamed(faulty)
    assert caught.value.body == {"type": "error", "error": {
        "type": "overloaded_error",
        "message": "The engine is currently overloaded, please try again later"}}


def test_over_a_real_socket(served):
    inner = httpx_module().Client(event_hooks=HOOKS)
    client = anthropic.Anthropic(api_key=KEY, base_url=f"{served.url}/anthropic",
                                 http_client=inner, max_retries=0)
    message = ask(client, tools=[WEATHER])
    assert message.stop_reason == "tool_use"
    final = streamed(client, "kimi-k2-0905-preview", max_tokens=30)
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 30


# --- tools ----------------------------------------------------------------------------------


def answer(message, result="18 degrees and sunny") -> list[dict]:
    """The conversation's next two turns: the assistant's blocks, the tools' results."""
    results = [{"type": "tool_result", "tool_use_id": b.id, "content": result}
               for b in blocks(message, "tool_use")]
    return [{"role": "assistant", "content": message.content},
            {"role": "user", "content": results}]


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2-0905-preview"])
def test_an_agent_loop_calls_a_tool_then_answers(claude, model):
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = ask(claude, model, messages, tools=[WEATHER])
    assert first.stop_reason == "tool_use"
    (call,) = blocks(first, "tool_use")
    assert (call.id, call.name) == ("get_weather_0", "get_weather")
    jsonschema.validate(call.input, WEATHER["input_schema"])
    assert (first.content[0].type == "thinking") == (model == "kimi-k2.6")
    final = ask(claude, model, messages + answer(first), tools=[WEATHER])
    assert final.stop_reason == "end_turn"
    assert final.content[-1].type == "text" and final.content[-1].text


def test_tool_results_may_be_text_blocks_and_errors(claude):
    messages = [{"role": "user", "content": "Weather?"}]
    first = ask(claude, "kimi-k2-0905-preview", messages, tools=[WEATHER])
    (call,) = blocks(first, "tool_use")
    result = {"type": "tool_result", "tool_use_id": call.id, "is_error": True,
              "content": [{"type": "text", "text": "city not found"}]}
    final = ask(claude, "kimi-k2-0905-preview", [
        *messages, {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result, {"type": "text", "text": "Try again?"}]}],
        tools=[WEATHER])
    assert final.stop_reason == "tool_use"  # the user spoke last, so the agent acts again


@pytest.mark.parametrize(("choice", "names"), [
    ({"type": "any"}, {"get_weather", "get_time"}),
    ({"type": "tool", "name": "get_time"}, {"get_time"}),
])
def test_tool_choice_forces_a_call(claude, choice, names):
    after_tool = [{"role": "user", "content": "Hi"}]
    message = ask(claude, "kimi-k2-0905-preview", after_tool, tools=[WEATHER, CLOCK],
                  tool_choice=choice)
    assert message.stop_reason == "tool_use"
    assert {b.name for b in blocks(message, "tool_use")} <= names


def test_tool_choice_none_and_auto(claude):
    message = ask(claude, tools=[WEATHER], tool_choice={"type": "none"})
    assert message.stop_reason == "end_turn" and not blocks(message, "tool_use")
    assert ask(claude, tools=[WEATHER], tool_choice={"type": "auto"}).stop_reason == "tool_use"


@pytest.mark.parametrize(("choice", "kind"), [({"type": "any"}, "required"),
                                              ({"type": "tool", "name": "get_weather"},
                                               "specified")])
def test_a_forced_tool_choice_is_refused_while_thinking(claude, choice, kind):
    with pytest.raises(anthropic.BadRequestError,
                       match=f"tool_choice '{kind}' is incompatible with thinking enabled"):
        ask(claude, tools=[WEATHER], tool_choice=choice)


def test_a_tool_use_turn_without_its_thinking_is_refused_while_thinking(claude):
    messages = [{"role": "user", "content": "Weather?"}]
    first = ask(claude, messages=messages, tools=[WEATHER])
    history = answer(first)
    history[0]["content"] = blocks(first, "tool_use")  # the thinking block dropped
    with pytest.raises(anthropic.BadRequestError) as caught:
        ask(claude, messages=messages + history, tools=[WEATHER], system="Be brief.")
    assert caught.value.body["error"]["message"] == (
        "thinking is enabled but reasoning_content is missing in assistant tool call message "
        "at index 2")  # the index among the converted messages: system, user, assistant
    assert ask(claude, messages=messages + history, tools=[WEATHER], thinking=OFF)


def test_an_unanswered_tool_use_is_refused(claude):
    first = ask(claude, "kimi-k2-0905-preview", [{"role": "user", "content": "Hi"}],
                tools=[WEATHER])
    with pytest.raises(anthropic.BadRequestError, match="tool_calls without response"):
        ask(claude, "kimi-k2-0905-preview", [
            {"role": "user", "content": "Hi"}, {"role": "assistant", "content": first.content},
            {"role": "user", "content": "and?"}], tools=[WEATHER])


def test_tool_input_parses_what_the_cut_left():
    assert tool_input('{"city": "Paris", "unit": "c"}') == {"city": "Paris", "unit": "c"}
    assert tool_input('{"city": "Paris", "days": [1, 2') == {"city": "Paris", "days": [1, 2]}
    assert tool_input('{"city": "Pa') == {}
    assert tool_input('{"a": "x\\"y", "b') == {"a": 'x"y'}
    assert tool_input("") == {}


# --- errors ---------------------------------------------------------------------------------


def envelope(error: anthropic.APIStatusError, kind: str, message: str) -> None:
    assert error.body == {"type": "error", "error": {"type": kind, "message": message}}


def test_a_missing_key_is_an_authentication_error(app):
    client = claude_for(app, api_key=None, default_headers={"Authorization": anthropic.Omit()})
    with pytest.raises(anthropic.AuthenticationError) as caught:
        ask(client)
    envelope(caught.value, "authentication_error", "Incorrect API key provided")


def test_a_key_the_mock_does_not_know_is_an_authentication_error():
    with pytest.raises(anthropic.AuthenticationError) as caught:
        ask(fresh(api_key=("sk-other",)))
    envelope(caught.value, "authentication_error", "Invalid Authentication")


def test_an_unknown_model_is_not_found(claude):
    with pytest.raises(anthropic.NotFoundError) as caught:
        ask(claude, "kimi-nope")
    envelope(caught.value, "not_found_error",
             "Not found the model kimi-nope or Permission denied")


def test_an_empty_balance_is_a_rate_limit_error():
    with pytest.raises(anthropic.RateLimitError) as caught:
        ask(fresh(balance=0))
    assert caught.value.status_code == 429
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert "insufficient balance" in caught.value.body["error"]["message"]


BAD_REQUESTS = {
    "missing max_tokens": ({"max_tokens": anthropic.NOT_GIVEN, "timeout": 30},
                           '"max_tokens" is a required property'),
    "max_tokens 0": ({"max_tokens": 0}, "max_tokens: 0 is less than the minimum of 1"),
    "bad role": ({"messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
    "bad block type": ({"messages": [{"role": "user", "content": [
        {"type": "video", "text": "x"}]}]}, "messages[0].content[0].type"),
    "block without its field": ({"messages": [{"role": "user", "content": [
        {"type": "text"}]}]}, "messages[0].content[0].text: \"text\" is a required property"),
    "tool_use from the user": ({"messages": [{"role": "user", "content": [
        {"type": "tool_use", "id": "a", "name": "b", "input": {}}]}]},
        "messages[0].content[0]: a tool_use block is not allowed in a user message"),
    "no messages": ({"messages": []}, "messages must not be empty"),
    "temperature above 1": ({"extra_body": {"temperature": 1.5}}, "temperature"),
    "tool without input_schema": ({"tools": [{"name": "f"}]}, "input_schema"),
    "tool choice without tools": ({"thinking": OFF, "tool_choice": {"type": "any"}},
                                  "needs tools"),
    "image url": ({"messages": [{"role": "user", "content": [{"type": "image", "source": {
        "type": "url", "url": "https://example.com/a.png"}}]}]}, "unsupported image url"),
    "stream not a boolean": ({"extra_body": {"stream": "yes"}}, "stream"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_bad_request_is_a_bad_request_error(claude, case):
    kwargs, fragment = case
    with pytest.raises(anthropic.BadRequestError) as caught:
        ask(claude, **kwargs)
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert fragment in caught.value.body["error"]["message"]


def test_a_body_that_is_not_json_answers_in_the_anthropic_envelope(raw):
    response = raw.post(PATH, content=b"{nope", headers={"x-api-key": KEY,
                                                          "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(("moonshot", "status", "kind"), [
    ("invalid_request_error", 400, "invalid_request_error"),
    ("content_filter", 400, "invalid_request_error"),
    ("incorrect_api_key_error", 401, "authentication_error"),
    ("invalid_authentication_error", 401, "authentication_error"),
    ("permission_denied_error", 403, "permission_error"),
    ("resource_not_found_error", 404, "not_found_error"),
    ("rate_limit_reached_error", 429, "rate_limit_error"),
    ("exceeded_current_quota_error", 429, "rate_limit_error"),
    ("exceeded_current_quota_error", 403, "rate_limit_error"),
    ("engine_overloaded_error", 429, "overloaded_error"),
    ("server_error", 500, "api_error"),
    ("not_implemented_error", 501, "api_error"),
    ("mockshot_unmatched_error", 422, "invalid_request_error"),
])
def test_moonshot_error_types_get_anthropic_names(moonshot, status, kind):
    assert error_type(APIError(status, moonshot, "text")) == kind


def test_an_overloaded_engine_keeps_its_status_and_retry_after(claude):
    faulty = claude.with_options(default_headers={"X-Mockshot-Fault": "overloaded"})
    with pytest.raises(anthropic.RateLimitError) as caught:
        ask(faulty)
    assert caught.value.body["error"]["type"] == "overloaded_error"
    assert caught.value.response.headers["retry-after"] == "1"


# --- the same engine on both surfaces -------------------------------------------------------


SYSTEM = "You are a weather bot."
QUESTION = "Weather in Paris and the time in Tokyo?"


def openai_tool(tool: dict) -> dict:
    function = {"name": tool["name"], "parameters": tool["input_schema"]}
    if "description" in tool:
        function = {"name": tool["name"], "description": tool["description"],
                    "parameters": tool["input_schema"]}
    return {"type": "function", "function": function}


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2-0905-preview"])
def test_both_surfaces_give_the_same_tool_calls_then_the_same_text(model):
    tools = [WEATHER, CLOCK]
    oa_messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    oa_first = fresh_openai().chat.completions.create(
        model=model, messages=oa_messages, tools=[openai_tool(t) for t in tools],
        max_tokens=2000)
    an_messages = [{"role": "user", "content": QUESTION}]
    an_first = ask(fresh(), model, an_messages, max_tokens=2000, system=SYSTEM, tools=tools)

    oa_message = oa_first.choices[0].message
    calls = oa_message.tool_calls
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (b.id, b.name, b.input) for b in blocks(an_first, "tool_use")]
    reasoning = (oa_message.model_extra or {}).get("reasoning_content")
    assert [b.thinking for b in blocks(an_first, "thinking")] == ([reasoning] if reasoning
                                                                  else [])
    assert an_first.usage.input_tokens == oa_first.usage.prompt_tokens
    assert an_first.usage.output_tokens == oa_first.usage.completion_tokens

    echoed = {"role": "assistant", "content": "", "tool_calls": [
        {"id": c.id, "type": "function",
         "function": {"name": c.function.name, "arguments": c.function.arguments}}
        for c in calls]}
    if reasoning is not None:
        echoed["reasoning_content"] = reasoning
    results = [{"role": "tool", "tool_call_id": c.id, "content": f"result {i}"}
               for i, c in enumerate(calls)]
    oa_final = fresh_openai().chat.completions.create(
        model=model, messages=[*oa_messages, echoed, *results],
        tools=[openai_tool(t) for t in tools], max_tokens=2000)
    an_results = [{"type": "tool_result", "tool_use_id": b.id, "content": f"result {i}"}
                  for i, b in enumerate(blocks(an_first, "tool_use"))]
    an_final = ask(fresh(), model, [
        *an_messages, {"role": "assistant", "content": an_first.content},
        {"role": "user", "content": an_results}], max_tokens=2000, system=SYSTEM, tools=tools)

    assert an_final.content[-1].text == oa_final.choices[0].message.content
    assert an_final.usage.input_tokens == oa_final.usage.prompt_tokens


def test_both_surfaces_give_the_same_text_for_a_plain_conversation():
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
               {"role": "user", "content": "Tell me a story."}]
    oa = fresh_openai().chat.completions.create(
        model="kimi-k2.6", messages=history, max_tokens=300, stop=["zzz"],
        extra_body={"thinking": {"type": "disabled"}})
    an = ask(fresh(), messages=history, max_tokens=300, stop_sequences=["zzz"], thinking=OFF)
    assert an.content[0].text == oa.choices[0].message.content
    assert an.stop_reason == "end_turn" and oa.choices[0].finish_reason == "stop"


def test_a_prefill_is_the_openai_surfaces_partial_mode():
    prefix = [{"role": "user", "content": "Hi"}]
    oa = fresh_openai().chat.completions.create(
        model="kimi-k2-0905-preview", max_tokens=200,
        messages=[*prefix, {"role": "assistant", "content": "Well,", "partial": True}])
    an = ask(fresh(), "kimi-k2-0905-preview", [*prefix, {"role": "assistant",
                                                         "content": "Well,"}], max_tokens=200)
    assert an.content[0].text == oa.choices[0].message.content


# --- count_tokens and routes the surface does not have -------------------------------------


def test_count_tokens_equals_the_messages_input_tokens(claude):
    counted = claude.messages.count_tokens(model="kimi-k2.6", messages=HELLO)
    reply = ask(claude, messages=HELLO)
    assert counted.input_tokens == reply.usage.input_tokens > 0


def test_count_tokens_of_an_unknown_model_is_not_found(claude):
    with pytest.raises(anthropic.NotFoundError) as caught:
        claude.messages.count_tokens(model="kimi-nope", messages=HELLO)
    assert caught.value.body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(("method", "path", "status", "kind"), [
    ("GET", PATH, 405, "invalid_request_error"),
    ("POST", "/anthropic/v1/complete", 404, "not_found_error"),
])
def test_routes_under_anthropic_answer_in_its_envelope(raw, method, path, status, kind):
    reply = raw.request(method, path, headers={"x-api-key": KEY}, json={})
    assert reply.status_code == status
    assert reply.json()["type"] == "error"
    assert reply.json()["error"]["type"] == kind


def test_a_tool_result_may_carry_an_image(claude):
    """Claude Code returns screenshots as image blocks inside tool_result."""
    pixel = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    history = [
        {"role": "user", "content": "Take a screenshot."},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Call the tool.", "signature": "s"},
            {"type": "tool_use", "id": "screenshot_0", "name": "screenshot", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "screenshot_0",
                                      "content": [{"type": "text", "text": "Here it is."},
                                                  {"type": "image", "source": {
                                                      "type": "base64", "media_type": "image/png",
                                                      "data": pixel}}]}]}]
    tools = [{"name": "screenshot", "input_schema": {"type": "object", "properties": {}}}]
    with_image = ask(claude, messages=history, tools=tools)
    assert with_image.stop_reason == "end_turn"
    history[2]["content"][0]["content"] = [{"type": "text", "text": "Here it is."}]
    without = claude.messages.count_tokens(model="kimi-k2.6", messages=history, tools=tools)
    assert with_image.usage.input_tokens + (with_image.usage.cache_read_input_tokens or 0) \
        - without.input_tokens >= 1024  # the image's fixed cost, plus its user turn
