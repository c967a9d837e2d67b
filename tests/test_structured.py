"""JSON mode and structured output through the official openai SDK (reference §3, §5, §7.2).

`json_object` answers a JSON object; `json_schema` answers JSON valid against the schema
(a property over schemas of the supported subset); the SDK's `parse()` gets its pydantic
instance back; a schema the Moonshot Flavored JSON Schema validator (MoonshotAI/walle)
refuses gets the real 400; a cut reply ends with "length"; partial mode is advice only.
"""

from __future__ import annotations

import asyncio
import enum
import json
from typing import Literal

import jsonschema
import openai
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

ASK = [{"role": "user", "content": "Answer in JSON."}]
OFF = {"thinking": {"type": "disabled"}}
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
MFJS = ("Invalid request: response_format.json_schema is not a valid moonshot flavored json "
        "schema, details: <{}>")


def schema_format(schema: dict, name: str = "answer") -> dict:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def content(reply) -> str:
    assert reply.choices[0].finish_reason == "stop"
    return reply.choices[0].message.content


# --- json_object (§5) --------------------------------------------------------------------

@pytest.mark.parametrize(("model", "body"), [
    ("moonshot-v1-8k", None), ("kimi-k2-0905-preview", None), ("kimi-k2.6", None),
    ("kimi-k2.6", OFF), ("kimi-k2-thinking", None)])
def test_json_object_mode_answers_a_json_object(client, model, body):
    for seed in range(5):
        reply = client.chat.completions.create(
            model=model, messages=ASK, response_format={"type": "json_object"},
            extra_body=body, extra_headers={"X-Mockshot-Seed": str(seed)})
        assert isinstance(json.loads(content(reply)), dict)  # an object, never an array


# --- json_schema: a property over the supported subset ------------------------------------

NAMES = st.sampled_from(["city", "name", "email", "count", "price", "tags", "when", "note",
                         "id", "rating", "url", "age", "items", "x"])
# format: (the most a minLength may ask, the least a maxLength may allow) so that values
# exist: any length for an address or a URL, the fixed shapes for the others.
FORMAT_LENGTHS = {"email": (40, 16), "uri": (40, 24), "date": (10, 10),
                  "date-time": (20, 25), "uuid": (36, 36), "ipv4": (7, 15)}


@st.composite
def strings(draw) -> dict:
    schema: dict = {"type": "string"}
    if draw(st.booleans()):  # a format, sometimes with length bounds its values can meet
        name = schema["format"] = draw(st.sampled_from(sorted(FORMAT_LENGTHS)))
        most_min, least_max = FORMAT_LENGTHS[name]
        least = draw(st.integers(0, most_min))
        if draw(st.booleans()):
            schema["minLength"] = least
        if draw(st.booleans()):
            schema["maxLength"] = draw(st.integers(max(least, least_max), 80))
        return schema
    least = draw(st.integers(0, 30))
    if draw(st.booleans()):
        schema["minLength"] = least
    if draw(st.booleans()):
        schema["maxLength"] = draw(st.integers(max(least, 1), 60))
    return schema


@st.composite
def numbers(draw) -> dict:
    schema: dict = {"type": draw(st.sampled_from(["integer", "number"]))}
    low = draw(st.integers(-10_000, 10_000))
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = low
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = low + draw(
            st.integers(2, 5_000))
    return schema


ENUMS = st.one_of(
    st.lists(st.text("abcdefxyz -", min_size=1, max_size=8), min_size=1, max_size=6,
             unique=True).map(lambda values: {"type": "string", "enum": values}),
    st.lists(st.integers(-50, 500), min_size=1, max_size=6, unique=True).map(
        lambda values: {"type": "integer", "enum": values}))
LEAVES = st.one_of(strings(), numbers(), ENUMS, st.just({"type": "boolean"}),
                   st.just({"type": "null"}))


@st.composite
def objects(draw, values) -> dict:
    properties = draw(st.dictionaries(NAMES, values, min_size=1, max_size=4))
    schema: dict = {"type": "object", "properties": properties}
    required = [name for name in properties if draw(st.booleans())]
    if required:
        schema["required"] = required
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


def branches(children):
    arrays = st.builds(lambda items, least, more: {"type": "array", "items": items,
                                                   "minItems": least, "maxItems": least + more},
                       children, st.integers(0, 3), st.integers(0, 3))
    any_of = st.lists(children, min_size=2, max_size=3).map(lambda subs: {"anyOf": subs})
    return st.one_of(arrays, any_of, objects(children))


SCHEMAS = objects(st.recursive(LEAVES, branches, max_leaves=8))


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=SCHEMAS, model=st.sampled_from(["kimi-k2-0905-preview", "kimi-k2.6"]),
       seed=st.integers(0, 2**31))
@example(schema={"type": "object", "required": ["city"], "properties": {  # found by a long run
    "city": {"type": "string", "format": "email", "minLength": 26}}},
    model="kimi-k2-0905-preview", seed=0)
def test_json_schema_replies_always_validate(client, mock, schema, model, seed):
    mock.reset()  # the same call gets the same reply, so a failure replays (and shrinks)
    jsonschema.Draft202012Validator.check_schema(schema)
    reply = client.chat.completions.create(
        model=model, messages=ASK, response_format=schema_format(schema),
        extra_headers={"X-Mockshot-Seed": str(seed)})
    jsonschema.validate(json.loads(content(reply)), schema, format_checker=FORMATS)


@pytest.mark.parametrize("text", [
    {"type": "string", "format": "email", "minLength": 40},
    {"type": "string", "format": "email", "maxLength": 16},
    {"type": "string", "format": "uri", "minLength": 40}])
