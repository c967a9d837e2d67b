"""Properties of the request road, over generated chat requests (hypothesis).

(a) every generated *valid* chat request answers 200 with a spec-conformant body and
    consistent usage; (b) every generated *invalid* one answers a 4xx in exactly Moonshot's
    envelope, never a 5xx; (c) the same seed and the same requests against two fresh mocks
    give byte-identical bodies; (d) estimate-token-count equals chat `usage.prompt_tokens`;
    (e) an account's balance only goes down, only by successful chats, and by their price.

Apps are built here with `create_app(Settings(clock="virtual"))`, not taken from fixtures:
one per property (a fresh API key per example where account state matters), two fresh ones
per example for (c). Each property stays at or under 100 examples.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import string
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mockshot import Settings, async_http_client, create_app, http_client
from mockshot.engine.catalog import ModelSpec, load_catalog
from mockshot.engine.tokens import ApproxTokenizer

from . import spec_check

CHAT = "/v1/chat/completions"
ESTIMATE = "/v1/tokenizers/estimate-token-count"
BALANCE = "/v1/users/me/balance"
JSON_HEADERS = {"Content-Type": "application/json"}

CATALOG = load_catalog()
TOKENS = ApproxTokenizer()
MODELS: list[ModelSpec] = [m for m in CATALOG.models.values() if m.listed]
MODEL_IDS = [m.id for m in MODELS]

# Reference §6: kimi-k2.5 / kimi-k2.6 accept only these sampling values (thinking on, off).
REFERENCE_FIXED = {
    True: {"temperature": 1, "top_p": 0.95, "n": 1, "presence_penalty": 0,
           "frequency_penalty": 0},
    False: {"temperature": 0.6, "top_p": 0.95, "n": 1, "presence_penalty": 0,
            "frequency_penalty": 0},
}


def fixed_sampling(model: ModelSpec, thinking: bool) -> dict[str, float] | None:
    """The only sampling values `model` accepts (None: any in the spec's ranges)."""
    fixed = model.fixed_sampling
    if not fixed:
        return None
    values = {k: fixed[k] for k in ("top_p", "n", "presence_penalty", "frequency_penalty")
              if k in fixed}
    temperature = fixed.get("temperature")
    if not thinking:
        temperature = fixed.get("temperature_without_thinking", temperature)
    if temperature is not None:
        values["temperature"] = temperature
    return values

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(PROPERTY, max_examples=50)

_keys = itertools.count()


def fresh_key() -> str:
    return f"sk-prop-{next(_keys)}"


def auth(key: str) -> dict[str, str]:
    return {**JSON_HEADERS, "Authorization": f"Bearer {key}"}


def new_app(**overrides: Any):
    return create_app(Settings(clock="virtual", log_level="warning", **overrides))


def checked_client(app):
    """A sync in-process client whose every reply is validated against the spec."""
    return http_client(app, event_hooks={"response": [spec_check.hook]})


def assert_envelope(response) -> dict:
    """Exactly `{"error": {"message": str, "type": str}}`, nothing more."""
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"message", "type"}, body
    assert isinstance(error["message"], str) and error["message"], body
    assert isinstance(error["type"], str) and error["type"], body
    return error


# One app per property, built once: (a) and (b) share nothing that matters between examples;
# (d) and (e) use a fresh API key (a fresh account) per example.
VALID_CLIENT = checked_client(new_app())
INVALID_CLIENT = checked_client(new_app())
ESTIMATE_CLIENT = checked_client(new_app())
INITIAL_BALANCE = 0.002  # a few chats in, the account runs dry: 429s are exercised too
BALANCE_APP = new_app(balance=INITIAL_BALANCE)
BALANCE_CLIENT = checked_client(BALANCE_APP)


# --- strategies ------------------------------------------------------------------------

CJK = "你好世界中文测试模型月之暗面日本語かなカタカナ한국어입니다"
TEXTS = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.text(alphabet=CJK + string.ascii_letters + " ,.!?0123456789\n", min_size=1,
            max_size=40),
    st.sampled_from(["Hello", "What is 2+2?", "你好\uff0c世界\uff01", "Résumé, naïve café",
                     "emoji 🚀🌕 ok", "snake_case_name", "1234567890", "  spaced  ",
                     "internationalization"]),
)
NAMES = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)


