"""Arbitrary JSON (and YAML) values in every field a client controls, against a served mock:
never a 5xx a client caused, always the surface's envelope, no state changed by a refusal
(journal, rules and their uses, the account, the clock), the journal still renders, and
/_mockshot/health answers within 100 ms while each request is in flight.

Each example starts from a clean mock holding one catch-all rule with an empty reply, so
every chat or estimate call that gets past validation uses it: its `uses` (read back with
the rules) is the count a refusal must not move, as a call's ordinal would be.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockshot.state.clock import VIRTUAL_EPOCH
from mockshot.transport import httpx_module

from .served_state import ACCOUNT, ServedProcess, refused, responsive, snapshot

KEY = {"Authorization": f"Bearer {ACCOUNT}"}
WATCH = {"name": "watch", "match": {"operation": ["chat", "estimate"]}, "reply": {}}
HELLO = [{"role": "user", "content": "Hello"}]
FUZZ = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FIELD_FUZZ = settings(FUZZ, max_examples=12)  # 39 body fields: about 500 calls in all

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-3, 3)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
           | st.sampled_from(["kimi-k2.6", "user", "assistant", "tool", "text", "function",
                              "object", "string", "json_schema", "required", "auto", "", "{",
                              "image_url", "data:image/png;base64,AAAA", "enabled"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                      max_leaves=16)

CHAT = {"model": "kimi-k2.6", "messages": HELLO, "max_completion_tokens": 64,
        "thinking": {"type": "disabled"},
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}]}
ANTHROPIC = {"model": "kimi-k2.6", "max_tokens": 64, "messages": HELLO,
             "tools": [{"name": "get_weather", "input_schema": {
                 "type": "object", "properties": {"city": {"type": "string"}}}}]}
ESTIMATE = {"model": "kimi-k2.6", "messages": HELLO}
SURFACES = {"/v1/chat/completions": CHAT, "/anthropic/v1/messages": ANTHROPIC,
            "/anthropic/v1/messages/count_tokens": ANTHROPIC,
            "/v1/tokenizers/estimate-token-count": ESTIMATE}
FIELDS = {
    "/v1/chat/completions": [("model",), ("messages",), ("messages", 0), ("messages", 0, "content"),
                             ("messages", 0, "role"), ("tools",), ("tools", 0, "function"),
                             ("tools", 0, "function", "parameters"), ("tool_choice",),
                             ("response_format",), ("stop",), ("max_completion_tokens",),
                             ("temperature",), ("n",), ("stream",), ("stream_options",),
                             ("thinking",), ("user",), ("extra",)],
    "/anthropic/v1/messages": [("model",), ("max_tokens",), ("messages",),
                               ("messages", 0, "content"), ("system",), ("tools",),
                               ("tools", 0, "input_schema"), ("tool_choice",),
                               ("stop_sequences",), ("metadata",), ("thinking",),
                               ("stream",)],
    "/anthropic/v1/messages/count_tokens": [("messages",), ("system",), ("tools",)],
    "/v1/tokenizers/estimate-token-count": [("model",), ("messages",),
                                            ("messages", 0, "content"), ("tools",),
                                            ("thinking",)],
}
CALLS = [(path, where) for path, fields in FIELDS.items() for where in fields]


@pytest.fixture(scope="module")
def served() -> Iterator[ServedProcess]:
    with ServedProcess() as running:
        yield running


@pytest.fixture(scope="module")
def http(served):
    with httpx_module().Client(base_url=served.url, timeout=30) as client:
        yield client


def clean(http) -> dict:
    """A clean mock with the catch-all rule; its state, read back."""
    http.post("/_mockshot/reset", json={"keep_rules": False})
    http.post("/_mockshot/clock", json={"set": VIRTUAL_EPOCH})
    assert http.post("/_mockshot/rules", json=WATCH).status_code == 201
    return snapshot(http)


def placed(base: dict, where: tuple, value: Any) -> dict:
    """A deep copy of `base` with `value` at `where` (the last step added if missing)."""
    body = json.loads(json.dumps(base))
    node = body
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    return body


def envelope(path: str, reply) -> dict:
    """The error in the surface's envelope (Anthropic's for /anthropic/, Moonshot's else)."""
    data = reply.json()
    if path.startswith("/anthropic/"):
        assert data["type"] == "error" and set(data["error"]) == {"type", "message"}
        return data["error"]
    assert set(data) == {"error"} and isinstance(data["error"]["message"], str)
    assert isinstance(data["error"]["type"], str)
    return data["error"]


