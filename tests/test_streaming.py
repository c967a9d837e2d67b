"""Streaming chat completions (reference §2), byte by byte and through the official openai SDK.

Expected behaviour comes from /work/shared/reference/moonshot-api.md §2 (wire format, chunk
sequence, usage delivery, reasoning and tool-call deltas) and §1 (the non-streamed reply a
stream must add up to), plus mockshot's own promises: a seed reproduces every byte, an
in-process client really streams, a client that hangs up stops the generation and is
journalled, and the `X-Mockshot-Fault` stream faults break a stream the way §2.1 says.

Clients that must observe a stream *as it arrives* (disconnects, faults, timing) are built
here without the spec-checking response hook: that hook reads the whole body first.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from itertools import zip_longest
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mockshot import Mock, ServedMock, Settings, async_http_client, create_app, http_client
from mockshot.state.journal import JournalEntry
from mockshot.transport import httpx_module

from . import spec_check
from .streams import CHUNK_KEYS, accumulate, chunks, compact, frames

KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
PATH = "/v1/chat/completions"
HELLO = [{"role": "user", "content": "Hello"}]
OFF = {"type": "disabled"}
PACED = {"X-Mockshot-Pacing": "ttft_ms=0,tokens_per_second=200"}
HANG = 5.0  # seconds after which a stream operation counts as hung

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"]}}}
CLOCK = {"type": "function", "function": {
    "name": "get_time", "description": "The time in a zone",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}},
                   "required": ["zone"]}}}
EVENT = {"type": "function", "function": {
    "name": "create_event", "description": "Put an event in the calendar",
    "parameters": {"type": "object", "properties": {
        "title": {"type": "string"}, "day": {"type": "integer", "minimum": 1, "maximum": 31},
        "attendees": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string"}},
        "required": ["title", "day", "attendees"]}}}

def sdk_chunks(stream) -> list[dict]:
    """SDK chunk objects as the JSON they came from (extra fields such as
    `reasoning_content` and the in-choice `usage` included)."""
    return [chunk.to_dict() for chunk in stream]


async def sdk_chunks_async(stream) -> list[dict]:
    return [chunk.to_dict() async for chunk in stream]


def fresh_app(**settings: Any):
    settings.setdefault("clock", "virtual")
    settings.setdefault("log_level", "warning")
    return create_app(Settings(**settings))


def post(app, body: dict, headers: dict | None = None):
    """One request to `app` through a raw in-process client whose reply is spec-checked."""
    with http_client(app, event_hooks={"response": [spec_check.hook]}) as raw:
        return raw.post(PATH, json=body, headers={**AUTH, **(headers or {})})


def reference(body: dict, headers: dict | None = None) -> dict:
    """The non-streamed reply of `body` on a fresh mock."""
    plain = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    response = post(fresh_app(), plain, headers)
    assert response.status_code == 200, response.text
    return response.json()


def expected_choices(reply: dict) -> list[dict]:
    return [{"message": c["message"], "finish_reason": c["finish_reason"]}
            for c in reply["choices"]]


def summary(total: dict) -> list[dict]:
    return [{"message": c["message"], "finish_reason": c["finish_reason"]}
            for c in total["choices"]]


def plain_client(app) -> openai.OpenAI:
    """The SDK in-process, without the hook that reads a whole body before the SDK does."""
    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                         http_client=http_client(app), max_retries=0)


def plain_async_client(app) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                              http_client=async_http_client(app), max_retries=0)


def within(seconds: float, work: Callable[[], Any]) -> Any:
    """Run `work` in a thread; fail (instead of hanging the suite) if it does not end."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = work()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name="stream-test")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the stream operation hung for more than {seconds} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


async def within_async(seconds: float, work) -> Any:
    """Await `work`; fail if it is not done in `seconds` (a swallowed cancellation would
    make `asyncio.wait_for` return quietly, so this waits on the task itself)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=1)
        pytest.fail(f"the stream operation hung for more than {seconds} s")
    return task.result()


def errors_logged(caplog) -> list[str]:
    """ERROR records of mockshot, and of asyncio (an orphaned task's exception)."""
    gc.collect()  # an abandoned task reports its exception when it is collected
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records
            if r.levelno >= logging.ERROR and r.name.split(".")[0] in ("mockshot", "asyncio")]


# --- framing, byte by byte (§2.1, §2.2, §2.3) ----------------------------------------------


@pytest.mark.parametrize("include_usage", [False, True])
@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview", "kimi-k2-thinking",
                                   "kimi-k2.5", "kimi-k2.6"])