@st.composite
def messages(draw) -> list[dict]:
    """1-4 system/user/assistant messages with non-empty text (string or text parts)."""
    roles = draw(st.lists(st.sampled_from(["system", "user", "assistant"]),
                          min_size=1, max_size=4))
    out = []
    for role in roles:
        text = draw(TEXTS)
        content: Any = text
        if draw(st.integers(0, 4)) == 0:
            content = [{"type": "text", "text": text}]
        message = {"role": role, "content": content}
        if draw(st.integers(0, 5)) == 0:
            message["name"] = draw(NAMES)
        out.append(message)
    return out


STOP_WORDS = st.one_of(st.sampled_from(["e", " the", ".", ",", "a", "o", "}", '":', "x"]),
                       st.text(st.characters(codec="utf-8"), min_size=1, max_size=8))


@st.composite
def valid_chats(draw, models: list[str] | None = None) -> dict:
    """A chat body that follows every rule of its model (spec + reference §6, §15)."""
    model = CATALOG.get(draw(st.sampled_from(models or MODEL_IDS)))
    body: dict[str, Any] = {"model": model.id, "messages": draw(messages())}
    thinking = model.thinking == "always"
    if model.thinking == "toggle":
        kind = draw(st.sampled_from([None, "enabled", "disabled"]))
        thinking = kind != "disabled"
        if kind is not None:
            body["thinking"] = {"type": kind}
            if model.supports_thinking_keep and draw(st.booleans()):
                body["thinking"]["keep"] = draw(st.sampled_from([None, "all"]))
    fixed = fixed_sampling(model, thinking)
    if fixed:
        for name, value in fixed.items():
            if draw(st.booleans()):
                body[name] = value
    else:
        temperature = draw(st.none() | st.floats(0, 1))
        if temperature is not None:
            body["temperature"] = temperature
        # n > 1 only with an explicit temperature of at least 0.001 (reference §15; the
        # moonshot-v1 default temperature is 0)
        several = temperature is not None and temperature >= 0.001
        n = draw(st.none() | st.integers(1, 5 if several else 1))
        if n is not None:
            body["n"] = n
        for name, low, high in [("top_p", 0, 1), ("presence_penalty", -2, 2),
                                ("frequency_penalty", -2, 2)]:
            if draw(st.booleans()):
                body[name] = draw(st.floats(low, high))
    budget_key = draw(st.sampled_from([None, "max_completion_tokens", "max_tokens"]))
    if budget_key:
        body[budget_key] = draw(st.integers(1, 3000))
    stop = draw(st.none() | STOP_WORDS | st.lists(STOP_WORDS, max_size=5))
    if stop is not None:
        body["stop"] = stop
    response_format = draw(st.sampled_from([None, "text", "json_object"]))
    if response_format:
        body["response_format"] = {"type": response_format}
    return body


def budget_of(body: dict) -> int | None:
    if "max_completion_tokens" in body:
        return body["max_completion_tokens"]
    return body.get("max_tokens")


def thinks(body: dict) -> bool:
    return CATALOG.get(body["model"]).thinks(body.get("thinking"))


def test_fixed_sampling_models_match_the_reference():
    fixed = {m.id for m in MODELS if m.fixed_sampling}
    assert {"kimi-k2.5", "kimi-k2.6"} <= fixed
    for model_id in ("kimi-k2.5", "kimi-k2.6"):
        for thinking in (True, False):
            assert fixed_sampling(CATALOG.get(model_id), thinking) == REFERENCE_FIXED[thinking]


# --- (a) valid requests -----------------------------------------------------------------


