"""The scenario book: a mock's rules, checked on the way in and consulted on every call.

Documents (files, the control API, the Python API) are checked (`checks.py`) and only
then added, all or nothing. `decide` finds the first rule that matches a call, takes its next reply
and moves its scenario's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..state.store import Store
from .checks import Problem, ScenarioError, check_document
from .faults import Fault
from .rules import Probe, Reply, Rule, rule_from_dict

__all__ = ["Decision", "ScenarioBook", "fault_of"]


@dataclass(slots=True)
class Decision:
    rule: Rule
    reply: Reply
    use: int


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