def test_every_event_is_a_compact_data_line_and_the_stream_ends_with_done(http, model,
                                                                          include_usage):
    body = {"model": model, "messages": HELLO, "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    response = http.post(PATH, json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "text/event-stream"
    assert response.content.endswith(b"\n\ndata: [DONE]\n\n")
    for line in response.content.split(b"\n"):
        assert line == b"" or line.startswith(b"data: "), line[:40]
    assert not re.search(rb"^(event|id|retry):|^:", response.content, re.M)
    stream = chunks(response.content)  # every event `data: <compact JSON>\n\n`, one [DONE]
    assert len(stream) >= 3
    for chunk in stream:
        assert list(chunk) == (CHUNK_KEYS if chunk["choices"] else
                               [*CHUNK_KEYS[:5], "usage", CHUNK_KEYS[5]])
        assert chunk["object"] == "chat.completion.chunk"
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", stream[0]["id"])
    assert re.fullmatch(r"fpv0_[0-9a-f]{8}", stream[0]["system_fingerprint"])


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2.6"])
def test_id_created_model_and_fingerprint_are_the_same_on_every_chunk(http, model):
    body = {"model": model, "messages": HELLO, "stream": True,
            "stream_options": {"include_usage": True}}
    stream = chunks(http.post(PATH, json=body, headers=AUTH).content)
    heads = {(c["id"], c["created"], c["model"], c["system_fingerprint"]) for c in stream}
    assert heads == {(stream[0]["id"], stream[0]["created"], model, "fpv0_1c3effa9")}


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview", "kimi-k2.6"])
def test_the_first_chunk_names_the_role_with_empty_content(http, model):
    stream = chunks(http.post(PATH, json={"model": model, "messages": HELLO, "stream": True},
                              headers=AUTH).content)
    assert stream[0]["choices"] == [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                     "finish_reason": None}]
    assert all("role" not in c["choices"][0]["delta"] for c in stream[1:])