def check_completion(body: dict, reply: dict) -> None:
    model = CATALOG.get(body["model"])
    assert reply["object"] == "chat.completion"
    assert reply["model"] == model.id
    n = int(body.get("n") or 1)
    assert [c["index"] for c in reply["choices"]] == list(range(n))
    usage = reply["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] >= 0
    if "cached_tokens" in usage:
        assert 0 < usage["cached_tokens"] <= usage["prompt_tokens"]
        assert usage["prompt_tokens_details"] == {"cached_tokens": usage["cached_tokens"]}
    budget = budget_of(body)
    if budget is not None:
        assert usage["completion_tokens"] <= budget * n, (budget, usage)
    thinking = thinks(body)
    details = usage.get("completion_tokens_details")
    if thinking:
        assert details is not None and details["reasoning_tokens"] >= 0
        assert details["reasoning_tokens"] <= usage["completion_tokens"]
    else:
        assert details is None, usage
    # the default tokenizer's pieces are one token each, so the texts recount exactly
    spent = [TOKENS.count(c["message"]["content"] or "")
             + TOKENS.count(c["message"].get("reasoning_content") or "")
             for c in reply["choices"]]
    assert sum(spent) == usage["completion_tokens"], (spent, usage)
    if thinking:
        assert details["reasoning_tokens"] == sum(
            TOKENS.count(c["message"]["reasoning_content"]) for c in reply["choices"])
    if budget is not None:
        assert max(spent) <= budget, (spent, budget)
    stops = body.get("stop")
    stops = [stops] if isinstance(stops, str) else stops or []
    for choice in reply["choices"]:
        message = choice["message"]
        assert choice["finish_reason"] in ("stop", "length"), choice
        assert ("reasoning_content" in message) == thinking, message
        for word in stops:
            assert word not in message["content"], (word, message["content"])
        fmt = (body.get("response_format") or {}).get("type")
        if fmt == "json_object" and choice["finish_reason"] == "stop" and not stops:
            assert isinstance(orjson.loads(message["content"]), dict), message


@PROPERTY
@given(body=valid_chats())
@example(body={"model": "kimi-k2.6", "messages": [{"role": "user", "content": "你好"}],
               "thinking": {"type": "enabled"}, "max_completion_tokens": 1})
@example(body={"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "Hi"}],
               "n": 5, "temperature": 0.3, "max_tokens": 3, "stop": ["e", "."]})
@example(body={"model": "kimi-k2.5", "messages": [{"role": "user", "content": "Hi"}],
               "thinking": {"type": "disabled"}, "temperature": 0.6, "top_p": 0.95, "n": 1,
               "presence_penalty": 0, "frequency_penalty": 0,
               "response_format": {"type": "json_object"}})
def test_valid_chat_requests_answer_200_with_consistent_usage(body):
    response = VALID_CLIENT.post(CHAT, headers=auth("sk-valid"), content=orjson.dumps(body))
    assert response.status_code == 200, (body, response.text)
    check_completion(body, response.json())



# --- (b) invalid requests ---------------------------------------------------------------

WRONG_TYPES: dict[str, list[Any]] = {
    "messages": ["hello", {"role": "user"}, 7, None, True],
    "temperature": ["0.5", [0.5], {"v": 1}, True],
    "top_p": ["1", [], False],
    "n": ["2", 1.5, [1], True],
    "max_completion_tokens": ["100", 10.5, [], {}, True],
    "max_tokens": ["100", 2.5, False],
    "presence_penalty": ["0", []],
    "stop": [5, [1, 2], {"a": "b"}, True],
    "stream": ["yes", 1, []],
    "response_format": ["json_object", ["text"], 3],
    "stream_options": ["yes", [True]],
    "tools": ["none", {"type": "function"}, 3],
    "top_logprobs": ["3", 1.5],
    "logprobs": ["yes", 1],
}


def _mutation(draw, body: dict) -> tuple[bytes, dict[str, str], set[int] | None]:
    """Break `body` in one generated way; return (raw body, headers, allowed statuses)."""
    model = CATALOG.get(body["model"])
    fixed = fixed_sampling(model, thinks(body))
    kind = draw(st.sampled_from([
        "wrong_type", "out_of_range", "bad_enum", "missing_model", "missing_messages",
        "unknown_model", "empty_messages", "garbage", "non_object", "bad_message",
        "too_many_stops", "long_stop", "window", "bad_thinking", "content_type",
    ]))
    status: set[int] | None = {400}
    headers = dict(JSON_HEADERS)
    body = {**body}
    if kind == "wrong_type":
        field = draw(st.sampled_from(sorted(WRONG_TYPES)))
        body[field] = draw(st.sampled_from(WRONG_TYPES[field]))
    elif kind == "out_of_range":
        if fixed:
            other = fixed_sampling(model, not thinks(body))["temperature"]
            field, value = draw(st.sampled_from([
                ("temperature", other if other != fixed["temperature"] else 0.7),
                ("temperature", 0.7),
                ("top_p", 1.0), ("top_p", 0.5), ("n", 2), ("n", 5),
                ("presence_penalty", 0.5), ("frequency_penalty", -1.0),
                ("max_completion_tokens", 0), ("max_completion_tokens", -3),
                ("top_logprobs", 21),
            ]))
        else:
            field, value = draw(st.sampled_from([
                ("temperature", draw(st.floats(1.0001, 100))),
                ("temperature", draw(st.floats(-100, -0.0001))),
                ("top_p", draw(st.floats(1.0001, 10))), ("top_p", -0.5),
                ("n", 0), ("n", 6), ("n", -1), ("n", 100),
                ("presence_penalty", draw(st.floats(2.0001, 50))),
                ("frequency_penalty", draw(st.floats(-50, -2.0001))),
                ("max_completion_tokens", draw(st.integers(-10**6, 0))),
                ("max_tokens", draw(st.integers(-10**6, 0))),
                ("top_logprobs", 21), ("top_logprobs", -1),
            ]))
            if field == "n" and value > 1:
                body.pop("temperature", None)
        body[field] = value
        if field == "max_tokens":
            body.pop("max_completion_tokens", None)
    elif kind == "bad_enum":
        which = draw(st.sampled_from(["role", "response_format", "tool_choice", "part"]))
        if which == "role":
            index = draw(st.integers(0, len(body["messages"]) - 1))
            body["messages"] = [dict(m) for m in body["messages"]]
            body["messages"][index]["role"] = draw(st.sampled_from(
                ["robot", "developer", "User", "", "function"]))
        elif which == "response_format":
            body["response_format"] = {"type": draw(st.sampled_from(["xml", "json", "", "yaml"]))}
        elif which == "tool_choice":
            body["tool_choice"] = draw(st.sampled_from(["sometimes", "always", "any"]))
        else:
            body["messages"] = [*body["messages"], {"role": "user", "content": [
                {"type": draw(st.sampled_from(["audio", "file", "Text"])), "text": "x"}]}]
    elif kind == "missing_model":
        del body["model"]
        status = {400, 404}  # a schema error, or "Not found the model None"
    elif kind == "missing_messages":
        del body["messages"]
    elif kind == "unknown_model":
        body["model"] = draw(st.sampled_from(["gpt-4o", "kimi-k9", "moonshot-v1-9k", "",
                                              "KIMI-K2.6", "kimi-k2.6 "]))
        status = {404}  # reference §7.2
    elif kind == "empty_messages":
        body["messages"] = []
    elif kind == "garbage":
        raw = draw(st.binary(max_size=64))
        return raw, headers, None
    elif kind == "non_object":
        value = draw(st.sampled_from([[], [body], "hello", 42, 4.5, None, True, False]))
        return orjson.dumps(value), headers, {400}
    elif kind == "bad_message":
        broken = draw(st.sampled_from([
            {"role": "assistant", "content": ""},
            {"role": "assistant", "content": None},
            {"role": "assistant", "content": []},
            {"role": "tool", "content": "42", "tool_call_id": "nope_0"},
            {"content": "no role"},
            "just a string",
            {"role": "user", "content": 5},
            {"role": "user", "content": [{"type": "text"}]},
            {"role": "user", "content": "x", "partial": "yes"},
        ]))
        at = draw(st.integers(0, len(body["messages"])))
        body["messages"] = [*body["messages"][:at], broken, *body["messages"][at:]]
    elif kind == "too_many_stops":
        body["stop"] = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=6,
                                     max_size=10))
    elif kind == "long_stop":
        body["stop"] = draw(st.sampled_from(["x" * 33, "你" * 11, ["ok", "y" * 40]]))
    elif kind == "window":
        body["max_completion_tokens"] = model.context_length + draw(st.integers(0, 10**6))
    elif kind == "bad_thinking":
        if model.thinking == "toggle":
            body["thinking"] = draw(st.sampled_from([
                {"type": "maybe"}, {}, {"type": "enabled", "extra": 1}, "enabled", [],
            ]))
        elif model.thinking == "always":
            body["thinking"] = {"type": "disabled"}
        else:
            body["thinking"] = {"type": "enabled"}
            body["reasoning_effort"] = "high"
    elif kind == "content_type":
        headers["Content-Type"] = draw(st.sampled_from(
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]))
    return orjson.dumps(body), headers, status


