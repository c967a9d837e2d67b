"""Recording files: what they hold (every frame's exact bytes, readable where it can be),
what they never hold (secrets), and what `mockshot check` says of a corrupted or
hand-edited one (file, line, path, what to change).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockshot import ServedMock, Settings, cli, create_app, http_client
from mockshot.recording import REDACTED, Cassette, Options, Redaction
from mockshot.scenarios.documents import parse_yaml
from mockshot.scenarios.recorded import frame_bytes, frame_form

from .recording import chat

RECORDED = """\
scenario: hand-made
rules:
  - name: hello
    match:
      operation: chat.openai
      stream: true
      conversation: {turn: 0, last_user: Hello}
    reply:
      recorded:
        status: 200
        headers: {content-type: text/event-stream}
        frames:
          - {delay_ms: 5, data: '{"choices":[]}'}
          - {delay_ms: 1, data: '[DONE]'}
"""


@given(st.binary(max_size=300))
def test_every_frame_comes_back_byte_for_byte(raw):
    form = frame_form(raw, 1.25)
    assert frame_bytes(form) == raw
    assert form["delay_ms"] == 1.2 or form["delay_ms"] == 1.3


def test_a_plain_event_is_written_as_what_it_is():
    assert frame_form(b'event: ping\ndata: {"a":1}\n\n', 0) == {
        "delay_ms": 0, "event": "ping", "data": '{"a":1}'}
    assert frame_form(b'data: {"a":\n\n', 0) == {"delay_ms": 0, "data": '{"a":'}
    assert frame_form(b"data: a\ndata: b\n\n", 0) == {"delay_ms": 0, "raw": "data: a\ndata: b\n\n"}
    assert frame_form(b"\xff\xfe", 0) == {"delay_ms": 0, "base64": "//4="}


@given(st.text(max_size=200), st.text(max_size=60))
def test_a_cassette_file_reads_back_every_text_as_written(body, data):
    cassette = Cassette("x/recorded.yaml")
    reply = {"recorded": {"status": 200, "headers": {"content-type": "text/plain"},
                          "body": body}}
    stream = {"recorded": {"status": 200, "frames": [{"delay_ms": 1.0, "data": data}]}}
    cassette.add({"operation": "chat.openai", "stream": False}, reply)
    cassette.add({"operation": "chat.openai", "stream": True}, stream)
    document, _ = parse_yaml(cassette.text())
    assert document["rules"][0]["reply"] == reply
    assert document["rules"][1]["reply"] == stream


def check(tmp_path, text: str, capsys) -> tuple[int, str]:
    path = tmp_path / "recording.yaml"
    path.write_text(text)
    status = cli.main(["check", str(tmp_path)])
    return status, capsys.readouterr().err


def test_a_good_recording_checks_clean(tmp_path, capsys):
    assert check(tmp_path, RECORDED, capsys) == (0, "")


@pytest.mark.parametrize(("edit", "line", "says"), [
    (("delay_ms: 5", "delay_ms: -5"), 13, ".rules[0].reply.recorded.frames[0].delay_ms: "
                                          "-5 is less than the minimum of 0"),
    (("status: 200", "status: '200'"), 10, ".rules[0].reply.recorded.status: '200' is not "
                                           "of type 'integer'"),
    (("stream: true", "stream: false"), 12, ".rules[0].reply.recorded.frames: recorded "
                                            "frames answer a stream, and this rule matches "
                                            "calls that do not stream"),
    (("operation: chat.openai", "operation: chat"), 9, "the rule's match.operation must be "
                                                       "chat.openai or chat.anthropic"),
    (("data: '[DONE]'", "data: '[DONE]', raw: x"), 14, ".rules[0].reply.recorded.frames[1]: "
                                                      "a frame has exactly one of data, raw "
                                                      "or base64, not data and raw"),
    (("{content-type: text/event-stream}", "{content-length: '3'}"), 11,
     "content-length is worked out when the reply is sent; remove it"),
    (("last_user: Hello}", "last_user: Hello, normalise: ['(?=x)']}"), 7,
     ".rules[0].match.conversation.normalise[0]: not a valid regex"),
    (("frames:", "body: '{}'\n        frames:"), 9, "a recorded reply has exactly one of "
                                                    "body, body_base64, frames, not body and "
                                                    "frames"),
    (("        status: 200", "        status: 200\n        content: hi"), 11,
     "Additional properties are not allowed ('content' was unexpected)"),
])
def test_a_hand_edited_recording_says_where_and_what(tmp_path, capsys, edit, line, says):
    old, new = edit
    assert old in RECORDED
    status, err = check(tmp_path, RECORDED.replace(old, new), capsys)
    assert status == 1
    assert err.startswith(f"{tmp_path / 'recording.yaml'}:{line}: "), err
    assert says in err


def test_a_corrupted_recording_says_where(tmp_path, capsys):
    cut = RECORDED[: RECORDED.index("[DONE]") + 3]  # a file cut off mid-write
    status, err = check(tmp_path, cut, capsys)
    assert status == 1
    assert err.startswith(f"{tmp_path / 'recording.yaml'}:14: not valid YAML/JSON: found "
                          "unexpected end of stream"), err


def test_serving_a_corrupted_recording_stops_with_the_same_message(tmp_path, capsys):
    (tmp_path / "recording.yaml").write_text(RECORDED.replace("status: 200", "status: 99"))
    assert cli.main(["serve", "--scenario", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "recording.yaml:10: .rules[0].reply.recorded.status: 99 is less than" in err


def test_an_empty_directory_is_not_a_scenario(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path)]) == 1
    assert "a directory with no scenario files" in capsys.readouterr().err


def test_secrets_never_reach_the_file_and_the_file_says_so(tmp_path):
    settings = Settings(port=0, clock="virtual", log_level="warning")
    with ServedMock(settings) as upstream:
        recording = Settings(clock="virtual", log_level="warning",
                             record_upstream=upstream.url, record_out=str(tmp_path),
                             redact_header=("X-Team-Token",),
                             redact_field=("user", "system_fingerprint"))
        headers = {"Authorization": "Bearer sk-secret-123", "X-Team-Token": "tok-999"}
        with http_client(create_app(recording)) as client:
            client.post("/v1/chat/completions", headers=headers,
                        json=chat("Hello", True, user="alice-secret"))
            client.post("/anthropic/v1/messages", headers={"x-api-key": "sk-ant-secret"},
                        json={"model": "kimi-k2.6", "max_tokens": 50,
                              "messages": [{"role": "user", "content": "Hi"}]})
    text = (tmp_path / "recording.yaml").read_text()
    for secret in ("sk-secret-123", "tok-999", "alice-secret", "sk-ant-secret", "fpv0_"):
        assert secret not in text
    assert "headers authorization, cookie, proxy-authorization, set-cookie, x-api-key, " \
           "x-team-token; JSON fields system_fingerprint, user" in text.splitlines()[2]
    document, _ = parse_yaml(text)
    first, second = (rule["reply"]["recorded"] for rule in document["rules"])
    assert first["request"]["headers"] == {"authorization": REDACTED, "x-team-token": REDACTED}
    assert first["request"]["body"]["user"] == REDACTED
    assert "request.body.user" in first["redacted"]
    assert "frames[0].system_fingerprint" in first["redacted"]
    assert json.loads(first["frames"][0]["data"])["system_fingerprint"] == REDACTED
    assert second["request"]["headers"] == {"x-api-key": REDACTED}


def test_a_reply_without_secrets_keeps_its_bytes():
    raw = b'{"id":"x", "spaced" : true}'
    found: list[str] = []
    assert Redaction.of(fields=("user",)).json_bytes(raw, "body", found) == raw
    assert found == []


def test_a_bad_normalise_pattern_is_refused_before_any_call():
    with pytest.raises(ValueError, match="invalid perl operator"):
        Options(normalise=("(?=x)",))


def test_a_recording_posted_to_the_control_api_replays_under_its_scenario(tmp_path):
    """The control API takes a recording like any scenario, and the SQLite store keeps it."""
    with http_client(create_app(Settings(clock="virtual", log_level="warning",
                                         state_dir=str(tmp_path)))) as client:
        loaded = client.post("/_mockshot/scenarios", content=RECORDED,
                             headers={"content-type": "application/yaml"})
        answer = client.post("/v1/chat/completions", json=chat("Hello", True),
                             headers={"Authorization": "Bearer sk-x",
                                      "X-Mockshot-Scenario": "hand-made"})
    assert loaded.status_code == 201
    assert answer.status_code == 200
    assert answer.content == b'data: {"choices":[]}\n\ndata: [DONE]\n\n'
    assert answer.headers["content-type"] == "text/event-stream"