@pytest.mark.parametrize("include_usage", [False, True])
@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2.6"])
def test_usage_rides_in_the_finish_chunk_and_nowhere_else(http, model, include_usage):
    """§2.3: the finish chunk carries `delta: {}`, the finish_reason and `usage` inside the
    choice, always; other chunks have no `usage` key at all (not even null)."""
    body = {"model": model, "messages": HELLO, "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    stream = chunks(http.post(PATH, json=body, headers=AUTH).content)
    usage_chunks = [c for c in stream if not c["choices"]]
    choice_chunks = [c for c in stream if c["choices"]]
    finish = choice_chunks[-1]["choices"][0]
    assert list(finish) == ["index", "delta", "finish_reason", "usage"]
    assert finish["delta"] == {} and finish["finish_reason"] == "stop"
    assert finish["usage"]["total_tokens"] == (finish["usage"]["prompt_tokens"]
                                               + finish["usage"]["completion_tokens"])
    for chunk in choice_chunks[:-1]:
        assert "usage" not in chunk
        assert list(chunk["choices"][0]) == ["index", "delta", "finish_reason"]
        assert chunk["choices"][0]["finish_reason"] is None
    assert "usage" not in choice_chunks[-1]
    if include_usage:  # one extra chunk, right before [DONE], with top-level usage
        assert usage_chunks == [stream[-1]]
        assert stream[-1]["choices"] == [] and stream[-1]["usage"] == finish["usage"]
    else:
        assert usage_chunks == []


@pytest.mark.parametrize("model", ["kimi-k2-thinking", "kimi-k2.5", "kimi-k2.6"])
def test_reasoning_deltas_all_come_before_any_content(http, model):
    stream = chunks(http.post(PATH, json={"model": model, "messages": HELLO, "stream": True},
                              headers=AUTH).content)
    kinds = [next(iter(c["choices"][0]["delta"]), "finish") for c in stream[1:]]
    assert "reasoning_content" in kinds and "content" in kinds
    last_reasoning = max(i for i, k in enumerate(kinds) if k == "reasoning_content")
    first_content = kinds.index("content")
    assert last_reasoning < first_content
    for chunk in stream[1:-1]:  # one kind of text per delta
        assert len(chunk["choices"][0]["delta"]) == 1


@pytest.mark.parametrize("model,body", [
    ("moonshot-v1-8k", {}),
    ("kimi-k2-0905-preview", {}),
    ("kimi-k2.6", {"thinking": OFF}),
    ("kimi-k2.5", {"thinking": OFF}),
])
def test_without_thinking_there_is_no_reasoning_delta(http, model, body):
    stream = chunks(http.post(PATH, json={"model": model, "messages": HELLO, "stream": True,
                                          **body}, headers=AUTH).content)
    assert not any("reasoning_content" in c["choices"][0]["delta"]
                   for c in stream if c["choices"])
    assert "reasoning_tokens" not in json.dumps(stream[-1])


def test_n_choices_interleave_by_index_each_with_its_own_finish_chunk(http):
    """§2.3.3: each choice ends with its own finish chunk and usage; choices interleave."""
    body = {"model": "moonshot-v1-8k", "messages": HELLO, "n": 3, "temperature": 0.3,
            "stream": True, "stream_options": {"include_usage": True}}
    stream = chunks(http.post(PATH, json=body, headers=AUTH).content)
    assert all(len(c["choices"]) == 1 for c in stream[:-1])
    order = [c["choices"][0]["index"] for c in stream[:-1]]
    assert order[:3] == [0, 1, 2]  # every choice starts with its role chunk, in index order
    per_choice = [[c for c in stream[:-1] if c["choices"][0]["index"] == i] for i in range(3)]
    round_robin = [c["choices"][0]["index"] for row in zip_longest(*per_choice) for c in row
                   if c is not None]
    assert order == round_robin
    for i, own in enumerate(per_choice):
        assert own[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        finishes = [c for c in own if c["choices"][0]["finish_reason"] is not None]
        assert finishes == [own[-1]]
        assert own[-1]["choices"][0]["delta"] == {}
        assert own[-1]["choices"][0]["index"] == i
    total = accumulate(stream)
    reply = reference(body)
    assert summary(total) == expected_choices(reply)
    usages = [c["usage"] for c in total["choices"]]
    assert sum(u["completion_tokens"] for u in usages) == reply["usage"]["completion_tokens"]
    assert {u["prompt_tokens"] for u in usages} == {reply["usage"]["prompt_tokens"]}
    assert all(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] for u in usages)
    assert total["usage"] == reply["usage"]


# --- a stream adds up to the non-streamed reply (§1, §2) ------------------------------------


def _thinks(model: str, thinking: dict | None) -> bool:
    if model == "kimi-k2-thinking":
        return True
    return model in ("kimi-k2.5", "kimi-k2.6") and thinking != OFF


@st.composite
def chat_bodies(draw) -> dict:
    model = draw(st.sampled_from(["moonshot-v1-8k", "moonshot-v1-auto", "kimi-k2-0905-preview",
                                  "kimi-k2-turbo-preview", "kimi-k2-thinking", "kimi-k2.5",
                                  "kimi-k2.6"]))
    prompt = draw(st.sampled_from(["Hello", "What is the weather in Paris?", "写一首关于秋天的诗",
                                   "Plan my week, please.", "Résumé in 3 points"])
                  | st.text(st.characters(blacklist_categories=("Cs",)), min_size=1,
                            max_size=30))
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    if model.startswith("moonshot-v1"):
        n = draw(st.integers(1, 3))
        if n > 1:
            body.update(n=n, temperature=0.3)
    thinking = None
    if model in ("kimi-k2.5", "kimi-k2.6"):
        thinking = draw(st.sampled_from([None, {"type": "enabled"}, OFF]))
        if thinking is not None:
            body["thinking"] = thinking
    budget = draw(st.sampled_from([None, None, "tiny", "some"]))
    if budget is not None:  # None: the model's default; tiny budgets cut thinking or calls
        budget = draw(st.integers(1, 8) if budget == "tiny" else st.integers(9, 300))
    if budget is not None:
        body[draw(st.sampled_from(["max_completion_tokens", "max_tokens"]))] = budget
    stop = draw(st.lists(st.sampled_from([".", ",", " the", " and", "e", "Hello", "\n"]),
                         max_size=3, unique=True))
    if stop:
        body["stop"] = stop[0] if len(stop) == 1 and draw(st.booleans()) else stop
    extra = draw(st.sampled_from(["tools", "none", "tools", "json_object", "tools",
                                  "json_schema", "tools", "partial"]))
    if extra == "tools":
        tools = draw(st.sampled_from([[WEATHER], [WEATHER, CLOCK], [WEATHER, CLOCK, EVENT]]))
        body["tools"] = tools
        choices: list[Any] = [None, "auto", "none"]
        if not _thinks(model, thinking):
            choices += ["required", {"type": "function", "function": {"name": "create_event"
                        if EVENT in tools else "get_weather"}}]
        tool_choice = draw(st.sampled_from(choices))
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
    elif extra == "json_object":
        body["response_format"] = {"type": "json_object"}
    elif extra == "json_schema":
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "answer", "schema": EVENT["function"]["parameters"]}}
    elif extra == "partial":
        body["messages"].append({"role": "assistant", "content": "Once upon", "partial": True})
    if draw(st.booleans()):
        body["stream_options"] = {"include_usage": True}
    return body


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=chat_bodies(), seed=st.integers(0, 2**40))
def test_a_stream_adds_up_to_the_non_streamed_reply(body, seed):
    """Two fresh mocks with the same seed: one answers in a stream, one in JSON."""
    headers = {"X-Mockshot-Seed": str(seed)}
    reply = reference(body, headers)
    response = post(fresh_app(), {**body, "stream": True}, headers)
    assert response.status_code == 200, response.text
    stream = chunks(response.content)
    total = accumulate(stream)
    for choice in reply["choices"]:
        event(f"finish_reason={choice['finish_reason']}")
        event(f"tool calls={len(choice['message'].get('tool_calls', []))}")
    assert summary(total) == expected_choices(reply)
    assert {(c["id"], c["created"], c["model"]) for c in stream} == {
        (reply["id"], reply["created"], reply["model"])}
    if body.get("stream_options"):
        assert total["usage"] == reply["usage"]
    else:
        assert total["usage"] is None
    if len(reply["choices"]) == 1:
        assert total["choices"][0]["usage"] == reply["usage"]
    else:
        usages = [c["usage"] for c in total["choices"]]
        assert sum(u["completion_tokens"] for u in usages) == reply["usage"]["completion_tokens"]
    for chunk in stream:  # reasoning first, then content or tool calls, per choice
        for choice in chunk["choices"]:
            assert set(choice["delta"]) <= {"role", "content", "reasoning_content",
                                            "tool_calls"}
    letters = {"reasoning_content": "R", "content": "C", "tool_calls": "T"}
    for i, choice in enumerate(total["choices"]):
        own = [c["choices"][0] for c in stream if c["choices"] and c["choices"][0]["index"] == i]
        kinds = "".join(letters.get(next(iter(c["delta"]), ""), "F") for c in own[1:])
        assert re.fullmatch(r"R*(C*|T*)F", kinds), kinds  # reasoning first, finish last
        if choice["message"].get("tool_calls"):
            assert "C" not in kinds and choice["message"]["content"] == ""