def check(served, http, path: str, send, before: dict) -> None:
    """The properties every fuzzed call must have."""
    reply, slowest = responsive(served, send)
    assert not isinstance(reply, Exception), reply
    assert slowest < 0.1, f"health took {slowest * 1000:.0f} ms while the call was in flight"
    assert reply.status_code < 500, reply.text[:500]
    if reply.status_code >= 400:
        envelope(path, reply)
        refused(http, before, reply.status_code)
    assert http.get("/_mockshot/journal").status_code == 200


@pytest.mark.parametrize(("path", "where"), CALLS, ids=[
    f"{path}:{'.'.join(map(str, where))}" for path, where in CALLS])
@FIELD_FUZZ
@given(value=VALUES)
def test_any_value_in_any_body_field(served, http, path, where, value):
    before = clean(http)
    body = placed(SURFACES[path], where, value)
    check(served, http, path, lambda: http.post(path, json=body, headers=KEY), before)


HEADER_VALUES = (st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)
                 | st.sampled_from(["instant", "reset", "latency:ms=1e300", "nan", "1e-300",
                                    "stream_cut:after=-1", "ttft_ms=0,tokens_per_second=0",
                                    "server_error:probability=nan", "default", "9" * 30]))
HEADERS = ["X-Mockshot-Seed", "X-Mockshot-Scenario", "X-Mockshot-Fault", "X-Mockshot-Pacing"]


@pytest.mark.parametrize("header", HEADERS)
@FUZZ
@given(value=HEADER_VALUES, stream=st.booleans())
def test_any_value_in_a_steering_header(served, http, header, value, stream):
    before = clean(http)
    body = {**CHAT, "stream": stream}
    path = "/v1/chat/completions"
    reply, slowest = responsive(served, lambda: http.post(
        path, json=body, headers={**KEY, header: value}))
    assert slowest < 0.1
    fired = http.get("/_mockshot/journal").json()["data"][-1].get("fault")
    if fired:  # the call asked for this fault: an error or a dropped connection is its due
        return
    assert not isinstance(reply, Exception), reply
    assert reply.status_code < 500, reply.text[:500]
    if reply.status_code >= 400:
        envelope(path, reply)
        refused(http, before, reply.status_code)


RULE_FIELDS = [("name",), ("scenario",), ("times",), ("cycle",), ("then_state",),
               ("match",), ("match", "nth"), ("match", "regex"), ("match", "model"),
               ("match", "header"), ("match", "operation"), ("reply",), ("reply", "content"),
               ("reply", "tool_calls"), ("reply", "error"), ("reply", "fault"),
               ("reply", "pacing"), ("reply", "usage")]
BASE_RULE = {"name": "fuzzed", "match": {"contains": "never sent"}, "reply": {"content": "x"}}


@pytest.mark.parametrize("where", RULE_FIELDS, ids=[".".join(w) for w in RULE_FIELDS])
@FUZZ
@given(value=VALUES, as_yaml=st.booleans())
def test_any_value_in_a_scenario_document(served, http, where, value, as_yaml):
    before = clean(http)
    document = {"scenario": "fuzz", "rules": [placed(BASE_RULE, where, value)]}
    if as_yaml:
        text = yaml.safe_dump(document)
        send = lambda: http.post("/_mockshot/scenarios", content=text,  # noqa: E731
                                 headers={"content-type": "application/yaml"})
    else:
        send = lambda: http.post("/_mockshot/scenarios", json=document)  # noqa: E731
    check(served, http, "/_mockshot/scenarios", send, before)


CONTROL = [("POST", "/_mockshot/clock", "advance"), ("POST", "/_mockshot/clock", "set"),
           ("PUT", f"/_mockshot/accounts/{ACCOUNT}", "cash"),
           ("PUT", f"/_mockshot/accounts/{ACCOUNT}", "voucher"),
           ("POST", "/_mockshot/reset", "keep_accounts"), ("POST", "/_mockshot/rules", "rules")]


@pytest.mark.parametrize(("method", "path", "field"), CONTROL,
                         ids=[f"{m} {p} {f}" for m, p, f in CONTROL])
@FUZZ
@given(value=VALUES)
def test_any_value_in_a_control_request(served, http, method, path, field, value):
    before = clean(http)
    body = {"cash": 1, field: value} if "accounts" in path else {field: value}
    check(served, http, path, lambda: http.request(method, path, json=body), before)
