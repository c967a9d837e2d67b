"""`mockshot check`: every ready-made scenario passes; every mistake in a broken file is
reported as `file:line: path: message`; no input, however malformed, crashes the checker;
and `serve --scenario bad.yaml` stops with the same report (exit 2, no traceback).
"""

from __future__ import annotations

import atexit
import copy
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockshot import Mock, Settings, cli
from mockshot.scenarios.book import ScenarioBook
from mockshot.scenarios.files import ScenarioFileError, check_files, read_scenario_file
from mockshot.state.memory import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
READY = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
KINDS = ("latency", "rate_limit", "overloaded", "server_error", "timeout", "reset",
         "stream_cut", "malformed_frame", "truncated_body", "slow_first_token", "error_frame")


def run_check(*files: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockshot", "check", *files],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def write(directory: Path, name: str, text: str | bytes) -> str:
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# --- the ready-made files pass ----------------------------------------------------------------


def test_check_accepts_every_ready_made_file_in_process(capsys):
    assert cli.main(["check", *READY]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{len(READY)} scenario file(s) OK"
    assert err == ""


def test_check_accepts_every_ready_made_file_as_a_command():
    result = run_check(*READY)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == f"{len(READY)} scenario file(s) OK"


# --- each mistake, with file and line ---------------------------------------------------------

# file name, text, expected lines (after "<file>:"), one per mistake
RE2 = " (rules use RE2 syntax, matched in linear time: no lookarounds or backreferences)"
BROKEN = [
    ("unknown-key.yaml",
     "scenario: shop\nrules:\n  - name: greet\n    match:\n      contains: hi\n"
     "    repy:\n      content: hello\n",
     ["6: .rules[0].repy: Additional properties are not allowed ('repy' was unexpected)",
      "3: .rules[0]: 'reply' is a required property"]),
    ("unknown-match-key.yaml",
     "scenario: shop\nrules:\n  - name: greet\n    match:\n      contain: hi\n"
     "    reply:\n      content: hello\n",
     ["5: .rules[0].match.contain: Additional properties are not allowed "
      "('contain' was unexpected)"]),
    ("wrong-type.yaml",
     "scenario: shop\nrules:\n  - name: greet\n    times: twice\n    reply:\n"
     "      content: hello\n",
     ["4: .rules[0].times: 'twice' is not of type 'integer'"]),
    ("bad-regex.yaml",
     "scenario: shop\nrules:\n  - name: greet\n    match:\n      regex: '(hello|hi'\n"
     "    reply:\n      content: hello\n",
     ["5: .rules[0].match.regex: not a valid regex: missing ): (hello|hi" + RE2]),
    ("bad-fault-kind.yaml",
     "scenario: shop\nrules:\n  - name: flaky\n    reply:\n      fault:\n        kind: explode\n",
     [f"6: .rules[0].reply.fault.kind: 'explode' is not one of {list(KINDS)}"]),
    ("content-on-models.yaml",
     "scenario: shop\nrules:\n  - name: models-say-hi\n    match:\n      operation: models\n"
     "    reply:\n      content: hello\n",
     ["6: .rules[0].reply: content can only script chat operations; other operations take "
      "error or fault"]),
    ("duplicate-names.yaml",
     "scenario: shop\nrules:\n  - name: greet\n    reply: {content: hello}\n"
     "  - name: greet\n    reply: {content: hi}\n",
     ["5: .rules[1].name: rule name 'greet' is used twice"]),
    ("error-and-fault.yaml",
     "scenario: shop\nrules:\n  - name: both\n    reply:\n      error: server_error\n"
     "      fault: {kind: reset}\n",
     ["4: .rules[0].reply: a reply is either an error or a fault, not both"]),
    ("bad-reply-in-list.yaml",
     "scenario: shop\nrules:\n  - name: sequence\n    reply:\n      - content: one\n"
     "      - finish_reason: maybe\n",
     ["6: .rules[0].reply[1].finish_reason: 'maybe' is not one of ['stop', 'length', "
      "'tool_calls']"]),
    ("no-rules.yaml", "scenario: shop\ndescription: forgot the rules\n",
     ["1: .: 'rules' is a required property"]),
    ("yaml-syntax.yaml",
     "scenario: shop\nrules:\n  - name: greet\n    reply: {content: hello\n  - name: bye\n",
     ["5: not valid YAML/JSON: expected ',' or '}', but got ':'"]),
    ("broken.json",
     '{\n  "scenario": "shop",\n  "rules": [\n    {"name": "greet",\n'
     '     "reply": {"content": "hello"}},\n    {"name": "limit",\n'
     '     "reply": {"error": {"type": "rate_limit_reached_error", "status": 200}}}\n  ]\n}\n',
     ["7: .rules[1].reply.error.status: 200 is less than the minimum of 400"]),
    ("json-syntax.json", '{"scenario": "shop",\n "rules": [}\n',
     ["2: not valid JSON: Expecting value"]),
]


@pytest.mark.parametrize(("name", "text", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_check_reports_each_mistake_with_file_and_line(tmp_path, capsys, name, text, expected):
    path = write(tmp_path, name, text)
    assert check_files([path]) == [f"{path}:{line}" for line in expected]
    assert cli.main(["check", path]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "".join(f"{path}:{line}\n" for line in expected))


def test_the_command_reports_every_file_and_fails(tmp_path):
    paths = [write(tmp_path, name, text) for name, text, _ in BROKEN]
    result = run_check(READY[0], *paths)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == check_files(paths)  # the same report as in-process, file by file
    assert [line.split(":", 1)[0] for line in lines] == [
        path for path, (_, _, expected) in zip(paths, BROKEN, strict=True) for _ in expected]
    assert "Traceback" not in result.stderr


def test_check_reports_schema_and_semantic_mistakes_together(tmp_path):
    """'report every mistake': a wrong type in one rule must not hide a bad regex in the next."""
    path = write(tmp_path, "two.yaml",
                 "rules:\n  - match: {nth: 0}\n    reply: {content: x}\n"
                 "  - match: {any_regex: '*'}\n    reply: {content: y}\n")
    assert check_files([path]) == [
        f"{path}:2: .rules[0].match.nth: 0 is less than the minimum of 1",
        f"{path}:4: .rules[1].match.any_regex: not a valid regex: no argument for repetition "
        "operator: *" + RE2,
    ]


def test_two_files_sharing_a_rule_name_keep_both_rules_or_say_so(tmp_path):
    """Two teams' files, each in its own scenario, both name a rule `greet`: loading both
    must not silently drop the first file's rule (a clash may be reported instead)."""
    first = write(tmp_path, "a.yaml", "scenario: a\nrules:\n  - name: greet\n"
                                      "    reply: {content: from a}\n")
    second = write(tmp_path, "b.yaml", "scenario: b\nrules:\n  - name: greet\n"
                                       "    match: {contains: zzz}\n    reply: {content: from b}\n")
    try:
        mock = Mock(Settings(scenario=(first, second), clock="virtual"))
    except ValueError as clash:  # reported: fine, as long as it names the rule
        assert "greet" in str(clash)
        return
    assert sorted((rule.scenario, rule.name) for rule in mock.rules()) == [
        ("a", "greet"), ("b", "greet")]


def test_a_missing_file_is_reported_not_raised(tmp_path):
    missing = str(tmp_path / "nope.yaml")
    [line] = check_files([missing])
    assert line.startswith(f"{missing}: cannot read: ")
    with pytest.raises(ScenarioFileError):
        read_scenario_file(missing)


# --- JSON is read as JSON ---------------------------------------------------------------------

VALID = {"scenario": "json-file", "rules": [
    {"name": "slow", "match": {"contains": "a/b"}, "reply": {"fault": {"kind": "latency",
                                                                       "ms": 1000.0}}}]}


@pytest.mark.parametrize("indent", [2, "\t"], ids=["spaces", "tabs"])
def test_a_valid_json_file_passes_however_it_is_indented(tmp_path, indent):
    path = write(tmp_path, "valid.json", json.dumps(VALID, indent=indent))
    assert check_files([path]) == []
    assert read_scenario_file(path) == VALID


def test_json_numbers_with_an_exponent_are_numbers(tmp_path):
    path = write(tmp_path, "exponent.json", json.dumps(VALID).replace("1000.0", "1e3"))
    assert json.loads(Path(path).read_text()) == VALID  # valid JSON, ms = 1000.0
    assert check_files([path]) == []


# --- the checker never crashes ----------------------------------------------------------------

HOSTILE = {
    "huge-repeat-regex": "rules:\n  - match: {regex: '(a{1000}){1000}'}\n    reply: {content: x}\n",
    "deeply-nested-flow": "rules: " + "[" * 3000 + "]" * 3000 + "\n",
    "deeply-nested-header": "rules:\n  - reply: {content: x}\n    match: {header: "
                            + "{a: " * 2000 + "x" + "}" * 2000 + "}\n",
    "not-utf8": b"\xff\xfe\x00rules: []",
    "nul-byte": "rules: [\x00]",
    "two-documents": "rules: []\n---\nrules: []\n",
    "python-tag": "rules: !!python/object:os.system {}\n",
    "unhashable-key": "? [a, b]\n: c\nrules: []\n",
    "empty": "",
    "scalar": "42\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_check_never_raises_on_hostile_input(tmp_path, name):
    path = write(tmp_path, f"{name}.yaml", HOSTILE[name])
    lines = check_files([path])
    assert lines and all(line.startswith(f"{path}:") for line in lines)


@pytest.mark.parametrize("header", ["{1: x}", "{2024-01-01: x}", "{true: x}"])
def test_what_check_accepts_loads(tmp_path, header):
    """A header name that YAML reads as a number, date or boolean: check and load agree."""
    path = write(tmp_path, "header.yaml",
                 f"rules:\n  - match: {{header: {header}}}\n    reply: {{content: x}}\n")
    if check_files([path]) == []:
        ScenarioBook(MemoryStore()).load_sync(read_scenario_file(path))


# hypothesis: mutations of the ready-made documents, YAML-ish text, random bytes

SCALARS = (st.none() | st.booleans() | st.integers(-2, 10**12) | st.floats(allow_nan=False)
           | st.text(max_size=12) | st.sampled_from(["chat", "models", "(", "a{2,1}", "*",
                                                     "stream_cut", "reset", "-1", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8) | st.integers(0, 3), inner,
                                        max_size=3), max_leaves=8)
KEYS = st.sampled_from(["name", "scenario", "match", "reply", "times", "cycle", "then_state",
                        "operation", "model", "contains", "regex", "any_regex", "tool",
                        "tool_result", "stream", "header", "nth", "state", "content",
                        "reasoning", "tool_calls", "error", "fault", "usage", "pacing",
                        "kind", "probability", "ms", "after", "type", "status", "bogus", 1])
DOCUMENTS = [read_scenario_file(path) for path in READY]


def _containers(node, found):
    if isinstance(node, dict | list):
        found.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, found)
    return found


@st.composite
def mutated_documents(draw):
    document = copy.deepcopy(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(_containers(document, [])))
        action = draw(st.sampled_from(["set", "delete", "replace"]))
        if isinstance(target, dict):
            key = draw(KEYS) if action == "set" or not target else draw(st.sampled_from(
                sorted(target, key=str)))
            if action == "delete":
                target.pop(key, None)
            else:
                target[key] = draw(VALUES)
        elif target:
            index = draw(st.integers(0, len(target) - 1))
            if action == "delete":
                del target[index]
            else:
                target[index] = draw(VALUES)
        else:
            target.append(draw(VALUES))
    return document


YAMLISH = st.lists(st.sampled_from(
    ["rules:", "\n", "  ", "- ", "match:", "reply:", "content: x", "regex: '('", "{", "}", "[",
     "]", ":", ",", "'", '"', "&a ", "*a", "!!binary ", "!!python/name:os ", "|", ">", "#",
     "\t", "? ", "---", "...", "%YAML 1.1", "nth: 0", "kind: reset", "fault:", "\\", "\x85",
     "é", "<<: ", "~", "1e3", ".nan", "2024-01-01"]), max_size=40).map("".join)
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
SCRATCH = Path(tempfile.mkdtemp(prefix="mockshot-check-"))  # one file rewritten per example
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)


def checked_without_crash(path: str) -> list[str]:
    lines = check_files([path])
    assert isinstance(lines, list)
    assert all(isinstance(line, str) and line.startswith(f"{path}:") for line in lines)
    return lines


@SETTINGS
@given(mutated_documents(), st.sampled_from(["yaml", "json"]))
def test_mutated_documents_are_checked_and_what_passes_loads(document, form):
    text = (yaml.safe_dump(document, allow_unicode=True) if form == "yaml"
            else json.dumps(document, ensure_ascii=False))
    path = write(SCRATCH, f"mutated.{form}", text)
    if not checked_without_crash(path):
        ScenarioBook(MemoryStore()).load_sync(read_scenario_file(path))


@SETTINGS
@given(YAMLISH)
def test_yaml_ish_text_never_crashes_the_checker(text):
    checked_without_crash(write(SCRATCH, "text.yaml", text))


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_checker(data):
    checked_without_crash(write(SCRATCH, "bytes.yaml", data))


# --- serve refuses a bad file -----------------------------------------------------------------


def serve_with(*paths: str) -> subprocess.CompletedProcess:
    flags = [flag for path in paths for flag in ("--scenario", path)]
    try:
        return subprocess.run([sys.executable, "-m", "mockshot", "serve", "--port", "0", *flags],
                              capture_output=True, text=True, timeout=30, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"mockshot served a bad scenario file instead of refusing: {exc.stderr!r}")


@pytest.mark.parametrize("name", ["bad-regex.yaml", "broken.json", "yaml-syntax.yaml"])
def test_serve_refuses_a_bad_file_with_the_report(tmp_path, name):
    _, text, expected = next(b for b in BROKEN if b[0] == name)
    path = write(tmp_path, name, text)
    result = serve_with(READY[0], path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["mockshot: bad scenario file:",
                                          *(f"{path}:{line}" for line in expected)]


def test_serve_refuses_a_hostile_regex_without_a_traceback(tmp_path):
    path = write(tmp_path, "huge.yaml", HOSTILE["huge-repeat-regex"])
    result = serve_with(path)
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    assert result.stderr.startswith(f"mockshot: bad scenario file:\n{path}:2: ")