def test_an_empty_reasoning_still_streams_a_reasoning_delta(mock, app, http):
    """§1.3 / §2.4: a thinking reply's reasoning may be "" (non-stream `reasoning_content:
    ""`); the stream then carries a `{"reasoning_content": ""}` delta, so it adds up to the
    same message."""
    mock.on(contains="Hi").reply(content="Hello there.", reasoning="")
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Hi"}]}
    reply = http.post(PATH, json=body, headers=AUTH).json()
    assert reply["choices"][0]["message"]["reasoning_content"] == ""
    mock.reset()
    stream = chunks(http.post(PATH, json={**body, "stream": True}, headers=AUTH).content)
    assert summary(accumulate(stream)) == expected_choices(reply)


def test_the_same_seed_gives_the_same_bytes():
    body = {"model": "kimi-k2.6", "messages": HELLO, "stream": True, "tools": [WEATHER, CLOCK],
            "stream_options": {"include_usage": True}}
    seeded = {"X-Mockshot-Seed": "424242"}
    first = post(fresh_app(), body, seeded).content
    assert post(fresh_app(), body, seeded).content == first
    assert post(fresh_app(seed=424242), body).content == first
    assert post(fresh_app(), body, {"X-Mockshot-Seed": "424243"}).content != first


def test_chunk_boundaries_vary_with_the_seed_while_the_text_stays():
    text = ("The quick brown fox jumps over the lazy dog, then naps in the warm afternoon "
            "sun while the farmer counts his sheep and sings an old song.")
    cuts = set()
    for seed in range(6):
        app = fresh_app()
        app.mock.on(contains="fox").reply(content=text)
        body = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "fox?"}],
                "stream": True}
        stream = chunks(post(app, body, {"X-Mockshot-Seed": str(seed)}).content)
        pieces = tuple(c["choices"][0]["delta"].get("content") for c in stream[1:-1])
        assert "".join(pieces) == text
        cuts.add(pieces)
    assert len(cuts) > 1


# --- tool-call deltas (§2.4) ----------------------------------------------------------------


def tool_deltas(stream: list[dict]) -> list[dict]:
    out = []
    for chunk in stream[1:]:
        delta = chunk["choices"][0]["delta"]
        if "tool_calls" in delta:
            assert list(delta) == ["tool_calls"]  # no content beside tool calls
            assert len(delta["tool_calls"]) == 1
            out.append(delta["tool_calls"][0])
    return out


