"""The control and inspection API under /_mockshot/ (mockshot/admin.py)."""

from __future__ import annotations

import openai
import pytest

from mockshot import Mock, Settings, create_app, http_client
from mockshot.control.api import is_loopback
from mockshot.state.clock import VIRTUAL_EPOCH
from mockshot.transport import httpx_module

from .conftest import KEY

AUTH = {"Authorization": f"Bearer {KEY}"}
PONG = {"match": {"contains": "ping"}, "reply": {"content": "pong"}}
BAD = "invalid_request_error"


def chat(http, text: str = "Hello", model: str = "moonshot-v1-8k", key: str = KEY, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return http.post("/v1/chat/completions", json=body,
                     headers={"Authorization": f"Bearer {key}"})


def error_of(response, status: int, kind: str = BAD) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == kind
    return response.json()["error"]["message"]


@pytest.fixture
def raw(app):
    """A client on the same app that does not check replies against the spec (strict
    mode's 422 is mockshot's own)."""
    with http_client(app) as client:
        yield client


def names(http) -> list[str]:
    return [rule["name"] for rule in http.get("/_mockshot/rules").json()["data"]]


# ---- health and routing ----------------------------------------------------------------

def test_health(http):
    assert http.get("/_mockshot/health").json() == {"status": "ok"}


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PUT", "/_mockshot/rules", "GET, POST, DELETE"),
    ("GET", "/_mockshot/reset", "POST"),
    ("DELETE", "/_mockshot/clock", "GET, POST"),
    ("POST", "/_mockshot/accounts/sk-x", "GET, PUT"),
])
def test_a_wrong_method_is_405(http, method, path, allowed):
    response = http.request(method, path)
    error_of(response, 405)
    assert response.headers["allow"] == allowed


def test_an_unknown_admin_path_is_404(http):
    error_of(http.get("/_mockshot/nothing"), 404, "resource_not_found_error")


# ---- rules -----------------------------------------------------------------------------

def test_rules_start_empty(http):
    assert http.get("/_mockshot/rules").json() == {"object": "list", "data": []}


def test_post_one_rule(http):
    response = http.post("/_mockshot/rules", json={**PONG, "name": "pong", "times": 2})
    assert response.status_code == 201
    assert response.json() == {"name": "pong", "scenario": "default", "times": 2, "cycle": False,
                               "then_state": None, "operation": ["chat"], "replies": 1,
                               "uses": 0}


def test_listed_rules_count_their_uses(http):
    http.post("/_mockshot/rules", json={**PONG, "name": "pong"})
    chat(http, "ping")
    assert http.get("/_mockshot/rules").json()["data"][0]["uses"] == 1
    assert http.get("/_mockshot/rules/pong").json()["uses"] == 1


def test_post_a_document(http):
    document = {"scenario": "flow", "rules": [PONG, {"name": "b", "reply": {"content": "b"}}]}
    response = http.post("/_mockshot/rules", json=document)
    assert response.status_code == 201
    assert [r["scenario"] for r in response.json()["data"]] == ["flow", "flow"]
    assert names(http) == [r["name"] for r in response.json()["data"]]


def test_a_strict_document_makes_the_mock_strict(http, raw, mock):
    http.post("/_mockshot/rules", json={"strict": True, "rules": [PONG]})
    assert mock.scenarios.strict
    error_of(chat(raw, "other"), 422, "mockshot_unmatched_error")


def test_a_rule_posted_again_by_name_replaces_it(http):
    http.post("/_mockshot/rules", json={**PONG, "name": "r"})
    http.post("/_mockshot/rules", json={"name": "r", "reply": {"content": "new"}})
    assert names(http) == ["r"]
    assert chat(http, "ping").json()["choices"][0]["message"]["content"] == "new"


def test_one_invalid_rule_names_paths_within_it(http):
    message = error_of(http.post("/_mockshot/rules", json={"reply": {"content": 3}}), 400)
    assert message == ("Invalid request: invalid scenario: .reply.content: "
                       "3 is not of type 'string'")


