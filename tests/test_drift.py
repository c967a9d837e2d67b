"""`mockshot diff` and the captures the project ships: each capture replays byte for byte
(in-process and served), shows no drift against the generator, and every kind of drift
a capture could show is reported when an edited capture has it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from mockshot import ServedMock, Settings, cli, create_app, http_client
from mockshot.recording.drift import drift_report
from mockshot.scenarios.documents import parse_yaml
from mockshot.scenarios.recorded import recorded_from_dict
from mockshot.transport import httpx_module

CAPTURES = Path(__file__).resolve().parent.parent / "recordings"
SELF = CAPTURES / "mockshot-self"
PATHS = {"chat.openai": "/v1/chat/completions", "chat.anthropic": "/anthropic/v1/messages"}


def recorded_exchanges() -> list[tuple[str, dict, dict]]:
    """(path, request body, recorded reply) of every capture, in the order they replay."""
    out = []
    for file in sorted(SELF.glob("*.yaml")):
        for rule in parse_yaml(file.read_text())[0]["rules"]:
            replies = rule["reply"] if isinstance(rule["reply"], list) else [rule["reply"]]
            out += [(PATHS[rule["match"]["operation"]], r["recorded"]["request"]["body"],
                     r["recorded"]) for r in replies]
    return out


def test_the_shipped_captures_say_what_they_are():
    for file in SELF.glob("*.yaml"):
        description = parse_yaml(file.read_text())[0]["description"]
        assert "mockshot 0.1.0 itself, NOT the real Moonshot service" in description
    assert len(recorded_exchanges()) >= 12


@pytest.mark.parametrize("served", [False, True], ids=["in-process", "served"])
def test_every_shipped_capture_replays_byte_for_byte(served):
    settings = Settings(clock="virtual", log_level="warning", scenario=(str(CAPTURES),),
                        strict=True)
    if served:
        server = ServedMock(replace(settings, port=0)).start()
        client = httpx_module().Client(base_url=server.url)
    else:
        server, client = None, http_client(create_app(settings))
    try:
        for path, body, form in recorded_exchanges():
            recorded = recorded_from_dict(form)
            answer = client.post(path, headers={"Authorization": "Bearer sk-ci"}, json=body)
            expected = recorded.body if recorded.body is not None else b"".join(recorded.frames)
            assert (answer.status_code, answer.content) == (recorded.status, expected)
            assert answer.headers["content-type"] == form["headers"]["content-type"]
    finally:
        client.close()
        if server is not None:
            server.stop()


def test_the_shipped_captures_show_no_drift(capsys):
    assert cli.main(["diff", str(CAPTURES)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("12 exchange(s) compared, 0 with drift")
    assert out.count(": same shape") == 12


def test_the_shipped_captures_check_clean(capsys):
    assert cli.main(["check", str(CAPTURES)]) == 0
    assert capsys.readouterr().out == "3 scenario file(s) OK\n"


# -- each kind of drift, shown by an edited capture ---------------------------------------


def frames_of(reply: dict) -> list[dict]:
    return reply["recorded"]["frames"]


def chunks(reply: dict) -> list[dict]:
    return [json.loads(f["data"]) for f in frames_of(reply) if f["data"] != "[DONE]"]


def set_chunks(reply: dict, edited: list[dict]) -> None:
    reply["recorded"]["frames"] = [{"delay_ms": 0, "data": json.dumps(c, separators=(",", ":"))}
                                   for c in edited] + [{"delay_ms": 0, "data": "[DONE]"}]


def edit_body(reply: dict, change: Callable[[dict], None]) -> None:
    body = json.loads(reply["recorded"]["body"])
    change(body)
    reply["recorded"]["body"] = json.dumps(body, separators=(",", ":"))


def drop_fingerprint(reply: dict) -> None:
    set_chunks(reply, [{k: v for k, v in c.items() if k != "system_fingerprint"}
                       for c in chunks(reply)])


def drop_role_chunk(reply: dict) -> None:
    set_chunks(reply, chunks(reply)[1:])


def usage_on_top(reply: dict) -> None:
    edited = chunks(reply)
    finish = next(c for c in edited if c["choices"] and c["choices"][0].get("finish_reason"))
    finish["usage"] = finish["choices"][0].pop("usage")
    set_chunks(reply, [c for c in edited if c["choices"]])  # and no usage chunk


def uuid_id(reply: dict) -> None:
    edit_body(reply, lambda b: b.update(id="chatcmpl-2fd89a86-2ca0-983f-b91a-01c260395d0a"))


def created_as_text(reply: dict) -> None:
    edit_body(reply, lambda b: b.update(created=str(b["created"])))


def reasoning_absent(reply: dict) -> None:
    edit_body(reply, lambda b: b["choices"][0]["message"].pop("reasoning_content"))


def other_error_message(reply: dict) -> None:
    edit_body(reply, lambda b: b["error"].update(message="slow down"))


def no_retry_after(reply: dict) -> None:
    del reply["recorded"]["headers"]["retry-after"]


def unknown_error_frame(reply: dict) -> None:
    frame = frames_of(reply)[-1]
    frame["data"] = frame["data"].replace("engine_overloaded_error", "weird_error")


EDITS = [
    ("app-session", 0, 0, reasoning_absent,
     "fields only in mockshot's: choices[].message.reasoning_content"),
    ("app-session", 0, 0, created_as_text, "type at created: recorded string, mockshot integer"),
    ("app-session", 0, 0, uuid_id,
     "id format at id: recorded chatcmpl-<uuid>; mockshot chatcmpl-<hex24>"),
    ("app-session", 1, 0, drop_fingerprint,
     "role chunks: fields only in mockshot's: system_fingerprint"),
    ("app-session", 1, 0, drop_role_chunk,
     "chunk sequence: recorded reasoning, content, finish, usage, [DONE]; mockshot role, "
     "reasoning, content, finish, usage, [DONE]"),
    ("app-session", 1, 0, usage_on_top,
     "usage placement: recorded top level of a chunk with choices; mockshot a usage chunk "
     "(choices: []), inside the finish chunk's choice"),
    ("faults", 3, 0, other_error_message,
     "error message: recorded 'slow down'; mockshot 'Your account org-<hex16><cak-<hex12>> "
     "request reached organization max RPM: <n>, please try again after <n> seconds'"),
    ("faults", 3, 0, no_retry_after, "header retry-after: only in mockshot's reply"),
    ("faults", 1, 0, unknown_error_frame,
     "error type: recorded weird_error, mockshot engine_overloaded_error"),
]


@pytest.mark.parametrize(("file", "rule", "reply", "edit", "says"), EDITS,
                         ids=[edit[3].__name__ for edit in EDITS])
def test_an_edited_capture_shows_its_drift(tmp_path, file, rule, reply, edit, says):
    document = parse_yaml((SELF / f"{file}.yaml").read_text())[0]
    target = document["rules"][rule]["reply"]
    edit(target[reply] if isinstance(target, list) else target)
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    report = drift_report([str(tmp_path)])
    differences = [line for drift in report for line in drift.differences]
    assert says in differences


def test_diff_exits_1_on_drift_and_prints_json_on_request(tmp_path, capsys):
    document = parse_yaml((SELF / "app-session.yaml").read_text())[0]
    reasoning_absent(document["rules"][0]["reply"])
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert cli.main(["diff", str(tmp_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report[0]["differences"] == [
        "fields only in mockshot's: choices[].message.reasoning_content"]
    assert all(item["differences"] == [] for item in report[1:])


def test_diff_of_files_it_cannot_read_exits_2(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("rules: [")
    assert cli.main(["diff", str(tmp_path)]) == 2
    assert "bad.yaml:1: not valid YAML/JSON" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("rules: []")
    assert cli.main(["diff", str(tmp_path)]) == 2
    assert "no recorded replies in" in capsys.readouterr().err