def test_a_formatted_string_also_meets_its_length_bounds(client, text):
    """A model writes `alexandra.wilkinson-smith@example.com` when asked for 40 characters."""
    schema = {"type": "object", "properties": {"contact": text}, "required": ["contact"]}
    reply = client.chat.completions.create(model="kimi-k2-0905-preview", messages=ASK,
                                           response_format=schema_format(schema))
    jsonschema.validate(json.loads(content(reply)), schema, format_checker=FORMATS)


def test_the_empty_schema_still_gets_json(client):
    """`{}` is a valid MFJS schema (walle accepts it) that any JSON value satisfies."""
    for seed in range(3):
        reply = client.chat.completions.create(model="moonshot-v1-8k", messages=ASK,
                                               response_format=schema_format({}),
                                               extra_headers={"X-Mockshot-Seed": str(seed)})
        json.loads(content(reply))


def test_json_schema_works_over_a_socket(served_client):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    reply = served_client.chat.completions.create(model="moonshot-v1-8k", messages=ASK,
                                                  response_format=schema_format(schema))
    jsonschema.validate(json.loads(content(reply)), schema)


# --- the SDK's parse() with a pydantic model ----------------------------------------------

class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Place(BaseModel):
    city: str
    country: str | None


class Forecast(BaseModel):
    place: Place
    unit: Unit
    sky: Literal["sunny", "cloudy", "rainy"]
    highs: list[float] = Field(min_length=1, max_length=5)
    day: int = Field(ge=1, le=7)


@pytest.mark.parametrize(("model", "body"), [("kimi-k2.6", OFF), ("kimi-k2.5", OFF),
                                             ("kimi-k2-0905-preview", None),
                                             ("moonshot-v1-8k", None)])
def test_parse_returns_the_pydantic_instance(client, model, body):
    for seed in range(4):
        reply = client.chat.completions.parse(
            model=model, messages=ASK, response_format=Forecast, extra_body=body,
            extra_headers={"X-Mockshot-Seed": str(seed)})
        parsed = reply.choices[0].message.parsed
        assert isinstance(parsed, Forecast) and 1 <= len(parsed.highs) <= 5
        assert parsed == Forecast.model_validate_json(reply.choices[0].message.content)


def test_parse_works_async(async_client):
    async def ask():
        return await async_client.chat.completions.parse(
            model="kimi-k2.6", messages=ASK, response_format=Forecast, extra_body=OFF)

    assert isinstance(asyncio.run(ask()).choices[0].message.parsed, Forecast)


def test_parse_of_a_cut_reply_raises_the_sdks_length_error(client):
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(model="kimi-k2.6", messages=ASK, response_format=Forecast,
                                      extra_body=OFF, max_completion_tokens=6)


# --- schemas the service refuses (§5, §7.2; MoonshotAI/walle) ------------------------------

def prop(schema: dict) -> dict:
    return {"type": "object", "properties": {"x": schema}}


def nested(depth: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"n": schema}}
    return schema


REFUSED = {
    # The real capture (vercel issue-19544-rejected.json), byte for byte.
    "items as a list": ({"type": "object", "properties": {"pair": {
        "type": "array", "items": [{"type": "string"}, {"type": "number"}]}}},
        "At path 'properties.pair.items': items must be an object"),
    "type beside anyOf": (prop({"type": "string", "anyOf": [{"type": "string"}]}),
                          "At path 'properties.x': when using anyOf, type should be defined "
                          "in anyOf items instead of the parent schema"),
    "unknown type": (prop({"type": "str"}), "At path 'properties.x': invalid type"),
    "enum of the wrong type": (prop({"type": "string", "enum": [1, 2]}),
                               "At path 'properties.x.enum': enum value (1) does not match "
                               "any type in [string]"),
    "required but undefined": ({"type": "object", "properties": {"a": {"type": "string"}},
                                "required": ["b"]},
                               "At path 'required': required property 'b' is not defined in "
                               "properties"),
    # walle rules that hold at every validate level (validator.go, keyword_validators.go):
    "object type with enum": (prop({"type": ["object", "null"], "enum": [None]}),
                              "At path 'properties.x': type object is not allowed in "
                              "combination with enum"),
    "enum over 1000 items": (prop({"type": "integer", "enum": list(range(1001))}),
                             "At path 'properties.x.enum': enum array cannot have more than "
                             "1000 items"),
    "deeper than 30": (nested(31), f"At path '{'.'.join(['properties.n'] * 31)}': schema "
                       "depth exceeds maximum limit of 30"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_schema_walle_refuses_is_the_real_400(client, case):
    schema, details = REFUSED[case]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="kimi-k2.6", messages=ASK, extra_body=OFF,
                                       response_format=schema_format(schema))
    assert caught.value.body == {"message": MFJS.format(details),
                                 "type": "invalid_request_error"}


# --- budgets and partial mode (§1.4, §3) --------------------------------------------------

@pytest.mark.parametrize("response_format", [
    {"type": "json_object"},
    schema_format({"type": "object", "properties": {"summary": {"type": "string"},
                                                    "tags": {"type": "array"}},
                   "required": ["summary", "tags"]})])
@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview"])
def test_a_cut_json_reply_ends_with_length(client, model, response_format):
    reply = client.chat.completions.create(model=model, messages=ASK, max_completion_tokens=3,
                                           response_format=response_format)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 3
    assert reply.choices[0].message.content.startswith("{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.choices[0].message.content)


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2.6"])
def test_partial_mode_with_json_object_is_advice_not_an_error(client, model):
    messages = [*ASK, {"role": "assistant", "content": '{"answer": ', "partial": True}]
    reply = client.chat.completions.create(model=model, messages=messages,
                                           response_format={"type": "json_object"})
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content
    assert not reply.choices[0].message.content.startswith('{"answer": ')