def test_an_invalid_document_lists_every_problem_and_adds_nothing(http):
    document = {"rules": [PONG, {"match": {}}, {"reply": {"content": "x"}, "times": 0}]}
    message = error_of(http.post("/_mockshot/rules", json=document), 400)
    assert ".rules[1]: 'reply' is a required property" in message
    assert ".rules[2].times: 0 is less than the minimum of 1" in message
    assert names(http) == []


def test_semantic_problems_have_paths_too(http):
    document = {"rules": [{"match": {"regex": "("}, "reply": {"content": "x"}},
                          {"name": "a", "reply": {}}, {"name": "a", "reply": {}}]}
    message = error_of(http.post("/_mockshot/rules", json=document), 400)
    assert ".rules[0].match.regex: not a valid regex" in message
    assert ".rules[2].name: rule name 'a' is used twice" in message
    assert names(http) == []


@pytest.mark.parametrize(("content", "headers", "expected"), [
    (b"{nope", {"content-type": "application/json"}, "not valid JSON"),
    (b"[1, 2]", {"content-type": "application/json"}, "must be a JSON object, not an array"),
    (b"", {"content-type": "application/json"}, "the request body is empty"),
    (b"x=1", {"content-type": "application/x-www-form-urlencoded"}, "unsupported content type"),
    (b"\xff\xfe", {"content-type": "application/json"}, "not valid UTF-8"),
])
def test_a_bad_body_is_400(http, content, headers, expected):
    message = error_of(http.post("/_mockshot/rules", content=content, headers=headers), 400)
    assert expected in message


def test_get_an_unknown_rule_is_404(http):
    message = error_of(http.get("/_mockshot/rules/ghost"), 404, "resource_not_found_error")
    assert message == "no rule is named 'ghost'"


def test_delete_one_rule(http):
    http.post("/_mockshot/rules", json=PONG)
    name = names(http)[0]  # default#N: the # is escaped in the path
    assert http.delete(f"/_mockshot/rules/{name.replace('#', '%23')}").json() == {
        "name": name, "deleted": True}
    assert names(http) == []


def test_delete_an_unknown_rule_is_404(http):
    error_of(http.delete("/_mockshot/rules/ghost"), 404, "resource_not_found_error")


def test_delete_all_rules(http):
    http.post("/_mockshot/rules", json={"rules": [PONG, {**PONG, "name": "two"}]})
    assert http.delete("/_mockshot/rules").json() == {"deleted": 2}
    assert names(http) == []


def test_a_rule_added_through_the_api_scripts_the_next_sdk_call(app, http):
    http.post("/_mockshot/rules", json={"match": {"contains": "weather"},
                                        "reply": {"content": "Sunny in {{ last_user }}"}})
    with http_client(app) as inner:
        client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                               http_client=inner, max_retries=0)
        reply = client.chat.completions.create(
            model="moonshot-v1-8k", messages=[{"role": "user", "content": "weather?"}])
    assert reply.choices[0].message.content == "Sunny in weather?"


# ---- scenarios -------------------------------------------------------------------------

YAML_DOC = b"""
scenario: support
rules:
  - name: greet
    match: {contains: hello}
    reply: {content: Hi there}
"""


@pytest.mark.parametrize("media", ["application/yaml", "text/yaml", "application/x-yaml"])
def test_upload_a_yaml_scenario(http, media):
    response = http.post("/_mockshot/scenarios", content=YAML_DOC,
                         headers={"content-type": media})
    assert response.status_code == 201
    assert [(r["name"], r["scenario"]) for r in response.json()["data"]] == [
        ("greet", "support")]
    assert chat(http, "hello").json()["choices"][0]["message"]["content"] == "Hi there"


def test_upload_a_json_scenario(http):
    response = http.post("/_mockshot/scenarios", json={"rules": [PONG]})
    assert response.status_code == 201
    assert len(names(http)) == 1


