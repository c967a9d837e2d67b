"""A refused call leaves no trace but its journal entry: no charge, no warmed prompt cache,
no spent ordinal; and steering headers are checked as strictly as bodies."""

from __future__ import annotations

import pytest

from mockshot import Mock, Settings, create_app, error, http_client

CHAT = "/v1/chat/completions"
KEY = {"Authorization": "Bearer sk-refused"}
HELLO = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "Hello there"}]}


@pytest.fixture
def mock() -> Mock:
    return Mock(Settings(clock="virtual"))


@pytest.fixture
def raw(mock):
    with http_client(create_app(mock=mock)) as client:
        yield client


def test_a_bad_pacing_header_is_refused_before_anything_is_spent(raw, mock):
    before = mock.balance("sk-refused").available
    reply = raw.post(CHAT, json={**HELLO, "stream": True},
                     headers={**KEY, "X-Mockshot-Pacing": "ttft_ms=fast"})
    assert reply.status_code == 400
    assert mock.balance("sk-refused").available == before
    served = raw.post(CHAT, json=HELLO, headers=KEY).json()
    assert "cached_tokens" not in served["usage"]  # the refused call warmed nothing


def test_a_scripted_refusal_does_not_warm_the_prompt_cache(raw, mock):
    mock.on(nth=1).reply(error("rate_limit_reached_error"))
    assert raw.post(CHAT, json=HELLO, headers=KEY).status_code == 429
    assert "cached_tokens" not in raw.post(CHAT, json=HELLO, headers=KEY).json()["usage"]
    assert "cached_tokens" in raw.post(CHAT, json=HELLO, headers=KEY).json()["usage"]


@pytest.mark.parametrize(("fault", "says"), [
    ("latency:ms=abc", "ms: 'abc' is not of type 'number'"),
    ("stream_cut:after=-1", "after: -1 is less than the minimum of 0"),
    ("error_frame:type=5", "type: 5 is not one of ['invalid_request_error'"),
    ("truncated_body:bytes=lots", "bytes: 'lots' is not of type 'integer'"),
])
def test_a_fault_header_is_checked_like_a_scenario_file(raw, fault, says):
    reply = raw.get("/v1/models", headers={**KEY, "X-Mockshot-Fault": fault})
    assert reply.status_code == 400
    assert says in reply.json()["error"]["message"]


def test_a_fault_header_takes_exponent_numbers(raw, mock):
    reply = raw.get("/v1/models", headers={**KEY, "X-Mockshot-Fault": "latency:ms=1e3"})
    assert reply.status_code == 200
    assert mock.clock.now() == pytest.approx(1767225600 + 1.0)


def test_refining_a_rule_keeps_its_place_in_the_order(raw, mock):
    specific = mock.on(contains="weather").reply("specific")
    mock.on().reply("fallback")
    specific.times(5)
    body = {**HELLO, "model": "moonshot-v1-8k",
            "messages": [{"role": "user", "content": "weather?"}]}
    reply = raw.post(CHAT, json=body, headers=KEY).json()
    assert reply["choices"][0]["message"]["content"] == "specific"


def test_strict_mode_from_a_document_goes_with_its_rules(raw, mock):
    mock.scenarios.load_sync({"strict": True, "rules": [
        {"match": {"contains": "ping"}, "reply": {"content": "pong"}}]})
    assert raw.post(CHAT, json=HELLO, headers=KEY).status_code == 422
    assert raw.delete("/_mockshot/rules").status_code == 200
    assert raw.post(CHAT, json=HELLO, headers=KEY).status_code == 200


@pytest.mark.parametrize(("operation", "path", "method"), [
    ("balance", "/v1/users/me/balance", "GET"),
    ("estimate", "/v1/tokenizers/estimate-token-count", "POST"),
    ("models", "/v1/models", "GET"),
])
def test_the_journal_filters_by_the_names_rules_use(raw, operation, path, method):
    body = {"model": "kimi-k2.6", "messages": HELLO["messages"]} if method == "POST" else None
    raw.request(method, path, headers=KEY, json=body)
    found = raw.get("/_mockshot/journal", params={"operation": operation}).json()["data"]
    assert [entry["operation"] for entry in found] == [f"{method} {path}"]


IMPOSSIBLE = {"type": "json_schema", "json_schema": {"name": "code", "schema": {
    "type": "object", "properties": {"code": {"type": "string", "pattern": "^a$",
                                              "minLength": 3}},
    "required": ["code"]}}}


def test_a_schema_no_value_meets_is_refused_before_the_call_is_counted(raw, mock):
    """Generability is checked before the turn is taken: two refusals spend no ordinal,
    no `nth`, no money."""
    body = {**HELLO, "model": "moonshot-v1-8k", "response_format": IMPOSSIBLE}
    for _ in range(2):
        refused = raw.post(CHAT, json=body, headers=KEY)
        assert refused.status_code == 400, refused.text
        assert "response_format.json_schema" in refused.json()["error"]["message"]
    mock.on(nth=1).reply("first counted call")
    served = raw.post(CHAT, json={**HELLO, "model": "moonshot-v1-8k"}, headers=KEY).json()
    assert served["choices"][0]["message"]["content"] == "first counted call"
    assert mock.balance("sk-refused").available < 1000.0
    assert [e.status for e in mock.journal()] == [400, 400, 200]


def test_a_tool_schema_no_value_meets_is_refused_before_the_call_is_counted(raw, mock):
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"id": {"type": "integer", "minimum": 5,
                                                "maximum": 1}}, "required": ["id"]}}}
    body = {**HELLO, "model": "moonshot-v1-8k", "tools": [tool], "tool_choice": "required"}
    assert raw.post(CHAT, json=body, headers=KEY).status_code == 400
    plain = {**HELLO, "model": "moonshot-v1-8k"}
    raw.post(CHAT, json=plain, headers=KEY)
    assert [e.ordinal for e in mock.journal()] == [None, 0]


def test_the_journal_renders_any_body_it_kept(raw, mock):
    """Bodies are kept as sent and embedded verbatim: deep, odd or broken ones cannot
    make the journal unreadable."""
    deep = b'{"model":"kimi-k2.6","messages":[],"user":' + b"[" * 200 + b"]" * 200 + b"}"
    raw.post(CHAT, content=deep, headers={**KEY, "Content-Type": "application/json"})
    broken = b'{"model": "kimi-k2.6", "messages": ['
    raw.post(CHAT, content=broken, headers=KEY)
    raw.post(CHAT, content=b"\xff\xfe not text", headers=KEY)
    listed = raw.get("/_mockshot/journal")
    assert listed.status_code == 200
    shown = [e["request"] for e in listed.json()["data"]]
    # refused where it was read (deeper than 100 levels), so kept as the text it was
    assert shown[0] == {"truncated": False, "bytes": len(deep), "text": deep.decode()}
    assert shown[1] == {"truncated": False, "bytes": len(broken), "text": broken.decode()}
    assert shown[2]["text"].endswith("not text")
