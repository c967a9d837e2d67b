"""The scenario book: a mock's rules, checked on the way in and consulted on every call.

Documents (files, the control API, the Python API) are checked against the published
scenario schema (data/scenario.schema.json) plus the rules a schema cannot say (regexes
compile, content replies only on chat operations, unique names), and only then added,
all or nothing. `decide` finds the first rule that matches a call, takes its next reply
and moves its scenario's state.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jsonschema

from ..state.store import Store
from .faults import Fault
from .rules import CHAT_OPERATIONS, Probe, Reply, Rule, rule_from_dict

__all__ = ["Decision", "Problem", "ScenarioBook", "check_document", "fault_problems"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a scenario document: where (a JSON path) and what was expected."""

    path: tuple
    message: str

    def where(self) -> str:
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path) or "."


@dataclass(slots=True)
class Decision:
    rule: Rule
    reply: Reply
    use: int


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


class ScenarioBook:
    """The rules of one mock (kept in its store, so workers sharing a store share them)."""

    def __init__(self, store: Store, strict: bool = False) -> None:
        self.store = store
        self._configured_strict = strict
        self._counter = 0

    @property
    def strict(self) -> bool:
        """Strict when configured so, or while a loaded document asks for it (cleared
        with the rules)."""
        return self._configured_strict or self.store.strict()

    def load(self, document: dict, source: str = "") -> list[Rule]:
        """Check and add a scenario document's rules; nothing is added if any is wrong."""
        problems = check_document(document)
        if problems:
            raise ScenarioError(problems, source)
        scenario = document.get("scenario", "default")
        rules = [rule_from_dict(r, self._name(scenario), scenario) for r in document["rules"]]
        taken = {rule.name: rule.scenario for rule in self.store.rules()}
        clashes = [Problem(("rules", i, "name"), f"rule name {r.name!r} is already used by "
                                                  f"scenario {taken[r.name]!r}")
                   for i, r in enumerate(rules) if taken.get(r.name, scenario) != scenario]
        if clashes:
            raise ScenarioError(clashes, source)
        self.store.add_rules(rules)
        if document.get("strict"):
            self.store.set_strict(True)
        return rules

    def _name(self, scenario: str) -> str:
        self._counter += 1
        return f"{scenario}#{self._counter}"

    def decide(self, probe: Probe, scenario: str | None = None) -> Decision | None:
        """The first matching rule's next reply (rules are tried in the order added)."""
        for rule in self.store.rules():
            if scenario is not None and rule.scenario != scenario:
                continue
            if rule.match.misses(probe, self.store.scenario_state(rule.scenario)):
                continue
            use = self.store.take_rule(rule.name, rule.times)
            if use is None:
                continue
            if rule.then_state:
                self.store.set_scenario_state(rule.scenario, rule.then_state)
            return Decision(rule, rule.reply_at(use), use)
        return None

    def near_misses(self, probe: Probe, scenario: str | None = None, most: int = 3) -> list[str]:
        """The rules that came closest to matching, each with why it did not."""
        scored = []
        for rule in self.store.rules():
            if scenario is not None and rule.scenario != scenario:
                continue
            reasons = rule.match.misses(probe, self.store.scenario_state(rule.scenario))
            if rule.times is not None and self.store.rule_uses(rule.name) >= rule.times:
                reasons.append(f"used up ({rule.times} times)")
            scored.append((len(reasons), rule.name, reasons))
        scored.sort(key=lambda item: item[0])
        return [f"{name}: {'; '.join(reasons)}" for _, name, reasons in scored[:most]]

    def has_rules(self) -> bool:
        return bool(self.store.rules())


def fault_of(decision: Decision | None, header: Fault | None) -> Fault | None:
    """A header's fault wins over the rule's (the caller asked for it on this call)."""
    if header is not None:
        return header
    return decision.reply.fault if decision else None