def test_an_invalid_yaml_scenario_lists_its_problems(http):
    text = b"rules:\n  - reply: {content: 3}\n  - match: {}\n"
    message = error_of(http.post("/_mockshot/scenarios", content=text,
                                 headers={"content-type": "text/yaml"}), 400)
    assert ".rules[0].reply.content: 3 is not of type 'string'" in message
    assert ".rules[1]: 'reply' is a required property" in message
    assert names(http) == []


@pytest.mark.parametrize(("text", "expected"), [
    (b"rules:\n  - reply: [\n", "not valid YAML at line 3"),
    (b"- just\n- a list\n", "must be a YAML mapping"),
    (b"\xff\xfe\x00", "not valid UTF-8"),
])
def test_unreadable_yaml_is_400(http, text, expected):
    response = http.post("/_mockshot/scenarios", content=text,
                         headers={"content-type": "application/yaml"})
    assert expected in error_of(response, 400)


def test_a_scenario_needs_its_rules(http):
    message = error_of(http.post("/_mockshot/scenarios", json={"scenario": "x"}), 400)
    assert "'rules' is a required property" in message


# ---- reset -----------------------------------------------------------------------------

def test_reset_forgets_progress_and_keeps_rules(http):
    http.post("/_mockshot/rules", json={**PONG, "name": "once", "times": 1})
    chat(http, "ping")
    assert http.post("/_mockshot/reset").json() == {
        "status": "ok", "keep_accounts": False, "keep_rules": True}
    assert http.get("/_mockshot/journal").json()["data"] == []
    assert http.get("/_mockshot/rules/once").json()["uses"] == 0
    assert chat(http, "ping").json()["choices"][0]["message"]["content"] == "pong"


def test_reset_forgets_scenario_states(http):
    rules = [{"match": {"state": "started"}, "reply": {"content": "first"}, "then_state": "two"},
             {"name": "second", "match": {"state": "two"}, "reply": {"content": "second"}}]
    http.post("/_mockshot/rules", json={"rules": rules})
    assert chat(http).json()["choices"][0]["message"]["content"] == "first"
    assert chat(http).json()["choices"][0]["message"]["content"] == "second"
    http.post("/_mockshot/reset")
    assert chat(http).json()["choices"][0]["message"]["content"] == "first"


def test_reset_can_drop_the_rules(http):
    http.post("/_mockshot/rules", json=PONG)
    http.post("/_mockshot/reset", json={"keep_rules": False})
    assert names(http) == []


@pytest.mark.parametrize(("body", "cash"), [({}, 1000.0), ({"keep_accounts": True}, 1.5)])
def test_reset_keeps_accounts_when_asked(http, body, cash):
    http.put("/_mockshot/accounts/sk-a", json={"cash": 1.5})
    http.post("/_mockshot/reset", json=body)
    assert http.get("/_mockshot/accounts/sk-a").json()["data"]["cash_balance"] == cash


@pytest.mark.parametrize(("body", "expected"), [
    ({"keep_rules": "yes"}, "keep_rules must be a boolean, got 'yes'"),
    ({"keep_accounts": 1}, "keep_accounts must be a boolean, got 1"),
    ({"everything": True}, "unknown field 'everything'; expected keep_accounts, keep_rules"),
])
def test_a_bad_reset_changes_nothing(http, body, expected):
    http.post("/_mockshot/rules", json=PONG)
    chat(http)
    assert error_of(http.post("/_mockshot/reset", json=body), 400).endswith(expected)
    assert len(http.get("/_mockshot/journal").json()["data"]) == 1
    assert len(names(http)) == 1


# ---- journal ---------------------------------------------------------------------------

