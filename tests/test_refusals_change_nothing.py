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
    ("error_frame:type=5", "type: 5 is not of type 'string'"),
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