@pytest.mark.parametrize("model,ids", [
    ("kimi-k2-0905-preview", ["get_weather_0", "get_time_1"]),
    ("moonshot-v1-8k", ["get_weather:0", "get_time:1"]),
])
def test_parallel_tool_calls_stream_head_then_argument_fragments(mock, http, model, ids):
    mock.on(contains="Paris").reply({"tool_calls": [
        {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}},
        {"name": "get_time", "arguments": {"zone": "Europe/Paris"}}]})
    body = {"model": model, "messages": [{"role": "user", "content": "Paris weather and time?"}],
            "tools": [WEATHER, CLOCK], "stream": True}
    stream = chunks(http.post(PATH, json=body, headers=AUTH).content)
    deltas = tool_deltas(stream)
    heads = [d for d in deltas if "id" in d]
    assert heads == [
        {"index": 0, "id": ids[0], "type": "function",
         "function": {"name": "get_weather", "arguments": ""}},
        {"index": 1, "id": ids[1], "type": "function",
         "function": {"name": "get_time", "arguments": ""}},
    ]
    assert [d["index"] for d in deltas] == sorted(d["index"] for d in deltas)
    for index in (0, 1):
        own = [d for d in deltas if d["index"] == index]
        assert own[0] is heads[index]
        fragments = [d["function"]["arguments"] for d in own[1:]]
        assert all(list(d) == ["index", "function"] and list(d["function"]) == ["arguments"]
                   for d in own[1:])
        assert len(fragments) > 1 and all(fragments)  # split inside the JSON text
        assert any(not _parses(f) for f in fragments)
    total = accumulate(stream)["choices"][0]
    assert total["message"]["content"] == ""
    assert [json.loads(c["function"]["arguments"]) for c in total["message"]["tool_calls"]] == [
        {"city": "Paris", "unit": "c"}, {"zone": "Europe/Paris"}]
    assert total["finish_reason"] == "tool_calls"
    assert not any("content" in c["choices"][0]["delta"] for c in stream[1:])


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_a_thinking_model_reasons_before_its_tool_calls(http):
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Weather?"}],
            "tools": [WEATHER], "stream": True}
    stream = chunks(http.post(PATH, json=body, headers=AUTH).content)
    kinds = [next(iter(c["choices"][0]["delta"]), "finish") for c in stream[1:]]
    assert kinds[0] == "reasoning_content" and "tool_calls" in kinds
    assert set(kinds[:kinds.index("tool_calls")]) == {"reasoning_content"}
    assert set(kinds[kinds.index("tool_calls"):]) == {"tool_calls", "finish"}
    head = tool_deltas(stream)[0]
    assert head == {"index": 0, "id": "get_weather_0", "type": "function",
                    "function": {"name": "get_weather", "arguments": ""}}
    assert stream[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert summary(accumulate(stream)) == expected_choices(reference(body))


# --- through the SDK: sync and async, in-process and over a socket ---------------------------


CLIENTS = ["client", "async_client", "served_client", "served_async_client"]

SDK_CASES = {
    "thinking": {"model": "kimi-k2.6"},
    "plain": {"model": "kimi-k2-0905-preview"},
    "tools": {"model": "kimi-k2.6", "tools": [WEATHER, CLOCK, EVENT]},
    "n=2": {"model": "moonshot-v1-8k", "n": 2, "temperature": 0.3},
    "cut": {"model": "kimi-k2.6", "max_completion_tokens": 7},
}


@pytest.fixture(params=CLIENTS)
def any_client(request):
    return request.getfixturevalue(request.param)


async def _maybe(value):
    return await value if asyncio.iscoroutine(value) else value


@pytest.mark.anyio
@pytest.mark.parametrize("case", SDK_CASES.values(), ids=SDK_CASES.keys())
async def test_the_sdk_stream_adds_up_to_the_sdk_reply(any_client, case):
    """A prompt no other test sends, so even the shared served mock answers it fresh (no
    prompt-cache hit, first ordinal) like the fresh mock the reference comes from."""
    messages = [{"role": "user", "content": f"Hello {uuid.uuid4().hex}"}]
    stream = await _maybe(any_client.chat.completions.create(
        messages=messages, stream=True, stream_options={"include_usage": True}, **case))
    if isinstance(stream, openai.AsyncStream):
        got = await sdk_chunks_async(stream)
    else:
        got = sdk_chunks(stream)
    reply = reference({"messages": messages, **case})
    total = accumulate(got)
    assert summary(total) == expected_choices(reply)
    assert total["usage"] == reply["usage"]
    assert {c["model"] for c in got} == {case["model"]}


def _final_matches(final, reply: dict) -> None:
    for choice, expected in zip(final.choices, reply["choices"], strict=True):
        message = expected["message"]
        assert choice.finish_reason == expected["finish_reason"]
        assert choice.message.content == message["content"]
        assert (choice.message.model_extra or {}).get("reasoning_content") == message.get(
            "reasoning_content")
        calls = [{"index": i, "id": c.id, "type": c.type,
                  "function": {"name": c.function.name, "arguments": c.function.arguments}}
                 for i, c in enumerate(choice.message.tool_calls or [])]
        assert calls == message.get("tool_calls", [])
    assert final.usage.model_dump(exclude_none=True) == reply["usage"]


HELPER_CASES = {k: v for k, v in SDK_CASES.items() if k != "cut"}


@pytest.mark.parametrize("case", HELPER_CASES.values(), ids=HELPER_CASES.keys())
def test_the_sdk_stream_helper_gives_the_non_streamed_completion(client, case):
    with client.chat.completions.stream(messages=HELLO, stream_options={"include_usage": True},
                                        **case) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert "chunk" in kinds
    _final_matches(final, reference({"messages": HELLO, **case}))


@pytest.mark.anyio
@pytest.mark.parametrize("case", HELPER_CASES.values(), ids=HELPER_CASES.keys())
async def test_the_async_sdk_stream_helper_gives_the_same(async_client, case):
    async with async_client.chat.completions.stream(
            messages=HELLO, stream_options={"include_usage": True}, **case) as stream:
        snapshots = [e.snapshot async for e in stream if e.type == "content.delta"]
        final = await stream.get_final_completion()
    assert snapshots[-1] in [c.message.content for c in final.choices]
    _final_matches(final, reference({"messages": HELLO, **case}))


def test_the_stream_helper_snapshot_of_a_cut_reply_and_the_sdks_length_error(client):
    """Cut while thinking (§1.4): `finish_reason: length`, `content: ""`; the SDK helper
    refuses to parse a final completion cut by the limit, as it always does, while its
    snapshot holds what the stream said."""
    case = {"model": "kimi-k2.6", "max_completion_tokens": 5}
    with client.chat.completions.stream(messages=HELLO, stream_options={"include_usage": True},
                                        **case) as stream:
        for _ in stream:
            pass
        snapshot = stream.current_completion_snapshot
        with pytest.raises(openai.LengthFinishReasonError):
            stream.get_final_completion()
    reply = reference({"messages": HELLO, **case})
    assert reply["choices"][0]["finish_reason"] == "length"
    _final_matches(snapshot, reply)


def test_without_include_usage_the_sdk_finds_usage_only_inside_the_choice(client):
    """The helper reads top-level `usage` only; Moonshot's is in `choices[0].usage` (§2.3)."""
    stream = client.chat.completions.create(model="kimi-k2.6", messages=HELLO, stream=True)
    got = list(stream)
    assert all(chunk.usage is None for chunk in got)
    finish = got[-1].choices[0]
    assert finish.finish_reason == "stop"
    assert (finish.model_extra or {})["usage"]["completion_tokens"] > 0


@pytest.mark.anyio
@pytest.mark.parametrize("side", ["client", "async_client"])
async def test_a_complete_stream_is_journalled_as_not_disconnected(request, mock, side):
    sdk = request.getfixturevalue(side)
    stream = await _maybe(sdk.chat.completions.create(model="moonshot-v1-8k", messages=HELLO,
                                                      stream=True))
    got = await sdk_chunks_async(stream) if side == "async_client" else sdk_chunks(stream)
    entry = mock.journal()[-1]
    assert entry.status == 200
    assert entry.chunks_sent == len(got) + 1  # [DONE] too
    assert entry.disconnected is False


# --- in-process really streams ------------------------------------------------------------


def real_mock() -> Mock:
    return Mock(Settings(clock="real", log_level="warning"))


def full_length(body: dict) -> int:
    """How many events (with [DONE]) the whole stream of `body` has on a fresh mock."""
    app = create_app(mock=real_mock())
    response = post(app, {**body, "stream": True}, {"X-Mockshot-Pacing": "instant"})
    return len(frames(response.content))


LONG = {"model": "kimi-k2.6", "messages": HELLO}  # ~100 tokens: ~0.5 s at 200 tokens/s


def test_the_sync_in_process_client_gets_the_first_chunk_before_the_last_is_made():
    mock = real_mock()
    sdk = plain_client(create_app(mock=mock))
    total = full_length(LONG)

    def consume() -> tuple[float, int, float]:
        started = time.perf_counter()
        stream = sdk.chat.completions.create(stream=True, extra_headers=PACED, **LONG)
        first_at = sent_at_first = None
        for chunk in stream:
            if first_at is None:
                first_at = time.perf_counter() - started
                sent_at_first = mock.journal()[-1].chunks_sent
            del chunk
        return first_at, sent_at_first, time.perf_counter() - started

    first_at, sent_at_first, elapsed = within(HANG, consume)
    assert sent_at_first <= 3 < total
    assert elapsed > 0.2 and first_at < elapsed / 3
    assert mock.journal()[-1].chunks_sent == total


@pytest.mark.anyio
async def test_the_async_in_process_client_gets_the_first_chunk_before_the_last_is_made():
    mock = real_mock()
    sdk = plain_async_client(create_app(mock=mock))
    total = full_length(LONG)
    started = time.perf_counter()
    stream = await sdk.chat.completions.create(stream=True, extra_headers=PACED, **LONG)
    first_at = sent_at_first = None
    async for _chunk in stream:
        if first_at is None:
            first_at = time.perf_counter() - started
            sent_at_first = mock.journal()[-1].chunks_sent
    elapsed = time.perf_counter() - started
    assert sent_at_first <= 3 < total
    assert elapsed > 0.2 and first_at < elapsed / 3


# --- a client that hangs up ---------------------------------------------------------------


READ = 3  # chunks read before hanging up


def test_hanging_up_in_process_sync_stops_the_stream(caplog):
    mock = real_mock()
    sdk = plain_client(create_app(mock=mock))
    total = full_length(LONG)

    def hang_up() -> None:
        stream = sdk.chat.completions.create(stream=True, extra_headers=PACED, **LONG)
        for count, _ in enumerate(stream, 1):
            if count == READ:
                break
        stream.close()

    within(HANG, hang_up)
    entry = mock.journal()[-1]
    assert entry.disconnected is True
    assert READ <= entry.chunks_sent < total
    time.sleep(0.1)
    assert errors_logged(caplog) == []


@pytest.mark.anyio
async def test_hanging_up_in_process_async_stops_the_stream_and_leaves_no_task(caplog):
    mock = real_mock()
    sdk = plain_async_client(create_app(mock=mock))
    total = full_length(LONG)
    before = asyncio.all_tasks()

    async def hang_up() -> None:
        stream = await sdk.chat.completions.create(stream=True, extra_headers=PACED, **LONG)
        count = 0
        async for _ in stream:
            count += 1
            if count == READ:
                break
        await stream.close()

    await within_async(HANG, hang_up())
    left = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert left == set(), f"tasks still running after the client hung up: {left}"
    entry = mock.journal()[-1]
    assert entry.disconnected is True
    assert READ <= entry.chunks_sent < total
    await asyncio.sleep(0.1)
    assert errors_logged(caplog) == []


def test_hanging_up_early_on_the_virtual_clock_does_not_hang_sync(mock, app):
    """The default in-process setup (virtual clock): `break` out of a stream, close it."""

    def hang_up() -> None:
        with plain_client(app).chat.completions.create(
                model="kimi-k2.6", messages=HELLO, stream=True) as stream:
            for _ in stream:
                break

    within(HANG, hang_up)
    assert mock.journal()[-1].disconnected is True


@pytest.mark.anyio
async def test_hanging_up_early_on_the_virtual_clock_does_not_hang_async(mock, app):
    async def hang_up() -> None:
        stream = await plain_async_client(app).chat.completions.create(
            model="kimi-k2.6", messages=HELLO, stream=True)
        async for _ in stream:
            break
        await stream.close()

    await within_async(HANG, hang_up())
    assert mock.journal()[-1].disconnected is True


@pytest.fixture(scope="module")
def real_served():
    """A served mock on the real clock, so a paced stream is still going when the client
    hangs up."""
    with ServedMock(Settings(port=0, clock="real", log_level="warning")) as running:
        yield running


def _settled(mock: Mock, deadline: float = 3.0) -> JournalEntry:
    """The last journal entry once the server has seen how its stream ended."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        entry = mock.journal()[-1]
        if entry.disconnected is not None:
            return entry
        time.sleep(0.01)
    return mock.journal()[-1]


def test_hanging_up_over_a_socket_sync_stops_the_stream(real_served, caplog):
    body = {**LONG, "messages": [{"role": "user", "content": f"Hi {uuid.uuid4().hex}"}]}
    total = full_length(body)
    sdk = openai.OpenAI(api_key=KEY, base_url=f"{real_served.url}/v1", max_retries=0)

    def hang_up() -> None:
        stream = sdk.chat.completions.create(stream=True, extra_headers=PACED, **body)
        for count, _ in enumerate(stream, 1):
            if count == READ:
                break
        stream.close()

    within(HANG, hang_up)
    entry = _settled(real_served.mock)
    assert entry.disconnected is True
    assert READ <= entry.chunks_sent < total
    assert errors_logged(caplog) == []


@pytest.mark.anyio
async def test_hanging_up_over_a_socket_async_stops_the_stream(real_served, caplog):
    body = {**LONG, "messages": [{"role": "user", "content": f"Hi {uuid.uuid4().hex}"}]}
    total = full_length(body)
    sdk = openai.AsyncOpenAI(api_key=KEY, base_url=f"{real_served.url}/v1", max_retries=0)

    async def hang_up() -> None:
        stream = await sdk.chat.completions.create(stream=True, extra_headers=PACED, **body)
        count = 0
        async for _ in stream:
            count += 1
            if count == READ:
                break
        await stream.close()

    await within_async(HANG, hang_up())
    entry = await asyncio.to_thread(_settled, real_served.mock)
    assert entry.disconnected is True
    assert READ <= entry.chunks_sent < total
    assert errors_logged(caplog) == []


# --- errors after the stream began (§2.1) and broken streams -------------------------------


def faulty(fault: str) -> dict:
    return {"X-Mockshot-Fault": fault}


STREAM = {"model": "moonshot-v1-8k", "messages": HELLO, "stream": True}


def test_an_error_frame_after_three_frames_has_the_real_shape(mock, http):
    response = http.post(PATH, json=STREAM, headers={**AUTH, **faulty("error_frame:after=3")})
    assert response.status_code == 200
    payloads = frames(response.content)
    assert [json.loads(p)["object"] for p in payloads[:3]] == ["chat.completion.chunk"] * 3
    assert payloads[3] == compact({"error": {
        "message": "The engine is currently overloaded, please try again later",
        "type": "engine_overloaded_error"}})
    assert payloads[4:] in ([], [b"[DONE]"])  # nothing of the reply after the error
    assert mock.journal()[-1].fault == "error_frame"


def test_an_error_frame_can_name_its_type(http):
    response = http.post(PATH, json=STREAM,
                         headers={**AUTH, **faulty("error_frame:after=2,type=server_error")})
    payloads = frames(response.content)
    assert json.loads(payloads[2]) == {"error": {
        "message": "The server had an error while processing your request",
        "type": "server_error"}}


@pytest.mark.anyio
@pytest.mark.parametrize("side", CLIENTS)
async def test_the_sdk_raises_the_mid_stream_error(request, side):
    sdk = request.getfixturevalue(side).with_options(
        default_headers=faulty("error_frame:after=3"))
    messages = [{"role": "user", "content": f"Hello {uuid.uuid4().hex}"}]
    seen = []

    async def consume() -> None:
        stream = await _maybe(sdk.chat.completions.create(
            model="moonshot-v1-8k", messages=messages, stream=True))
        if isinstance(stream, openai.AsyncStream):
            async for chunk in stream:
                seen.append(chunk)
        else:
            for chunk in stream:
                seen.append(chunk)

    with pytest.raises(openai.APIError) as caught:
        await within_async(HANG, consume())
    assert len(seen) == 3
    error = caught.value
    assert error.message == "The engine is currently overloaded, please try again later"
    assert error.type == "engine_overloaded_error" and error.code is None
    assert error.body == {"message": error.message, "type": "engine_overloaded_error"}


@pytest.mark.parametrize("done", [False, True])
def test_a_cut_stream_ends_after_two_frames(http, done):
    fault = "stream_cut:after=2" + (",done=true" if done else "")
    response = http.post(PATH, json=STREAM, headers={**AUTH, **faulty(fault)})
    payloads = frames(response.content)
    assert len(payloads) == (3 if done else 2)
    assert [json.loads(p)["choices"][0]["finish_reason"] for p in payloads[:2]] == [None, None]
    assert (payloads[2:] == [b"[DONE]"]) is done


@pytest.mark.parametrize("done", [False, True])
def test_the_sdk_ends_a_cut_stream_quietly_after_two_chunks(client, done):
    """The SDK does not insist on `[DONE]` or a finish chunk: it just stops."""
    fault = "stream_cut:after=2" + (",done=true" if done else "")
    sdk = client.with_options(default_headers=faulty(fault))
    got = sdk_chunks(sdk.chat.completions.create(model="moonshot-v1-8k", messages=HELLO,
                                                 stream=True))
    assert len(got) == 2 and got[0]["choices"][0]["delta"]["role"] == "assistant"


@pytest.mark.parametrize("fault", ["stream_cut:after=200,done=true", "error_frame:after=200",
                                   "malformed_frame:after=200"])
def test_a_fault_after_the_end_of_the_stream_never_follows_done(raw, fault):
    """A stream shorter than `after` frames: whatever the fault does, `data: [DONE]` comes
    once and last (an SSE client stops reading there, §2.1)."""
    body = {**STREAM, "max_completion_tokens": 5}
    response = raw.post(PATH, json=body, headers={**AUTH, **faulty(fault)})
    payloads = frames(response.content)
    assert len(payloads) < 200
    assert payloads.count(b"[DONE]") == 1 and payloads[-1] == b"[DONE]", payloads[-2:]
    assert payloads == frames(post(fresh_app(), body).content)[:len(payloads)]


@pytest.fixture
def raw(app):
    """A raw in-process client without the spec hook (a malformed frame is the point)."""
    with http_client(app) as client:
        yield client


def test_a_malformed_frame_is_cut_mid_json_and_the_stream_goes_on(raw):
    response = raw.post(PATH, json=STREAM, headers={**AUTH, **faulty("malformed_frame:after=2")})
    payloads = frames(response.content)
    assert all(_parses(p.decode()) for p in payloads[:2])
    assert payloads[2].startswith(b'{"id":"chatcmpl-') and not _parses(payloads[2].decode())
    assert payloads[-1] == b"[DONE]" and payloads.count(b"[DONE]") == 1
    assert all(_parses(p.decode()) for p in payloads[3:-1])
    unbroken = frames(post(fresh_app(), STREAM).content)
    assert payloads[:2] == unbroken[:2] and payloads[3:] == unbroken[3:]
    assert unbroken[2].startswith(payloads[2])


def test_the_sdk_fails_on_a_malformed_frame_in_process_sync(app):
    sdk = plain_client(app).with_options(default_headers=faulty("malformed_frame:after=2"))
    seen = []

    def consume() -> None:
        for chunk in sdk.chat.completions.create(model="moonshot-v1-8k", messages=HELLO,
                                                 stream=True):
            seen.append(chunk)

    with pytest.raises(json.JSONDecodeError):
        within(HANG, consume)
    assert len(seen) == 2


@pytest.mark.anyio
async def test_the_sdk_fails_on_a_malformed_frame_in_process_async(app):
    sdk = plain_async_client(app).with_options(default_headers=faulty("malformed_frame:after=2"))
    seen = []

    async def consume() -> None:
        stream = await sdk.chat.completions.create(model="moonshot-v1-8k", messages=HELLO,
                                                   stream=True)
        async for chunk in stream:
            seen.append(chunk)

    with pytest.raises(json.JSONDecodeError):
        await within_async(HANG, consume())
    assert len(seen) == 2


@pytest.mark.anyio
async def test_the_sdk_fails_on_a_malformed_frame_over_a_socket(served):
    headers = faulty("malformed_frame:after=2")
    sdk = openai.OpenAI(api_key=KEY, base_url=f"{served.url}/v1", max_retries=0,
                        default_headers=headers)
    seen = []
    with pytest.raises(json.JSONDecodeError):
        for chunk in sdk.chat.completions.create(model="moonshot-v1-8k", messages=HELLO,
                                                 stream=True):
            seen.append(chunk)
    assert len(seen) == 2
    async_sdk = openai.AsyncOpenAI(api_key=KEY, base_url=f"{served.url}/v1", max_retries=0,
                                   default_headers=headers,
                                   http_client=httpx_module().AsyncClient())
    seen.clear()
    with pytest.raises(json.JSONDecodeError):
        async for chunk in await async_sdk.chat.completions.create(
                model="moonshot-v1-8k", messages=HELLO, stream=True):
            seen.append(chunk)
    assert len(seen) == 2
    with contextlib.suppress(Exception):
        await async_sdk.close()
