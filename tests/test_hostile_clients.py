"""Issue 17's findings, each replayed against a served mock over a real socket: every
hostile request gets a clear 4xx in the surface's envelope (or a bounded answer), changes
no state, and leaves /_mockshot/health answering while it is in flight.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from mockshot import ServedMock, Settings
from mockshot.limits import MAX_DEPTH
from mockshot.scenarios.files import check_files
from mockshot.state.clock import LATEST_TIME, VIRTUAL_EPOCH
from mockshot.transport import httpx_module

from .served_state import ServedProcess, refused, responsive, snapshot

KEY = {"Authorization": "Bearer sk-hostile"}
CHAT = "/v1/chat/completions"
HELLO = [{"role": "user", "content": "Hello"}]
BILLION_LAUGHS = "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9 if i else ['lol'] * 9)}]\n" for i in range(9)
) + "rules: [{reply: {content: *a8}}]\n"


@pytest.fixture(scope="module")
def served() -> Iterator[ServedProcess]:
    with ServedProcess() as running:
        yield running


@pytest.fixture
def http(served):
    """A raw client on the served mock, starting from a clean mock and the clock's start."""
    with httpx_module().Client(base_url=served.url, timeout=30) as client:
        client.post("/_mockshot/reset", json={"keep_rules": False})
        client.post("/_mockshot/clock", json={"set": VIRTUAL_EPOCH})
        yield client


def error_of(reply, status: int = 400) -> str:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]["message"]


DEEP = "@deep@"


def deep_body(body: Callable[[object], dict], levels: int) -> bytes:
    """`body` with an array nested `levels` deep in its field, as JSON text (the standard
    library's encoder would itself overflow)."""
    nested = "[" * levels + "1" + "]" * levels
    return json.dumps(body(DEEP)).replace(json.dumps(DEEP), nested).encode()


# --- 1. a YAML billion laughs ----------------------------------------------------------------

def test_1_a_billion_laughs_is_refused_at_once_everywhere(served, http, tmp_path):
    before = snapshot(http)
    post = lambda: http.post("/_mockshot/scenarios", content=BILLION_LAUGHS,  # noqa: E731
                             headers={"content-type": "application/yaml"})
    reply, slowest = responsive(served, post)
    assert "stands for more than 100000 values" in error_of(reply)
    assert slowest < 0.1
    refused(http, before)
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    started = time.perf_counter()
    assert "stands for more than 100000 values" in check_files([str(path)])[0]
    assert time.perf_counter() - started < 1


# --- 2. schemas that ask for more than a reply carries ------------------------------------------

HUGE = {"pattern": {"type": "string", "pattern": "^((a{1000}){1000}){1000}$"},
        "minLength": {"type": "string", "minLength": 10_000_000},
        "minItems": {"type": "array", "minItems": 1_000_000, "items": {"type": "integer"}}}


def tool_of(value: dict) -> list[dict]:
    return [{"type": "function", "function": {"name": "get_x", "parameters": {
        "type": "object", "properties": {"x": value}, "required": ["x"]}}}]


@pytest.mark.parametrize("kind", list(HUGE))
def test_2_a_schema_larger_than_the_budget_is_cut_at_the_budget(served, http, kind):
    body = {"model": "kimi-k2.6", "messages": HELLO, "tools": tool_of(HUGE[kind]),
            "tool_choice": "required", "thinking": {"type": "disabled"}}
    for budget, most in ((50, 0.5), (None, 2.0)):
        sent = {**body, "max_completion_tokens": budget} if budget else body
        started = time.perf_counter()
        reply = http.post(CHAT, json=sent, headers=KEY).json()
        assert time.perf_counter() - started < most
        assert reply["choices"][0]["finish_reason"] == "length"
        assert reply["usage"]["completion_tokens"] == (budget or 32768)
    schema_body = {"model": "moonshot-v1-8k", "messages": HELLO, "max_tokens": 50,
                   "response_format": {"type": "json_schema", "json_schema": {
                       "name": "x", "schema": tool_of(HUGE[kind])[0]["function"]["parameters"]}}}
    reply = http.post(CHAT, json=schema_body, headers=KEY).json()
    assert (reply["choices"][0]["finish_reason"], reply["usage"]["completion_tokens"]) == (
        "length", 50)


