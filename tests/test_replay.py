"""Seeds that replay anywhere: a pinned `X-Mockshot-Seed` makes a reply a function of
(seed, call), on any server, after any history; an unpinned call's journal entry carries
the seed that replays it; a stream adds up to the whole reply of the same seed."""

from __future__ import annotations

import copy
from typing import Any

import openai
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockshot import Mock, Settings, async_http_client, create_app, http_client
from mockshot.transport import httpx_module

from . import spec_check
from .streams import accumulate, chunks
from .test_properties import CATALOG, FEW, valid_chats

KEY = "sk-replay"
AUTH = {"Authorization": f"Bearer {KEY}"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"},
                                     "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city"]}}}
CLOCK = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}}}}}
EVENT = {"type": "json_schema", "json_schema": {"name": "event", "schema": {
    "type": "object", "properties": {"title": {"type": "string"},
                                     "day": {"type": "integer", "minimum": 1, "maximum": 31}},
    "required": ["title", "day"]}}}
ASK = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Tell me a story"}]}


def app_for(seed: int = 0) -> Any:
    return create_app(Settings(clock="virtual", log_level="warning", seed=seed))


def post(client, body: dict, seed: int | None = None) -> bytes:
    headers = {**AUTH, **({"X-Mockshot-Seed": str(seed)} if seed is not None else {})}
    response = client.post("/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.content


def timeless(value: Any) -> Any:
    """A reply without what the clock and the account's prompt cache decide: `created`,
    the id's first 8 hex, and the cached-token counts (a repeated prompt is a cache hit,
    as on the real service: state, not seed)."""
    if isinstance(value, list):
        return [timeless(v) for v in value]
    out = copy.deepcopy(value)
    out.pop("created", None)
    out["id"] = out["id"][17:]
    for holder in [out, *out.get("choices", ())]:
        usage = holder.get("usage") or {}
        usage.pop("cached_tokens", None)
        usage.pop("prompt_tokens_details", None)
    return out


def whole(client, body: dict, seed: int | None = None) -> dict:
    return timeless(orjson.loads(post(client, {**body, "stream": False}, seed)))


def streamed(client, body: dict, seed: int | None = None) -> list[dict]:
    return timeless(chunks(post(client, {**body, "stream": True}, seed)))


def history(client) -> None:
    """Unrelated and identical calls, streamed and not: what a replay must not depend on."""
    for index in range(3):
        post(client, {**ASK, "messages": [{"role": "user", "content": f"other {index}"}]})
        post(client, {**ASK, "stream": True})
        post(client, ASK, seed=index)


# --- a pinned seed ------------------------------------------------------------------------


def test_the_same_pinned_seed_gives_the_same_reply_twice_and_on_a_fresh_server():
    with http_client(app_for()) as busy, http_client(app_for(seed=99)) as fresh:
        first = whole(busy, ASK, seed=5)
        history(busy)
        assert whole(busy, ASK, seed=5) == first
        assert whole(fresh, ASK, seed=5) == first
        assert whole(busy, ASK, seed=6) != first


def test_the_same_pinned_seed_streams_the_same_chunks_on_any_server():
    with http_client(app_for()) as busy, http_client(app_for(seed=3)) as fresh:
        first = streamed(busy, ASK, seed=11)
        history(busy)
        assert streamed(busy, ASK, seed=11) == first
        assert streamed(fresh, ASK, seed=11) == first


def message_of(reply: dict) -> list[dict]:
    """Each choice of a whole reply in the shape `accumulate` gives a stream's."""
    return [{"message": c["message"], "finish_reason": c["finish_reason"],
             "usage": reply["usage"] if len(reply["choices"]) == 1 else None}
            for c in reply["choices"]]


def summed(stream: list[dict]) -> dict:
    total = accumulate(stream)
    if len(total["choices"]) > 1:  # usage sits in each finish chunk, per choice
        for choice in total["choices"]:
            choice["usage"] = None
    return total


def test_a_stream_adds_up_to_the_whole_reply_of_the_same_seed():
    with http_client(app_for()) as client:
        history(client)
        reply = whole(client, ASK, seed=21)
        total = summed(streamed(client, ASK, seed=21))
    assert total["choices"] == message_of(reply)
    assert {c["id"] for c in streamed(http_client(app_for()), ASK, seed=21)} == {reply["id"]}


# --- the openai SDK, in-process and over a socket -------------------------------------------


def sdk(app) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1", max_retries=0,
                         http_client=http_client(app, event_hooks={"response": [
                             spec_check.hook]}))


def sdk_reply(client: openai.OpenAI, seed: int | None, **body: Any) -> tuple:
    extra = {"X-Mockshot-Seed": str(seed)} if seed is not None else {}
    reply = client.chat.completions.create(**{**ASK, **body}, extra_headers=extra)
    message = reply.choices[0].message
    calls = tuple((c.id, c.function.name, c.function.arguments) for c in message.tool_calls or ())
    return reply.id[17:], message.content, getattr(message, "reasoning_content", None), calls


