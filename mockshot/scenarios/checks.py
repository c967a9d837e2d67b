"""Checking scenario documents: the published schema plus what a schema cannot say.

Every way in (files, the control API, the Python API, the `X-Mockshot-Fault` header) is
checked here, against data/scenario.schema.json and the semantic rules (regexes compile,
content replies only on chat operations, unique names). A `Problem` is a JSON path and a
message; callers turn them into `file:line` or a 400.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jsonschema

__all__ = ["CHAT_OPERATIONS", "Problem", "ScenarioError", "check_document", "fault_problems",
           "scenario_schema"]

CHAT_OPERATIONS = ("chat", "chat.openai", "chat.anthropic")


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a scenario document: where (a JSON path) and what was expected."""

    path: tuple
    message: str

    def where(self) -> str:
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path) or "."


@cache
def scenario_schema() -> dict:
    text = resources.files("mockshot").joinpath("data/scenario.schema.json").read_text()
    return json.loads(text)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scenario_schema())


def _schema_problems(document: object, validator=None) -> list[Problem]:
    out = []
    errors = (validator or _validator()).iter_errors(document)
    for error in sorted(errors, key=lambda e: list(e.path)):
        best = jsonschema.exceptions.best_match([error])
        out.append(Problem(_pinpoint(best), best.message))
    return out


def _pinpoint(error: jsonschema.ValidationError) -> tuple:
    """The path of the mistake itself: for an unexpected key, the key, not its object."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in known)
        if extra:
            return (*path, extra[0])
    return path


@cache
def _rule_validator() -> jsonschema.Draft202012Validator:
    schema = scenario_schema()
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/rule", "$defs": schema["$defs"]})


@cache
def _fault_validator() -> jsonschema.Draft202012Validator:
    schema = scenario_schema()
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/fault", "$defs": schema["$defs"]})


def fault_problems(fault: dict) -> list[str]:
    """What is wrong with a fault given as a header (`after=abc`, `ms=-1`, `type=5`)."""
    return [f"{p.where().lstrip('.') or 'fault'}: {p.message}"
            for p in _schema_problems(fault, _fault_validator())]


def _odd_keys(document: object) -> list[Problem]:
    """Mapping keys that are not strings (YAML allows `1:`, `true:`, dates)."""
    out, stack = [], [((), document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    out.append(Problem(path, f"keys must be text, not {key!r}"))
                else:
                    stack.append(((*path, key), value))
        elif isinstance(node, list):
            stack.extend(((*path, i), item) for i, item in enumerate(node))
    return out


def _rule_problems(index: int, rule: dict, names: set[str]) -> list[Problem]:
    out, base = [], ("rules", index)
    name = rule.get("name")
    if name is not None and name in names:
        out.append(Problem((*base, "name"), f"rule name {name!r} is used twice"))
    names.add(name)
    match = rule.get("match") or {}
    for key in ("regex", "any_regex"):
        if key in match:
            try:
                re.compile(match[key])
            except (re.error, OverflowError, RecursionError, ValueError) as exc:
                out.append(Problem((*base, "match", key), f"not a valid regex: {exc}"))
    operations = match.get("operation", "chat")
    operations = [operations] if isinstance(operations, str) else operations
    chat_only = all(op in CHAT_OPERATIONS or op.endswith(("/chat/completions", "/v1/messages"))
                    for op in operations)
    replies = rule["reply"] if isinstance(rule["reply"], list) else [rule["reply"]]
    for at, reply in enumerate(replies):
        where = (*base, "reply", at) if isinstance(rule["reply"], list) else (*base, "reply")
        scripted = {"content", "reasoning", "tool_calls", "finish_reason", "usage"} & set(reply)
        if scripted and not chat_only:
            out.append(Problem(where, f"{', '.join(sorted(scripted))} can only script chat "
                                      "operations; other operations take error or fault"))
        if "error" in reply and "fault" in reply:
            out.append(Problem(where, "a reply is either an error or a fault, not both"))
    return out


def check_document(document: object) -> list[Problem]:
    """Every mistake in a scenario document (empty: it can be loaded). Each rule that is
    right by the schema also gets the semantic checks, so one wrong rule does not hide
    another's mistake."""
    try:
        problems = _odd_keys(document)
        if problems:
            return problems
        problems = _schema_problems(document)
        rules = document.get("rules") if isinstance(document, dict) else None
        names: set[str] = set()
        for index, rule in enumerate(rules if isinstance(rules, list) else ()):
            if not _schema_problems(rule, _rule_validator()):
                problems.extend(_rule_problems(index, rule, names))
        return problems
    except RecursionError:
        return [Problem((), "the document is nested too deeply")]


class ScenarioError(ValueError):
    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        lines = [f"{source}{p.where()}: {p.message}" for p in problems]
        super().__init__("invalid scenario: " + "; ".join(lines))