# --- 3. a catastrophic rule regex -------------------------------------------------------------

def test_3_a_backtracking_regex_cannot_stall_the_loop(served, http):
    assert http.post("/_mockshot/rules", json={"match": {"regex": "^(a+)+$"},
                                               "reply": {"content": "matched"}}).status_code == 201
    text = "a" * 5000 + "!"
    body = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": text}]}
    reply, slowest = responsive(served, lambda: http.post(CHAT, json=body, headers=KEY))
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] != "matched"
    assert slowest < 0.1
    message = error_of(http.post("/_mockshot/rules", json={"match": {"regex": "(?<=a)b"},
                                                           "reply": {"content": "x"}}))
    assert ".match.regex: not a valid regex" in message and "RE2" in message


# --- 4. a message far past the context window -----------------------------------------------------

def test_4_a_30_mb_message_is_refused_without_counting_it_all(served, http):
    before = snapshot(http)
    text = "lorem ipsum dolor sit amet " * 1_200_000
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": text}]}
    reply, slowest = responsive(served, lambda: http.post(CHAT, json=body, headers=KEY))
    assert error_of(reply) == "Invalid request: Your request exceeded model token limit: 262144"
    assert slowest < 0.5  # the 32 MB body itself is parsed and validated in one go
    refused(http, before)
    estimate = http.post("/v1/tokenizers/estimate-token-count", json=body, headers=KEY)
    assert "exceeded model token limit" in error_of(estimate)


# --- 5. slow clients ----------------------------------------------------------------------

def test_5_slow_clients_get_408_and_are_closed():
    settings = Settings(port=0, clock="virtual", log_level="critical", request_timeout=0.5,
                        max_body_bytes=1000)
    with ServedMock(settings) as served:
        host, port = served.url.rsplit("//", 1)[1].rsplit(":", 1)
        halves = [b"GET /v1/mod", b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer sk\r\nContent-Length: 100\r\n\r\n{\"mod"]
        sockets = [socket.create_connection((host, int(port))) for _ in range(100)]
        for index, sock in enumerate(sockets):
            sock.sendall(halves[index % 2])
        with httpx_module().Client(base_url=served.url) as probe:
            started = time.perf_counter()
            assert probe.get("/_mockshot/health").status_code == 200
            assert time.perf_counter() - started < 0.1
        for sock in sockets:
            sock.settimeout(3)
            answer = _read_until_closed(sock)
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer[:80]
            assert b'"type":"invalid_request_error"' in answer
        early = socket.create_connection((host, int(port)))
        early.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: "
                      b"Bearer sk\r\nContent-Length: 50000\r\n\r\n" + b"x" * 4000)
        early.settimeout(3)
        answer = _read_until_closed(early)  # answered, then closed: no need to send it all
        assert answer.startswith(b"HTTP/1.1 400") and b"exceeds limit 1000" in answer


def _read_until_closed(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    sock.close()
    return out


# --- 6 and 9. pacing within a day; the clock within its range ----------------------------------

@pytest.mark.parametrize(("pacing", "says"), [
    ("ttft_ms=1e300", "ttft_ms: 1e+300 is greater than the maximum of 86400000"),
    ("tokens_per_second=1e-300", "tokens_per_second: 1e-300 is less than the minimum"),
    ("ttft_ms=nan", "ttft_ms: nan is not of type 'number'"),
])
def test_6_pacing_is_bounded_like_a_fault(served, http, pacing, says):
    before = snapshot(http)
    reply = http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO, "stream": True},
                      headers={**KEY, "X-Mockshot-Pacing": pacing})
    assert says in error_of(reply)
    refused(http, before)


def test_9_no_wait_moves_the_clock_past_its_range(served, http):
    http.post("/_mockshot/clock", json={"set": LATEST_TIME - 3600})
    for _ in range(3):  # a day each, past 9999-12-31
        assert http.get("/v1/models", headers={**KEY, "X-Mockshot-Fault": "latency:ms=86400000"}
                        ).status_code == 200
    assert http.get("/_mockshot/clock").json()["now"] == LATEST_TIME
    reply = http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO, "stream": True},
                      headers={**KEY, "X-Mockshot-Pacing": "ttft_ms=86400000"})
    assert reply.status_code == 200 and reply.text.endswith("data: [DONE]\n\n")
    assert http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO},
                     headers=KEY).json()["created"] == int(LATEST_TIME)
    assert http.get("/_mockshot/journal").status_code == 200