@st.composite
def invalid_chats(draw) -> tuple[bytes, dict[str, str], set[int] | None]:
    return _mutation(draw, draw(valid_chats()))


@PROPERTY
@given(case=invalid_chats())
def test_invalid_chat_requests_answer_4xx_in_the_envelope(case):
    raw, headers, status = case
    response = INVALID_CLIENT.post(CHAT, headers={**headers, "Authorization": "Bearer sk-bad"},
                                   content=raw)
    assert 400 <= response.status_code < 500, (raw, response.status_code, response.text)
    if status is not None:
        assert response.status_code in status, (raw, response.text)
    error = assert_envelope(response)
    if response.status_code == 400:
        assert error["type"] == "invalid_request_error", error
    if response.status_code == 404:
        assert error["type"] == "resource_not_found_error", error



def test_integral_floats_for_integer_fields_never_answer_5xx():
    """JSON Schema counts 2.0 as an integer, so the schema lets `n: 2.0` and
    `max_completion_tokens: 5.0` through; the mock must then serve or reject them (4xx),
    not crash."""
    client = checked_client(new_app())
    hello = [{"role": "user", "content": "Hello"}]
    for body in [
        {"model": "moonshot-v1-8k", "messages": hello, "n": 2.0},
        {"model": "moonshot-v1-8k", "messages": hello, "n": 1.0},
        {"model": "kimi-k2.6", "messages": hello, "n": 1.0},
        {"model": "moonshot-v1-8k", "messages": hello, "max_completion_tokens": 5.0},
        {"model": "moonshot-v1-8k", "messages": hello, "max_tokens": 5.0},
        {"model": "kimi-k2.6", "messages": hello, "max_completion_tokens": 5.0},
    ]:
        response = client.post(CHAT, headers=auth("sk-float"), content=orjson.dumps(body))
        assert response.status_code < 500, (body, response.text)
        if response.status_code == 200:
            check_completion(body, response.json())
        else:
            assert_envelope(response)