def test_a_journal_entry(http):
    http.post("/_mockshot/rules", json={**PONG, "name": "pong"})
    chat(http, "ping")
    [entry] = http.get("/_mockshot/journal").json()["data"]
    assert entry["elapsed_ms"] >= 0
    del entry["elapsed_ms"]
    assert 0 < entry.pop("cost") < 1e-4  # what the call was charged, USD
    assert entry == {
        "id": 1, "operation": "POST /v1/chat/completions", "account": "sk-tes…",
        "model": "moonshot-v1-8k", "status": 200, "seed": 0, "rule": "pong", "rule_use": 0,
        "ordinal": None, "fault": None, "chunks_sent": None, "disconnected": None,
        "at": VIRTUAL_EPOCH, "unmatched": False, "error": None, "retry_after": None,
        "served": ["finish:stop", "json"], "variants": [], "violation": None,
        "request": {"model": "moonshot-v1-8k",
                    "messages": [{"role": "user", "content": "ping"}]}}


def test_a_streamed_call_records_its_chunks(http):
    with http.stream("POST", "/v1/chat/completions", headers=AUTH, json={
            "model": "moonshot-v1-8k", "stream": True,
            "messages": [{"role": "user", "content": "Hi"}]}) as response:
        response.read()
    [entry] = http.get("/_mockshot/journal").json()["data"]
    assert entry["chunks_sent"] > 1
    assert entry["disconnected"] is False


def make_traffic(http) -> None:
    http.post("/_mockshot/rules", json={**PONG, "name": "pong"})
    chat(http, "ping")
    chat(http, "other", model="moonshot-v1-32k", key="sk-other")
    http.get("/v1/models", headers=AUTH)
    chat(http, "ping", model="nope")
    http.get("/v1/models")


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["ping", "other", "models", "ping", "models"]),
    ("?operation=chat", ["ping", "other", "ping"]),
    ("?operation=POST /v1/chat/completions", ["ping", "other", "ping"]),
    ("?operation=models", ["models", "models"]),
    ("?status=200", ["ping", "other", "models"]),
    ("?status=4xx", ["ping", "models"]),
    ("?status=401", ["models"]),
    ("?model=moonshot-v1-32k", ["other"]),
    ("?account=sk-other", ["other"]),
    ("?rule=pong", ["ping"]),
    ("?unmatched=true", ["other"]),
    ("?unmatched=false&operation=chat", ["ping", "ping"]),
    ("?limit=2", ["ping", "models"]),
    ("?operation=chat&limit=1", ["ping"]),
])
def test_journal_filters(http, query, expected):
    make_traffic(http)
    data = http.get(f"/_mockshot/journal{query}").json()["data"]
    assert [what(entry) for entry in data] == expected


def what(entry: dict) -> str:
    if entry["request"] is None:
        return "models"
    return entry["request"]["messages"][0]["content"]


def test_the_unmatched_shortcut(http):
    make_traffic(http)
    data = http.get("/_mockshot/unmatched").json()["data"]
    assert [(e["account"], e["unmatched"]) for e in data] == [("sk-oth…", True)]


def test_no_call_is_unmatched_without_rules(http):
    chat(http)
    assert http.get("/_mockshot/unmatched").json()["data"] == []


def test_a_strict_refusal_is_unmatched(http, raw):
    http.post("/_mockshot/rules", json={"strict": True, "rules": [PONG]})
    chat(raw, "other")
    [entry] = http.get("/_mockshot/unmatched").json()["data"]
    assert entry["status"] == 422


def test_the_journal_keeps_the_newest_last(http):
    for text in ("one", "two", "three"):
        chat(http, text)
    data = http.get("/_mockshot/journal?limit=2").json()["data"]
    assert [what(e) for e in data] == ["two", "three"]


@pytest.mark.parametrize(("query", "expected"), [
    ("limit=0", "limit must be a whole number of at least 1, got '0'"),
    ("limit=ten", "limit must be a whole number of at least 1, got 'ten'"),
    ("limit=%C2%B2", "limit must be a whole number of at least 1, got '²'"),
    ("status=ok", "status must be a status code like 429 or a class like 4xx, got 'ok'"),
    ("unmatched=maybe", "unmatched must be true or false, got 'maybe'"),
    ("modle=x", "unknown query parameter 'modle'"),
])
def test_bad_journal_filters_are_400(http, query, expected):
    assert expected in error_of(http.get(f"/_mockshot/journal?{query}"), 400)


