"""Tool use through the official openai SDK (reference §1.3, §2.4, §4, §6, §17; Mock
defaults 1, 4, 8): an agent loop written with the SDK's types (the assistant message goes
back as `model_dump()`, which keeps `reasoning_content`), parallel calls, tool_choice, the
builtin `$web_search` and the completion budget.
"""

from __future__ import annotations

import asyncio
import json
from typing import Literal

import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam, ChatCompletionToolParam
from pydantic import BaseModel, Field

OFF = {"thinking": {"type": "disabled"}}
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER

WEATHER = {"type": "object", "additionalProperties": False, "required": ["city", "unit"],
           "properties": {"city": {"type": "string", "minLength": 2, "maxLength": 40},
                          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                          "days": {"type": "integer", "minimum": 1, "maximum": 14}}}
PERSON = {"type": "object", "required": ["name", "email"], "properties": {
    "name": {"type": "string"}, "email": {"type": "string", "format": "email"},
    "age": {"type": "integer", "minimum": 0, "exclusiveMaximum": 130}}}
FLIGHT = {"type": "object", "required": ["passenger", "date", "seats"], "properties": {
    "passenger": PERSON, "date": {"type": "string", "format": "date"},
    "seats": {"type": "array", "items": {"type": "string", "enum": ["A", "B", "C", "D"]},
              "minItems": 1, "maxItems": 3, "uniqueItems": True},
    "fare": {"type": "number", "exclusiveMinimum": 0, "maximum": 5000}}}
SEARCH = {"type": "object", "required": ["query", "when", "filter"], "properties": {
    "query": {"type": "string", "minLength": 3},
    "when": {"oneOf": [{"type": "string", "format": "date-time"},
                       {"type": "integer", "minimum": 0}]},
    "filter": {"anyOf": [{"type": "null"}, {"type": "object", "required": ["site"], "properties": {
        "site": {"type": "string", "format": "uri"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 4}}}]}}}
SCHEMAS = {"get_weather": WEATHER, "book_flight": FLIGHT, "search_docs": SEARCH}
TOOLS: list[ChatCompletionToolParam] = [
    {"type": "function", "function": {"name": name, "description": f"{name} tool",
                                      "parameters": schema}}
    for name, schema in SCHEMAS.items()]
ASK: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are a travel agent."},
    {"role": "user", "content": "Book me a flight to Paris and check the weather there."}]
WEB_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}

# (model, extra_body, thinks, id of the call to `name` at `index`)
MODELS = {
    "kimi-k2.6": ("kimi-k2.6", None, True, "{name}_{index}"),
    "kimi-k2.6 thinking off": ("kimi-k2.6", OFF, False, "{name}_{index}"),
    "kimi-k2-0905-preview": ("kimi-k2-0905-preview", None, False, "{name}_{index}"),
    "moonshot-v1-8k": ("moonshot-v1-8k", None, False, "{name}:{index}"),
}


def run_tool(name: str, arguments: str) -> str:
    """The agent's side: a call whose arguments break the schema is a failed test."""
    args = json.loads(arguments)
    jsonschema.validate(args, SCHEMAS[name], format_checker=FORMATS)
    return json.dumps({"ok": True, "tool": name})


def check_tool_turn(reply: ChatCompletion, thinks: bool, id_style: str) -> None:
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == ""  # "" beside tool calls, never null (§1.3)
    assert ("reasoning_content" in (choice.message.model_extra or {})) == thinks
    for index, call in enumerate(choice.message.tool_calls):
        assert call.type == "function"
        assert call.id == id_style.format(name=call.function.name, index=index)
        assert call.model_extra["index"] == index  # `index` even non-stream (§1.3)


def extend(messages: list, reply: ChatCompletion) -> None:
    message = reply.choices[0].message
    messages.append(message.model_dump())
    for call in message.tool_calls or ():
        messages.append({"role": "tool", "tool_call_id": call.id, "name": call.function.name,
                         "content": run_tool(call.function.name, call.function.arguments)})


def agent_loop(client, model, body=None) -> tuple[list, list[ChatCompletion]]:
    messages, turns = list(ASK), []
    while not turns or turns[-1].choices[0].finish_reason == "tool_calls":
        assert len(turns) < 4, "the loop never ends"
        turns.append(client.chat.completions.create(model=model, messages=messages,
                                                    tools=TOOLS, extra_body=body))
        extend(messages, turns[-1])
    return messages, turns


@pytest.mark.parametrize("case", MODELS)
def test_an_agent_loop_runs_tools_then_answers(client, case):
    model, body, thinks, id_style = MODELS[case]
    messages, turns = agent_loop(client, model, body)
    (first, last) = turns  # one tool turn, then the answer
    check_tool_turn(first, thinks, id_style)
    if thinks:  # the dumped history carries the reasoning the service requires back (§4.1)
        assert messages[len(ASK)]["reasoning_content"] == first.choices[0].message.model_extra[
            "reasoning_content"]
    assert last.choices[0].finish_reason == "stop"
    assert last.choices[0].message.content and not last.choices[0].message.tool_calls
    assert last.usage.prompt_tokens > first.usage.prompt_tokens