@pytest.mark.parametrize("model", MODEL_IDS)
def test_non_object_thinking_never_answers_5xx(model):
    """`thinking` is an object wherever the spec defines it (kimi-k2.5/k2.6, where a wrong
    type is a schema 400). Models whose schema does not define it must not crash on one
    either: a 400 in the envelope, or the field ignored."""
    client = INVALID_CLIENT
    for thinking in [True, "enabled", 5, ["enabled"]]:
        body = {"model": model, "messages": [{"role": "user", "content": "Hello"}],
                "thinking": thinking}
        response = client.post(CHAT, headers=auth("sk-thinking"), content=orjson.dumps(body))
        assert response.status_code in (200, 400), (body, response.text)
        if response.status_code == 400:
            assert assert_envelope(response)["type"] == "invalid_request_error"


def test_seed_header_out_of_64_bit_range_never_answers_5xx():
    """`X-Mockshot-Seed` is an integer header; one too large for the generator must be a
    400 in the envelope (or be served), never a 500."""
    client = checked_client(new_app())
    body = orjson.dumps({"model": "moonshot-v1-8k",
                         "messages": [{"role": "user", "content": "Hello"}]})
    for seed in [str(2**63), str(-(2**63) - 1), str(2**70), "9" * 40]:
        response = client.post(CHAT, headers={**auth("sk-seed"), "X-Mockshot-Seed": seed},
                               content=body)
        assert response.status_code < 500, (seed, response.text)
        if response.status_code >= 400:
            assert_envelope(response)


# --- (c) determinism --------------------------------------------------------------------