# ---- clock -----------------------------------------------------------------------------

def test_get_the_clock(http):
    assert http.get("/_mockshot/clock").json() == {"now": VIRTUAL_EPOCH, "virtual": True}


def test_advancing_the_clock_moves_the_next_reply(http):
    before = chat(http).json()["created"]
    response = http.post("/_mockshot/clock", json={"advance": 3600})
    assert response.json() == {"now": VIRTUAL_EPOCH + 3600, "virtual": True}
    assert chat(http).json()["created"] == before + 3600


def test_set_the_clock(http):
    http.post("/_mockshot/clock", json={"set": 1_800_000_000})
    assert chat(http).json()["created"] == 1_800_000_000


@pytest.mark.parametrize(("body", "expected"), [
    ({"advance": -1}, "advance must not be negative (the clock cannot go back"),
    ({"advance": 1e300}, "the clock must stay a Unix timestamp from 0 to 253402300799"),
    ({"advance": "1"}, "advance must be a number, got '1'"),
    ({"advance": True}, "advance must be a number, got True"),
    ({"set": -5}, "the clock must stay a Unix timestamp from 0 to"),
    ({"set": 1e300}, "the clock must stay a Unix timestamp from 0 to"),
    ({}, "send exactly one of advance (seconds) or set (a Unix timestamp)"),
    ({"advance": 1, "set": 2}, "send exactly one of advance"),
    ({"rewind": 1}, "unknown field 'rewind'; expected advance, set"),
])
def test_a_bad_clock_move_changes_nothing(http, body, expected):
    assert expected in error_of(http.post("/_mockshot/clock", json=body), 400)
    assert http.get("/_mockshot/clock").json()["now"] == VIRTUAL_EPOCH


def test_a_real_clock_cannot_be_moved():
    with http_client(create_app(Settings(log_level="warning"))) as http:
        assert http.get("/_mockshot/clock").json()["virtual"] is False
        message = error_of(http.post("/_mockshot/clock", json={"advance": 1}), 400)
    assert "--clock virtual" in message


# ---- accounts --------------------------------------------------------------------------

def test_get_an_account(http):
    assert http.get("/_mockshot/accounts/sk-a").json() == {
        "code": 0, "scode": "0x0", "status": True,
        "data": {"available_balance": 1000.0, "voucher_balance": 0.0, "cash_balance": 1000.0},
        "account": "sk-a", "tier": None, "limits": None,
        "usage": {"concurrency": 0, "rpm": 0, "tpm": 0, "tpd": 0}}


def test_put_a_tier_turns_its_limits_on(http):
    body = http.put("/_mockshot/accounts/sk-a", json={"tier": 0}).json()
    assert (body["tier"], body["limits"]) == (0, {"concurrency": 1, "rpm": 3, "tpm": 500000,
                                                  "tpd": 1500000})
    assert body["data"]["cash_balance"] == 1000.0  # money left as it was
    assert http.put("/_mockshot/accounts/sk-a", json={"tier": None}).json()["limits"] is None


def test_put_an_account(http):
    response = http.put("/_mockshot/accounts/sk-a", json={"cash": -2, "voucher": 5})
    assert response.json()["data"] == {"available_balance": 5.0, "voucher_balance": 5.0,
                                       "cash_balance": -2.0}
    assert http.get("/v1/users/me/balance", headers={"Authorization": "Bearer sk-a"}).json()[
        "data"]["cash_balance"] == -2.0


def test_an_empty_account_is_refused_chat(http):
    http.put(f"/_mockshot/accounts/{KEY}", json={"cash": 0})
    error_of(chat(http), 429, "exceeded_current_quota_error")