# --- 7. deep nesting anywhere in a body ---------------------------------------------------------

TOO_DEEP = f"nests arrays and objects more than {MAX_DEPTH} levels deep"
PARAMS = {"type": "object", "properties": {"x": {"type": "string", "enum": []}}}
NESTED = {
    "chat user": (CHAT, lambda v: {"model": "kimi-k2.6", "messages": HELLO, "user": v}),
    "chat content": (CHAT, lambda v: {"model": "kimi-k2.6",
                                       "messages": [{"role": "user", "content": v}]}),
    "tool enum": (CHAT, lambda v: {"model": "kimi-k2.6", "messages": HELLO, "tools": [
        {"type": "function", "function": {"name": "get_x", "parameters": {
            **PARAMS, "properties": {"x": {"type": "string", "enum": [v]}}}}}]}),
    "anthropic metadata": ("/anthropic/v1/messages", lambda v: {
        "model": "kimi-k2.6", "max_tokens": 16, "messages": HELLO, "metadata": {"a": v}}),
    "estimate tools": ("/v1/tokenizers/estimate-token-count", lambda v: {
        "model": "kimi-k2.6", "messages": HELLO, "tools": [{"type": "function", "function": {
            "name": "get_x", "parameters": {"type": "object", "default": v}}}]}),
}


@pytest.mark.parametrize("field", list(NESTED))
def test_7_deep_nesting_is_refused_where_bodies_are_read(served, http, field):
    path, body = NESTED[field]
    headers = {**KEY, "content-type": "application/json"}
    for levels in (300, 2000):
        before = snapshot(http)
        reply = http.post(path, content=deep_body(body, levels), headers=headers)
        assert reply.status_code == 400, reply.text
        message = reply.json()["error"]["message"]
        assert TOO_DEEP in message
        if path.startswith("/anthropic"):
            assert reply.json()["type"] == "error"  # the surface's own envelope
        refused(http, before)
    fits = http.post(path, content=deep_body(body, MAX_DEPTH - 8), headers=headers)
    assert fits.status_code < 500 and TOO_DEEP not in fits.text
    assert http.get("/_mockshot/journal").status_code == 200


# --- 10. mistyped scenario values ---------------------------------------------------------------

MISTYPED = [
    ({"match": {"nth": 2.0}, "reply": {"content": "x"}}, ".match.nth: 2.0 is not valid"),
    ({"match": {"nth": 1e300}, "reply": {"content": "x"}}, ".match.nth: 1e+300 is not valid"),
    ({"reply": {"error": {"type": "not_a_type"}}}, ".reply.error"),
    ("rules: [{reply: {fault: {kind: latency, probability: .nan}}}]",
     ".rules[0].reply.fault.probability: nan is not"),
    ("rules: [{reply: {fault: {kind: latency, ms: .nan}}}]", ".rules[0].reply.fault.ms: nan"),
    ("rules: " + "[" * 5000, "nests more than 100 levels deep"),
]


@pytest.mark.parametrize(("document", "says"), MISTYPED)
def test_10_mistyped_values_are_refused_with_their_path(served, http, document, says):
    before = snapshot(http)
    if isinstance(document, str):
        reply = http.post("/_mockshot/scenarios", content=document,
                          headers={"content-type": "application/yaml"})
    else:
        reply = http.post("/_mockshot/rules", json=document)
    assert says in error_of(reply)
    refused(http, before)


