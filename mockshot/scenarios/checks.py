"""Checking scenario documents: the published schema plus what a schema cannot say.

Every way in (files, the control API, the Python API, the `X-Mockshot-Fault` and
`X-Mockshot-Pacing` headers) is checked here and nowhere else: first the document's size
and shape (at most `MAX_DOCUMENT_VALUES` values, YAML aliases counted each time they are
used, `MAX_DEPTH` levels, text keys, finite numbers, 64-bit integers), then
data/scenario.schema.json with JSON's own types (`2.0` is not an integer, NaN is not a
number), then the semantic rules (regexes RE2 can run, content replies only on chat
operations, stream faults only where a stream can be, unique names without `/`). A
`Problem` is a JSON path and a message; callers turn them into `file:line` or a 400.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jsonschema

from ..errors import clip
from ..limits import MAX_DEPTH, MAX_DOCUMENT_VALUES
from .patterns import compile_pattern
from .recorded_checks import recorded_problems

__all__ = ["CHAT_OPERATIONS", "STREAM_KINDS", "Problem", "ScenarioError", "check_document",
           "fault_problems", "is_chat_operation", "pacing_problems", "scenario_schema"]

CHAT_OPERATIONS = ("chat", "chat.openai", "chat.anthropic")
STREAM_KINDS = ("stream_cut", "malformed_frame", "slow_first_token", "error_frame")
INT64 = (-(2**63), 2**64 - 1)  # what orjson writes; a larger integer could never be sent


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a scenario document: where (a JSON path) and what was expected (the
    message clipped, since it may quote a value of any size)."""

    path: tuple
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", clip(self.message))

    def where(self) -> str:
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path) or "."


@cache
def scenario_schema() -> dict:
    text = resources.files("mockshot").joinpath("data/scenario.schema.json").read_text()
    return json.loads(text)


def _is_integer(_checker: object, value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker: object, value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and _finite(value)


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


# Draft 2020-12 counts 2.0 as an integer and NaN as a number; the values a rule uses must
# be what they look like (`nth: 2.0` would never match a call, NaN compares false to
# every bound and would never fire).
StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}),
)


def _compiled(schema: dict) -> jsonschema.Draft202012Validator:
    return StrictValidator(schema)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return _compiled(scenario_schema())


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
def _part_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one of the schema's `$defs` (a rule, a fault, a reply)."""
    return _compiled({"$ref": f"#/$defs/{name}", "$defs": scenario_schema()["$defs"]})


@cache
def _pacing_validator() -> jsonschema.Draft202012Validator:
    pacing = scenario_schema()["$defs"]["reply"]["properties"]["pacing"]
    return _compiled(pacing)


def _header_problems(value: dict, validator: jsonschema.Draft202012Validator,
                     name: str) -> list[str]:
    return [f"{p.where().lstrip('.') or name}: {p.message}"
            for p in _schema_problems(value, validator)]


def fault_problems(fault: dict) -> list[str]:
    """What is wrong with a fault given as a header (`after=abc`, `ms=-1`, `type=5`)."""
    return _header_problems(fault, _part_validator("fault"), "fault")


def pacing_problems(pacing: dict) -> list[str]:
    """What is wrong with pacing given as a header (`ttft_ms=1e300`): the bounds of a
    scenario's `pacing`, so no call can ask for more than a day's wait."""
    return _header_problems(pacing, _pacing_validator(), "pacing")


def _value_problem(path: tuple, value: object) -> Problem | None:
    """A scalar no JSON reply could carry: a non-finite number, an integer beyond 64 bits."""
    if isinstance(value, float) and not math.isfinite(value):
        return Problem(path, f"{value} is not a finite number")
    if isinstance(value, int) and not isinstance(value, bool) and not (
            INT64[0] <= value <= INT64[1]):
        return Problem(path, "integers must fit in 64 bits")
    return None


def _shape_problems(document: object) -> list[Problem]:
    """The document's size and shape, walked once and never further than the limits (a
    YAML alias is walked each time it is used, as everything after this walk would)."""
    out, stack, seen = [], [((), document)], 0
    while stack:
        path, node = stack.pop()
        seen += 1
        if seen > MAX_DOCUMENT_VALUES:
            return [Problem((), f"the document holds more than {MAX_DOCUMENT_VALUES} values "
                                "(each use of a YAML alias counts); split it")]
        if len(path) > MAX_DEPTH:
            return [Problem(path[:MAX_DEPTH], f"the document nests more than {MAX_DEPTH} "
                                              "levels deep")]
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str):
                    stack.append(((*path, key), value))
                else:
                    out.append(Problem(path, f"keys must be text, not {key!r}"))
        elif isinstance(node, list):
            stack.extend(((*path, i), item) for i, item in enumerate(node))
        elif (problem := _value_problem(path, node)) is not None:
            out.append(problem)
    return out