def test_the_agent_loop_works_over_a_socket(served_client):
    _, (first, last) = agent_loop(served_client, "moonshot-v1-8k")
    check_tool_turn(first, False, "{name}:{index}")
    assert last.choices[0].finish_reason == "stop" and last.choices[0].message.content


def test_the_agent_loop_works_async(async_client):
    async def loop() -> tuple[ChatCompletion, ChatCompletion]:
        messages = list(ASK)
        create = async_client.chat.completions.create
        first = await create(model="kimi-k2.6", messages=messages, tools=TOOLS)
        extend(messages, first)
        return first, await create(model="kimi-k2.6", messages=messages, tools=TOOLS)

    first, last = asyncio.run(loop())
    check_tool_turn(first, True, "{name}_{index}")
    assert last.choices[0].finish_reason == "stop" and last.choices[0].message.content


class Passenger(BaseModel):
    name: str
    age: int = Field(ge=0, le=120)


class BookTrip(BaseModel):
    """Book a trip for up to four passengers."""
    passengers: list[Passenger] = Field(min_length=1, max_length=4)
    cabin: Literal["economy", "business"]
    note: str | None


@pytest.mark.parametrize("case", ["kimi-k2.6", "kimi-k2.6 thinking off", "moonshot-v1-8k"])
def test_parse_with_a_pydantic_tool_returns_parsed_arguments(client, case):
    """`openai.pydantic_function_tool` sends a strict schema with $defs and $ref."""
    model, body, thinks, id_style = MODELS[case]
    reply = client.chat.completions.parse(model=model, messages=ASK, extra_body=body,
                                          tools=[openai.pydantic_function_tool(BookTrip)])
    check_tool_turn(reply, thinks, id_style)
    (call,) = reply.choices[0].message.tool_calls
    assert isinstance(call.function.parsed_arguments, BookTrip)


def test_a_thinking_history_without_its_reasoning_is_refused(client):
    messages = list(ASK)
    extend(messages, client.chat.completions.create(model="kimi-k2.6", messages=messages,
                                                    tools=TOOLS))
    del messages[len(ASK)]["reasoning_content"]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="kimi-k2.6", messages=messages, tools=TOOLS)
    assert caught.value.body == {"message": "thinking is enabled but reasoning_content is "
                                 "missing in assistant tool call message at index 2",
                                 "type": "invalid_request_error"}


def seeded(client, model, body, seed, **kwargs) -> ChatCompletion:
    return client.chat.completions.create(
        model=model, messages=ASK, extra_body=body,
        extra_headers={"X-Mockshot-Seed": str(seed)}, **{"tools": TOOLS, **kwargs})


@pytest.mark.parametrize("case", ["kimi-k2.6", "kimi-k2.6 thinking off", "moonshot-v1-8k"])
def test_some_seeds_make_parallel_calls_to_distinct_tools(client, case):
    model, body, thinks, id_style = MODELS[case]
    parallel = [reply for seed in range(40)
                if len((reply := seeded(client, model, body, seed)).choices[0].message
                       .tool_calls) > 1]
    assert parallel, "no seed in 0..39 made parallel calls"
    for reply in parallel:
        check_tool_turn(reply, thinks, id_style)
        calls = reply.choices[0].message.tool_calls
        assert len({call.function.name for call in calls}) == len(calls)
        for call in calls:
            run_tool(call.function.name, call.function.arguments)


@pytest.mark.parametrize("case", ["kimi-k2.6", "moonshot-v1-8k"])
def test_a_streamed_tool_turn_assembles_to_the_same_reply(client, mock, case):
    """Deltas carry `index` always; the first per call has id, type, name and "" (§2.4)."""
    model, body, _, _ = MODELS[case]
    whole = seeded(client, model, body, 4).choices[0]
    mock.reset()  # the same call again: the same reply, streamed
    stream = client.chat.completions.create(model=model, messages=ASK, tools=TOOLS,
                                            extra_body=body, stream=True,
                                            extra_headers={"X-Mockshot-Seed": "4"})
    calls: list[dict] = []
    finish = None
    for chunk in stream:
        for delta in (d for c in chunk.choices for d in c.delta.tool_calls or ()):
            if delta.index == len(calls):
                assert delta.function.arguments == "" and delta.type == "function"
                calls.append({"id": delta.id, "name": delta.function.name, "arguments": ""})
            calls[delta.index]["arguments"] += delta.function.arguments
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    assert finish == "tool_calls"
    assert calls == [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                     for c in whole.message.tool_calls]