@st.composite
def request_sequences(draw) -> list[tuple[str, str, dict[str, str], bytes]]:
    """1-6 requests: valid, streamed and invalid chats (some repeated), estimates,
    balances."""
    keys = ["sk-a", "sk-b"]
    out = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(keys))
        headers = auth(key)
        if draw(st.integers(0, 3)) == 0:
            headers["X-Mockshot-Seed"] = str(draw(st.integers(-(2**31), 2**31)))
        kind = draw(st.sampled_from(["chat", "chat", "stream", "repeat", "invalid",
                                     "estimate", "balance"]))
        if kind == "repeat" and out:
            out.append(draw(st.sampled_from(out)))
            continue
        if kind in ("chat", "repeat"):
            out.append(("POST", CHAT, headers, orjson.dumps(draw(valid_chats()))))
        elif kind == "stream":  # SSE bodies too: seeded chunking, virtual-clock pacing
            body = {**draw(valid_chats()), "stream": True}
            if draw(st.booleans()):
                body["stream_options"] = {"include_usage": True}
            out.append(("POST", CHAT, headers, orjson.dumps(body)))
        elif kind == "invalid":
            raw, extra, _ = draw(invalid_chats())
            out.append(("POST", CHAT, {**headers, **extra}, raw))
        elif kind == "estimate":
            body = {"model": draw(st.sampled_from(MODEL_IDS)), "messages": draw(messages())}
            out.append(("POST", ESTIMATE, headers, orjson.dumps(body)))
        else:
            out.append(("GET", BALANCE, headers, b""))
    return out


async def _replay(seed: int, requests) -> list[tuple[int, bytes]]:
    app = new_app(seed=seed)
    async with async_http_client(
        app, event_hooks={"response": [spec_check.async_hook]}
    ) as client:
        out = []
        for method, path, headers, raw in requests:
            response = await client.request(method, path, headers=headers,
                                            content=raw or None)
            out.append((response.status_code, response.content))
        return out


@FEW
@given(seed=st.integers(0, 2**63 - 1), requests=request_sequences())
def test_same_seed_same_requests_give_byte_identical_bodies(seed, requests):
    first = asyncio.run(_replay(seed, requests))
    second = asyncio.run(_replay(seed, requests))
    assert first == second


def test_a_different_seed_gives_a_different_reply():
    body = orjson.dumps({"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Hi"}]})
    requests = [("POST", CHAT, auth("sk-a"), body)]
    one = asyncio.run(_replay(1, requests))
    two = asyncio.run(_replay(2, requests))
    assert one[0][0] == two[0][0] == 200
    assert one != two


# --- (d) estimate == prompt tokens ------------------------------------------------------


PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()
MP4 = "data:video/mp4;base64," + base64.b64encode(b"\0\0\0\x18ftypmp42" + bytes(16)).decode()


@st.composite
def estimate_cases(draw) -> tuple[str, list[dict]]:
    """A model and a conversation for it: text, plus images/videos where the model takes
    them, plus sometimes a tool exchange (with the reasoning thinking models require)."""
    model = CATALOG.get(draw(st.sampled_from(MODEL_IDS)))
    conversation = draw(messages())
    if model.supports_image_in and draw(st.booleans()):
        parts: list[dict] = [{"type": "text", "text": draw(TEXTS)}]
        parts += [{"type": "image_url", "image_url": draw(st.sampled_from([{"url": PNG}, PNG]))}
                  for _ in range(draw(st.integers(1, 2)))]
        if model.supports_video_in and draw(st.booleans()):
            parts.append({"type": "video_url", "video_url": {"url": MP4}})
        conversation.append({"role": "user", "content": parts})
    if draw(st.booleans()):
        name = draw(st.sampled_from(["get_weather", "lookup", "search_docs"]))
        calls = [{"id": f"{name}_{i}", "type": "function",
                  "function": {"name": name,
                               "arguments": orjson.dumps({"q": draw(TEXTS)}).decode()}}
                 for i in range(draw(st.integers(1, 2)))]
        conversation.append({"role": "assistant", "content": draw(st.sampled_from([None, ""])),
                             "reasoning_content": draw(TEXTS), "tool_calls": calls})
        conversation += [{"role": "tool", "tool_call_id": call["id"], "name": name,
                          "content": draw(TEXTS)} for call in calls]
    return model.id, conversation