def test_10_the_same_check_for_files_and_headers(served, http, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("rules:\n  - match: {nth: 2.0}\n    reply: {content: x}\n")
    assert check_files([str(path)]) == [f"{path}:2: .rules[0].match.nth: 2.0 is not valid "
                                        "under any of the given schemas"]
    reply = http.get("/v1/models", headers={**KEY, "X-Mockshot-Fault":
                                            "server_error:probability=nan"})
    assert "probability: nan is not of type 'number'" in error_of(reply)


# --- 11. satisfiable schemas the seeded draw misses -----------------------------------------------

@pytest.mark.parametrize("value", [
    {"type": "string", "pattern": "^(a|aa)+b$", "minLength": 40},
    {"type": "string", "format": "json-pointer"},
])
def test_11_a_satisfiable_schema_gets_a_valid_value(served, http, value):
    body = {"model": "kimi-k2.6", "messages": HELLO, "tools": tool_of(value),
            "tool_choice": "required", "thinking": {"type": "disabled"}}
    reply = http.post(CHAT, json=body, headers=KEY).json()
    drawn = json.loads(reply["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    if "pattern" in value:
        assert len(drawn["x"]) >= 40 and set(drawn["x"][:-1]) == {"a"} and drawn["x"][-1] == "b"
    else:
        assert drawn["x"].startswith("/")


def test_11_an_undrawable_schema_is_named_in_one_style(served, http):
    before = snapshot(http)
    body = {"model": "kimi-k2.6", "messages": HELLO, "tools": tool_of(
        {"type": "string", "pattern": "^(?=a)b$"}), "tool_choice": "required",
        "thinking": {"type": "disabled"}}
    assert error_of(http.post(CHAT, json=body, headers=KEY)).startswith(
        "Invalid request: tools[0].function.parameters: mockshot cannot generate a value")
    refused(http, before)


# --- 12. echoes are clipped -----------------------------------------------------------------

def test_12_an_error_does_not_echo_a_huge_value(served, http):
    body = {"model": "moonshot-v1-8k", "messages": HELLO, "stop": ["x"] * 10_000}
    message = error_of(http.post(CHAT, json=body, headers=KEY))
    assert message.startswith("Invalid request: stop: ") and "characters cut" in message
    assert len(message) < 400
    model = error_of(http.post(CHAT, json={"model": "m" * 100_000, "messages": HELLO},
                               headers=KEY), 404)
    assert len(model) < 300


# --- 13. steering and control mistakes ------------------------------------------------------

def test_13_an_unknown_scenario_header_names_the_loaded_ones(served, http):
    http.post("/_mockshot/scenarios", json={"scenario": "calm", "rules": [
        {"reply": {"content": "ok"}}]})
    before = snapshot(http)
    reply = http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO},
                      headers={**KEY, "X-Mockshot-Scenario": "clam"})
    assert error_of(reply) == ("Invalid request: X-Mockshot-Scenario 'clam': no scenario of "
                               "that name is loaded (loaded: 'calm')")
    refused(http, before)


@pytest.mark.parametrize(("fault", "stream", "says"), [
    ("truncated_body", True, "truncated_body cuts a JSON reply, and this call streams"),
    ("stream_cut:after=2", False, "stream_cut breaks a stream, and this call does not stream"),
])
def test_13_a_fault_that_cannot_apply_is_refused(served, http, fault, stream, says):
    before = snapshot(http)
    reply = http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO, "stream": stream},
                      headers={**KEY, "X-Mockshot-Fault": fault})
    assert says in error_of(reply)
    refused(http, before)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_13_a_compressed_body_is_415(served, http, encoding):
    reply = http.post(CHAT, content=b"\x1f\x8b\x08\x00", headers={
        **KEY, "content-type": "application/json", "content-encoding": encoding})
    assert error_of(reply, 415) == (f"Invalid request: Content-Encoding '{encoding}' is not "
                                    "supported; send the body uncompressed")


def test_13_rules_by_name(served, http):
    rule = {"name": "greet", "reply": {"content": "hi"}}
    assert http.post("/_mockshot/rules", json=rule).status_code == 201
    assert http.post("/_mockshot/rules", json=rule).status_code == 200  # replaced
    assert [r["name"] for r in http.get("/_mockshot/rules").json()["data"]] == ["greet"]
    assert "contains '/'" in error_of(http.post("/_mockshot/rules", json={
        "name": "a/b", "reply": {"content": "x"}}))


@pytest.mark.parametrize("seed", ["+7", "1_0", "7.0", "0x7", "1e3", "\u00b2"])
def test_13_the_seed_header_takes_plain_digits(served, http, seed):
    reply = http.get("/v1/models", headers={**KEY, "X-Mockshot-Seed": seed.encode("latin-1")})
    assert error_of(reply).startswith("Invalid request: X-Mockshot-Seed must be an integer")
    assert http.get("/v1/models", headers={**KEY, "X-Mockshot-Seed": "-7"}).status_code == 200
