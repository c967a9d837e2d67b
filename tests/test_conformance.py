"""The conformance variations, each through the openai SDK: the stream takes its varied
shape (named in the journal and the `X-Mockshot-Variants` header), every frame is still
what the spec documents, and a robust client reading it gets the message the same call
gets unstreamed."""

from __future__ import annotations

import json

import openai
import pytest

from mockshot import Settings, fault, tool_call
from mockshot.conformance import VARIANTS
from mockshot.testing import MockFixture, hook

TOOLS = [{"type": "function", "function": {"name": name, "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "note": {"type": "string"}}}}}
    for name in ("get_weather", "get_time")]
ESCAPED = {"city": "Zürich", "note": 'say "hi" \\ twice'}
SEED = {"X-Mockshot-Seed": "5"}

# variant → the call that lets it apply
CALLS = {
    "indexless_tool_calls": dict(model="moonshot-v1-8k", tools=TOOLS, text="two tools"),
    "split_escapes": dict(model="moonshot-v1-8k", tools=TOOLS, text="escapes"),
    "empty_deltas": dict(model="kimi-k2.6", text="hello"),
    "empty_reasoning": dict(model="moonshot-v1-8k", text="hello"),
    "usage_in_choice_only": dict(model="kimi-k2.6", text="hello", include_usage=True),
    "empty_content_with_tool_calls": dict(model="moonshot-v1-8k", tools=TOOLS, text="one tool"),
    "interleaved_choices": dict(model="moonshot-v1-8k", text="hello", n=3),
    "long_first_gap": dict(model="kimi-k2.6", text="hello"),
}


@pytest.fixture
def kimi():
    with MockFixture(Settings(clock="virtual", pacing=False)) as mock:
        mock.on(contains="two tools").reply(tool_call("get_weather", city="Paris"),
                                            tool_call("get_time", city="Rome")).cycle()
        mock.on(contains="one tool").reply(tool_call("get_weather", city="Oslo")).cycle()
        mock.on(contains="escapes").reply(tool_call("get_weather", ESCAPED)).cycle()
        mock.assert_all_used = False
        yield mock


def sdk(kimi) -> openai.OpenAI:
    """The SDK, every reply checked against the spec (varied streams included)."""
    return openai.OpenAI(
        api_key="sk-c", base_url=kimi.base_url, max_retries=0,
        http_client=kimi.http_client(event_hooks={"response": [hook]}))


def create(client, spec: dict, **extra):
    body = {"model": spec["model"], "messages": [{"role": "user", "content": spec["text"]}]}
    if spec.get("tools"):
        body["tools"] = spec["tools"]
    if spec.get("n"):
        body["n"] = spec["n"]
    if extra.get("stream") and spec.get("include_usage"):
        body["stream_options"] = {"include_usage": True}
    return client.chat.completions.with_raw_response.create(**body, **extra)


def robust(chunks) -> dict[int, dict]:
    """What a robust client makes of a stream: calls matched by index, else by position."""
    out: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            message = out.setdefault(choice.index, {"content": "", "calls": []})
            delta = choice.delta
            message["content"] += delta.content or ""
            for position, part in enumerate(delta.tool_calls or ()):
                at = getattr(part, "index", None)
                at = position if at is None else at
                if getattr(part, "id", None):
                    message["calls"].append({"name": part.function.name, "arguments": ""})
                message["calls"][at]["arguments"] += part.function.arguments or ""
    return out


def whole(reply) -> dict[int, dict]:
    return {c.index: {"content": c.message.content or "", "calls": [
        {"name": t.function.name, "arguments": t.function.arguments}
        for t in c.message.tool_calls or ()]} for c in reply.choices}


def same(streamed: dict, unstreamed: dict) -> bool:
    def parsed(messages):
        return {i: {**m, "calls": [{**c, "arguments": json.loads(c["arguments"])}
                                   for c in m["calls"]]} for i, m in messages.items()}
    return parsed(streamed) == parsed(unstreamed)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_variation_is_served_named_valid_and_survivable(kimi, name):
    client, spec = sdk(kimi), CALLS[name]
    raw = create(client, spec, stream=True, extra_headers={**SEED, "X-Mockshot-Variant": name})
    chunks = list(raw.parse())
    assert raw.headers["x-mockshot-variants"] == name
    assert kimi.calls.last.entry.variants == (name,)
    plain = create(client, spec, extra_headers=SEED).parse()
    assert same(robust(chunks), whole(plain))
    assert SHOWS[name](chunks, kimi)


def _deltas(chunks):
    return [c.delta for chunk in chunks for c in chunk.choices]


SHOWS = {  # what makes each variation adversarial, seen in the stream itself
    "indexless_tool_calls": lambda chunks, _: any(
        len(d.tool_calls) == 2 and getattr(d.tool_calls[0], "index", None) is None
        for d in _deltas(chunks) if d.tool_calls),
    "split_escapes": lambda chunks, _: any(
        (t.function.arguments or "").endswith("\\") for d in _deltas(chunks)
        for t in d.tool_calls or ()),
    "empty_deltas": lambda chunks, _: any(
        c.delta.model_dump(exclude_none=True) in ({}, {"content": ""}) and not c.finish_reason
        for chunk in chunks[1:] for c in chunk.choices),
    "empty_reasoning": lambda chunks, _: any(
        getattr(d, "reasoning_content", None) == "" for d in _deltas(chunks)),
    "usage_in_choice_only": lambda chunks, _: all(chunk.choices for chunk in chunks),
    "empty_content_with_tool_calls": lambda chunks, _: any(
        d.content == "" and d.tool_calls for d in _deltas(chunks)),
    "interleaved_choices": lambda chunks, _: any(len(chunk.choices) > 1 for chunk in chunks),
    "long_first_gap": lambda chunks, kimi: kimi.clock.now() - kimi.calls[0].entry.at >= 20,
}


def test_conformance_mode_draws_named_variations_per_call_reproducibly(kimi):
    def served(seed: str) -> list[tuple[str, ...]]:
        kimi.mock.reset()  # the same calls against the same rules replay alike
        client = sdk(kimi)
        for _ in range(2):
            list(create(client, CALLS["indexless_tool_calls"], stream=True,
                        extra_headers={"X-Mockshot-Variant": "all", "X-Mockshot-Seed": seed}
                        ).parse())
        return [c.entry.variants for c in kimi.calls[-2:]]

    drawn = served("11")
    assert all(drawn) and set().union(*drawn) <= set(VARIANTS)
    assert drawn == served("11")  # the same seed, the same variations
    assert {served(str(seed))[0] for seed in range(8)} != {drawn[0]}


def test_a_variation_that_cannot_apply_leaves_the_stream_alone(kimi):
    raw = create(sdk(kimi), CALLS["empty_deltas"], stream=True,
                 extra_headers={"X-Mockshot-Variant": "indexless_tool_calls"})
    list(raw.parse())
    assert "x-mockshot-variants" not in raw.headers and kimi.calls.last.entry.variants == ()


def test_the_setting_and_a_bad_header(kimi):
    with MockFixture(Settings(clock="virtual", variants=("empty_deltas",))) as mock:
        list(mock.client.chat.completions.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}], stream=True))
        assert mock.calls.last.entry.variants == ("empty_deltas",)
    with pytest.raises(openai.BadRequestError, match=r"unknown conformance variant.*'nope'"):
        create(sdk(kimi), CALLS["empty_deltas"], stream=True,
               extra_headers={"X-Mockshot-Variant": "nope"})
    [refused] = kimi.calls  # refused before the turn: nothing counted, charged or ruled
    assert refused.status == 400 and refused.rule is None
    assert kimi.mock.store.sync(kimi.mock.store.progress()).uses == {}


def test_faults_still_apply_to_a_varied_stream(kimi):
    kimi.on(contains="cut me").reply(fault("stream_cut", after=2))
    chunks = list(sdk(kimi).chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "cut me"}], stream=True,
        extra_headers={"X-Mockshot-Variant": "empty_deltas"}))
    assert len(chunks) == 2 and kimi.calls.last.entry.fault == "stream_cut"