def is_chat_operation(operation: str) -> bool:
    """Whether a rule's `operation` names chat (either surface) rather than another."""
    return operation in CHAT_OPERATIONS or operation.endswith(
        ("/chat/completions", "/v1/messages"))


def _name_problems(base: tuple, rule: dict, names: set[str]) -> list[Problem]:
    name = rule.get("name")
    out = []
    if name is not None and name in names:
        out.append(Problem((*base, "name"), f"rule name {name!r} is used twice"))
    if name is not None and "/" in name:
        out.append(Problem((*base, "name"), f"rule name {name!r} contains '/'; a rule is "
                                            "named in the path /_mockshot/rules/{name}"))
    names.add(name)
    return out


def _regex_problems(base: tuple, match: dict) -> list[Problem]:
    patterns = [(("match", key), match[key]) for key in ("regex", "any_regex") if key in match]
    normalise = (match.get("conversation") or {}).get("normalise") or ()
    patterns += [(("match", "conversation", "normalise", i), p) for i, p in enumerate(normalise)]
    out = []
    for where, pattern in patterns:
        try:
            compile_pattern(pattern)
        except ValueError as exc:
            out.append(Problem((*base, *where), f"not a valid regex: {exc}"))
    return out


def _reply_problems(where: tuple, reply: dict, match: dict, chat_only: bool) -> list[Problem]:
    out = []
    scripted = {"content", "reasoning", "tool_calls", "finish_reason", "usage"} & set(reply)
    if scripted and not chat_only:
        out.append(Problem(where, f"{', '.join(sorted(scripted))} can only script chat "
                                  "operations; other operations take error or fault"))
    if "error" in reply and "fault" in reply:
        out.append(Problem(where, "a reply is either an error or a fault, not both"))
    kind = (reply.get("fault") or {}).get("kind")
    if kind in STREAM_KINDS and (not chat_only or match.get("stream") is False):
        out.append(Problem((*where, "fault", "kind"), f"{kind} breaks a stream, and this "
                           "rule matches only calls that do not stream"))
    if kind == "truncated_body" and match.get("stream") is True:
        out.append(Problem((*where, "fault", "kind"), "truncated_body cuts a JSON reply, and "
                           "this rule matches only streams (use stream_cut)"))
    return out


def _rule_problems(index: int, rule: dict, names: set[str]) -> list[Problem]:
    base = ("rules", index)
    match = rule.get("match") or {}
    out = _name_problems(base, rule, names) + _regex_problems(base, match)
    operations = match.get("operation", "chat")
    operations = [operations] if isinstance(operations, str) else operations
    chat_only = all(is_chat_operation(op) for op in operations)
    if "conversation" in match and not chat_only:
        out.append(Problem((*base, "match", "conversation"), "conversation matches chat "
                                                             "calls only"))
    replies = rule["reply"] if isinstance(rule["reply"], list) else [rule["reply"]]
    for at, reply in enumerate(replies):
        where = (*base, "reply", at) if isinstance(rule["reply"], list) else (*base, "reply")
        out.extend(_reply_problems(where, reply, match, chat_only))
        if "recorded" in reply:
            out.extend(Problem(path, message) for path, message in
                       recorded_problems((*where, "recorded"), reply, match, operations))
    return out


def check_document(document: object) -> list[Problem]:
    """Every mistake in a scenario document (empty: it can be loaded). Each rule that is
    right by the schema also gets the semantic checks, so one wrong rule does not hide
    another's mistake."""
    problems = _shape_problems(document)
    if problems:
        return problems
    problems = _schema_problems(document)
    rules = document.get("rules") if isinstance(document, dict) else None
    names: set[str] = set()
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if not _schema_problems(rule, _part_validator("rule")):
            problems.extend(_rule_problems(index, rule, names))
    return problems


class ScenarioError(ValueError):
    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        lines = [f"{source}{p.where()}: {p.message}" for p in problems]
        super().__init__("invalid scenario: " + "; ".join(lines))