@pytest.mark.parametrize("case", MODELS)
def test_tool_choice_none_never_calls(client, case):
    model, body, _, _ = MODELS[case]
    for seed in range(8):
        choice = seeded(client, model, body, seed, tool_choice="none").choices[0]
        assert choice.finish_reason == "stop"
        assert choice.message.content and not choice.message.tool_calls


@pytest.mark.parametrize("case", ["kimi-k2.6 thinking off", "kimi-k2-0905-preview",
                                  "moonshot-v1-8k"])
def test_tool_choice_required_always_calls_even_after_tool_results(client, case):
    model, body, _, id_style = MODELS[case]
    for seed in range(6):
        reply = seeded(client, model, body, seed, tool_choice="required")
        check_tool_turn(reply, False, id_style)
        messages = list(ASK)
        extend(messages, reply)
        again = client.chat.completions.create(model=model, messages=messages, tools=TOOLS,
                                               tool_choice="required", extra_body=body)
        check_tool_turn(again, False, id_style)


@pytest.mark.parametrize("case", ["kimi-k2.6 thinking off", "kimi-k2-0905-preview",
                                  "moonshot-v1-8k"])
@pytest.mark.parametrize("name", SCHEMAS)
def test_tool_choice_naming_a_function_calls_exactly_that_function(client, case, name):
    model, body, _, id_style = MODELS[case]
    for seed in range(4):
        reply = seeded(client, model, body, seed,
                       tool_choice={"type": "function", "function": {"name": name}})
        check_tool_turn(reply, False, id_style)
        (call,) = reply.choices[0].message.tool_calls
        assert call.function.name == name
        run_tool(name, call.function.arguments)


@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-k2.6"])
@pytest.mark.parametrize(("tool_choice", "kind"), [
    ("required", "required"),
    ({"type": "function", "function": {"name": "get_weather"}}, "specified")])
def test_forcing_a_tool_with_thinking_on_is_the_real_400(client, model, tool_choice, kind):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=ASK, tools=TOOLS,
                                       tool_choice=tool_choice)
    assert caught.value.body == {
        "message": f"tool_choice '{kind}' is incompatible with thinking enabled",
        "type": "invalid_request_error"}


# --- the builtin $web_search (§4.3) ----------------------------------------------------------

def estimate(http, auth, model, messages) -> int:
    reply = http.post("/v1/tokenizers/estimate-token-count", headers=auth,
                      json={"model": model, "messages": messages})
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]["total_tokens"]


@pytest.mark.parametrize(("model", "body"), [("kimi-k2-0905-preview", None),
                                             ("kimi-k2.6", OFF), ("kimi-k2.6", None)])
def test_web_search_receipt_is_echoed_and_its_tokens_join_the_next_prompt(
        client, http, auth, model, body):
    ask = [{"role": "user", "content": "What happened in Paris today?"}]
    first = client.chat.completions.create(model=model, messages=ask, tools=[WEB_SEARCH],
                                           extra_body=body)
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = first.choices[0].message.tool_calls
    assert call.type == "builtin_function" and call.function.name == "$web_search"
    receipt = json.loads(call.function.arguments)  # the search already ran: a receipt
    assert isinstance(receipt["search_result"]["search_id"], str)
    assert isinstance(searched := receipt["usage"]["total_tokens"], int) and searched > 0
    # The SDK types `type` as Literal["function"]; the dump still sends back what came.
    assistant = first.choices[0].message.model_dump(warnings=False)
    assert assistant["tool_calls"][0]["type"] == "builtin_function"
    answer = {"role": "tool", "tool_call_id": call.id, "name": "$web_search",
              "content": call.function.arguments}
    second = client.chat.completions.create(model=model, messages=[*ask, assistant, answer],
                                            tools=[WEB_SEARCH], extra_body=body)
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content
    # The same conversation whose receipt carries no usage ("usage" → "spent", one word
    # for one word): what the prompt costs without the injected search results.
    plain = {**answer, "content": call.function.arguments.replace('"usage"', '"spent"')}
    without = estimate(http, auth, model, [*ask, assistant, plain])
    tools = first.usage.prompt_tokens - estimate(http, auth, model, ask)
    assert second.usage.prompt_tokens == without + tools + searched


# --- the completion budget (§1.4, §6) --------------------------------------------------------

@pytest.mark.parametrize("case", ["kimi-k2.6 thinking off", "kimi-k2-0905-preview",
                                  "moonshot-v1-8k"])
def test_a_tiny_budget_cuts_the_tool_arguments(client, case):
    model, body, _, _ = MODELS[case]
    reply = client.chat.completions.create(
        model=model, messages=ASK, tools=TOOLS, extra_body=body, max_completion_tokens=8,
        tool_choice={"type": "function", "function": {"name": "book_flight"}})
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content == ""
    assert reply.usage.completion_tokens == 8  # the budget, to the token
    (call,) = choice.message.tool_calls
    assert call.function.name == "book_flight" and call.function.arguments
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.function.arguments)