def test_the_sdk_in_process_and_over_a_socket_get_one_reply_per_seed(served, served_client):
    in_process = sdk(app_for())
    tools = {"tools": [WEATHER, CLOCK]}
    here = [sdk_reply(in_process, seed, **tools) for seed in (1, 2, 1)]
    there = [sdk_reply(served_client, seed, **tools) for seed in (1, 2, 1)]
    assert here == there and here[0] == here[2] and here[0] != here[1]


@pytest.mark.anyio
async def test_the_async_sdk_gets_the_same_stream_for_the_same_seed():
    client = openai.AsyncOpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                                http_client=async_http_client(app_for()), max_retries=0)

    async def deltas() -> list[str]:
        stream = await client.chat.completions.create(
            **ASK, stream=True, extra_headers={"X-Mockshot-Seed": "8"})
        return [c.choices[0].delta.content or "" async for c in stream if c.choices]

    first = await deltas()
    assert len(first) > 3 and await deltas() == first


# --- an unpinned call replays from its journal seed ---------------------------------------


def test_unpinned_repeats_vary_and_each_replays_from_its_journal_seed(served, served_client):
    served.mock.reset()
    replies = [sdk_reply(served_client, None) for _ in range(4)]
    assert len(set(replies)) == 4  # identical calls, each its own reply
    journal = httpx_module().get(f"{served.url}/_mockshot/journal").json()["data"]
    seeds = [entry["seed"] for entry in journal]
    assert seeds[0] == 0 and len(set(seeds)) == 4  # the first of a kind: the server seed
    fresh = sdk(app_for(seed=12345))
    assert [sdk_reply(fresh, seed) for seed in seeds] == replies


def test_the_journal_seed_of_a_streamed_call_replays_its_chunks():
    mock = Mock(Settings(clock="virtual"))
    with http_client(create_app(mock=mock)) as client:
        post(client, ASK)
        first = streamed(client, ASK)
    seed = mock.journal()[-1].seed
    assert mock.journal()[-1].ordinal == 1
    with http_client(app_for(seed=777)) as fresh:
        assert streamed(fresh, ASK, seed=seed) == first


# --- a rule-served call -------------------------------------------------------------------


def scripted_mock() -> Mock:
    mock = Mock(Settings(clock="virtual"))
    mock.on(contains="weather").reply({"tool_calls": [{"name": "get_weather"}]})
    return mock


def test_a_rule_served_call_replays_with_the_same_rules_and_calls():
    """Generated parts of a scripted reply draw from (seed, call, rule, use): the same
    rules and the same calls in order give the same replies, on any mock."""
    body = {**ASK, "tools": [WEATHER],
            "messages": [{"role": "user", "content": "weather in Paris?"}]}

    def run() -> list[dict]:
        with http_client(create_app(mock=scripted_mock())) as client:
            return [whole(client, body, seed=4) for _ in range(3)]

    first = run()
    arguments = [r["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
                 for r in first]
    assert len(set(arguments)) == 3  # each use draws its own arguments
    assert run() == first


# --- the property, over generated requests -----------------------------------------------


@st.composite
def rich_chats(draw) -> dict:
    """Valid chats with tools, json_schema output, n > 1, stop and length cuts."""
    body = draw(valid_chats())
    model = CATALOG.get(body["model"])
    thinking = model.thinks(body.get("thinking"))
    extra = draw(st.sampled_from(["none", "tools", "json_schema"]))
    if extra == "tools":
        body["tools"] = draw(st.sampled_from([[WEATHER], [WEATHER, CLOCK]]))
        choices = ["auto", "none"] + ([] if thinking else ["required"])
        if draw(st.booleans()):
            body["tool_choice"] = draw(st.sampled_from(choices))
    elif extra == "json_schema":
        body["response_format"] = copy.deepcopy(EVENT)
    if draw(st.booleans()):
        body["max_completion_tokens"] = draw(st.integers(1, 40))  # length cuts
        body.pop("max_tokens", None)
    return body


REPLAY_SERVER = app_for(seed=1)
WARM_SERVER = app_for()


@FEW
@given(body=rich_chats(), seed=st.integers(0, 2**63 - 1))
def test_a_pinned_seed_is_a_pure_function_of_the_call(body, seed):
    with http_client(WARM_SERVER) as warm, http_client(REPLAY_SERVER) as other:
        first = whole(warm, body, seed)
        assert whole(warm, body, seed) == first
        assert whole(other, body, seed) == first
        stream = streamed(other, body, seed)
    assert streamed(http_client(app_for(seed=2)), body, seed) == stream
    assert summed(stream)["choices"] == message_of(first)