@PROPERTY
@given(case=estimate_cases())
def test_estimate_token_count_equals_chat_prompt_tokens(case):
    model, conversation = case
    key = fresh_key()  # a fresh account: no prompt-cache state from earlier examples
    body = orjson.dumps({"model": model, "messages": conversation})
    estimate = ESTIMATE_CLIENT.post(ESTIMATE, headers=auth(key), content=body)
    assert estimate.status_code == 200, estimate.text
    chat = ESTIMATE_CLIENT.post(CHAT, headers=auth(key), content=body)
    assert chat.status_code == 200, chat.text
    total = estimate.json()["data"]["total_tokens"]
    assert total == chat.json()["usage"]["prompt_tokens"], (conversation, total, chat.text)


# --- (e) balances -----------------------------------------------------------------------


def billed_model(body: dict, prompt_tokens: int) -> ModelSpec:
    """The model whose prices a chat is charged at (moonshot-v1-auto routes, reference §14)."""
    model = CATALOG.get(body["model"])
    if not model.routes_to:
        return model
    budget = budget_of(body)
    if budget is None:
        budget = max(min(model.default_max_tokens, model.context_length - prompt_tokens), 0)
    for target in model.routes_to:
        if prompt_tokens + budget <= CATALOG.get(target).context_length:
            return CATALOG.get(target)
    return CATALOG.get(model.routes_to[-1])


def expected_cost(body: dict, usage: dict) -> float:
    price = billed_model(body, usage["prompt_tokens"]).price
    hit = price.get("input_cache_hit")
    cached = usage.get("cached_tokens", 0) if hit is not None else 0
    return ((usage["prompt_tokens"] - cached) * (price.get("input") or 0.0)
            + cached * (hit or 0.0)
            + usage["completion_tokens"] * (price.get("output") or 0.0)) / 1_000_000


@st.composite
def account_actions(draw) -> list[tuple[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["chat", "chat", "invalid", "estimate", "models"]))
        if kind == "chat":
            out.append(("chat", draw(valid_chats())))
        elif kind == "invalid":
            out.append(("invalid", draw(invalid_chats())))
        else:
            out.append((kind, None))
    return out



@PROPERTY
@given(actions=account_actions())
def test_balance_goes_down_only_by_chats_and_never_on_a_rejection(actions):
    key = fresh_key()
    mock = BALANCE_APP.state.mock
    client = BALANCE_CLIENT

    def shown() -> float:
        reply = client.get(BALANCE, headers=auth(key))
        assert reply.status_code == 200, reply.text
        return reply.json()["data"]["available_balance"]

    before, before_shown = mock.balance(key), shown()
    assert before.available == before_shown == INITIAL_BALANCE
    for kind, payload in actions:
        if kind == "chat":
            response = client.post(CHAT, headers=auth(key), content=orjson.dumps(payload))
        elif kind == "invalid":
            raw, headers, _ = payload
            response = client.post(CHAT, headers={**headers, "Authorization": f"Bearer {key}"},
                                   content=raw)
        elif kind == "estimate":
            response = client.post(ESTIMATE, headers=auth(key), content=orjson.dumps(
                {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "count me"}]}))
        else:
            response = client.get("/v1/models", headers=auth(key))
        after = mock.balance(key)
        if kind == "chat" and before.available > 0:
            assert response.status_code == 200, (payload, response.text)
            cost = expected_cost(payload, response.json()["usage"])
            spent = (before.cash + before.voucher) - (after.cash + after.voucher)
            assert spent > 0
            assert math.isclose(spent, cost, rel_tol=1e-9, abs_tol=1e-15), (spent, cost)
        elif kind == "chat":  # the account ran dry: refused, and nothing is taken
            assert response.status_code == 429, response.text
            assert assert_envelope(response)["type"] == "exceeded_current_quota_error"
            assert after == before
        else:  # rejected chats, estimates and listings cost nothing
            assert kind != "invalid" or response.status_code >= 400, response.text
            assert after == before, (kind, response.status_code, response.text)
        now_shown = shown()
        assert now_shown <= before_shown
        assert now_shown == round(after.available, 5)
        before, before_shown = after, now_shown