@pytest.mark.parametrize(("body", "expected"), [
    ({}, "send at least one of cash, voucher (USD) or tier"),
    ({"cash": "10"}, "cash must be a number, got '10'"),
    ({"cash": 1, "voucher": -1}, "voucher must not be negative"),
    ({"cash": 1, "credit": 1}, "unknown field 'credit'; expected cash, voucher, tier"),
    ({"cash": 1, "tier": 9}, "tier must be null (no limits) or one of 0, 1, 2, 3, 4, 5"),
    ({"tier": "1"}, "tier must be null or a whole number"),
])
def test_a_bad_account_change_changes_nothing(http, body, expected):
    assert expected in error_of(http.put("/_mockshot/accounts/sk-a", json=body), 400)
    assert http.get("/_mockshot/accounts/sk-a").json()["data"]["cash_balance"] == 1000.0


# ---- who may steer the mock ------------------------------------------------------------

@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.168.1.4", False),
    ("example.com", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


@pytest.fixture
def exposed():
    """A mock bound beyond loopback, with an admin token."""
    app = create_app(mock=Mock(Settings(host="0.0.0.0", admin_token="t", clock="virtual")))
    with http_client(app) as client:
        yield client


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"X-Mockshot-Admin-Token": "nope"},
    {"Authorization": "Basic t"},
])
def test_off_loopback_the_token_is_required(exposed, headers):
    message = error_of(exposed.get("/_mockshot/rules", headers=headers), 401,
                       "invalid_authentication_error")
    assert "X-Mockshot-Admin-Token" in message
    error_of(exposed.post("/_mockshot/rules", json=PONG, headers=headers), 401,
             "invalid_authentication_error")
    rules = exposed.get("/_mockshot/rules", headers={"X-Mockshot-Admin-Token": "t"})
    assert rules.json()["data"] == []


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer t"},
                                     {"X-Mockshot-Admin-Token": "t"}])
def test_off_loopback_the_token_opens_the_api(exposed, headers):
    assert exposed.post("/_mockshot/rules", json=PONG, headers=headers).status_code == 201
    assert len(exposed.get("/_mockshot/rules", headers=headers).json()["data"]) == 1


def test_health_needs_no_token(exposed):
    assert exposed.get("/_mockshot/health").status_code == 200


def test_off_loopback_without_a_token_the_api_is_off():
    app = create_app(mock=Mock(Settings(host="0.0.0.0")))
    with http_client(app) as http:
        message = error_of(http.post("/_mockshot/reset"), 403, "permission_denied_error")
    assert "--admin-token" in message


def test_on_loopback_a_configured_token_is_required_too():
    app = create_app(mock=Mock(Settings(admin_token="t")))
    with http_client(app) as http:
        error_of(http.get("/_mockshot/journal"), 401, "invalid_authentication_error")
        ok = http.get("/_mockshot/journal", headers={"X-Mockshot-Admin-Token": "t"})
    assert ok.status_code == 200


# ---- over a socket ---------------------------------------------------------------------

def test_the_control_api_over_a_socket(served, served_client):
    httpx = httpx_module()
    with httpx.Client(base_url=served.url) as admin:
        added = admin.post("/_mockshot/rules", json={"scenario": "admin-socket", "rules": [
            {"match": {"contains": "socket-ping"}, "reply": {"content": "socket-pong"}}]})
        name = added.json()["data"][0]["name"]
        try:
            reply = served_client.chat.completions.create(
                model="moonshot-v1-8k", messages=[{"role": "user", "content": "socket-ping"}])
            assert reply.choices[0].message.content == "socket-pong"
            found = admin.get("/_mockshot/journal", params={"rule": name}).json()["data"]
            assert [e["status"] for e in found] == [200]
            assert admin.put("/_mockshot/rules").status_code == 405
        finally:
            gone = admin.delete(f"/_mockshot/rules/{name.replace('#', '%23')}")
        assert gone.json() == {"name": name, "deleted": True}
