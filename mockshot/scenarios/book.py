"""The scenario book: a mock's rules, checked on the way in and consulted on every call.

Documents (files, the control API, the Python API) are checked (`checks.py`) and only
then added to the store, all or nothing. The store keeps rules as versioned documents;
the book compiles them when the version moves and, for each call, hands the store the
rules whose match the call meets (`begin`), so the store takes the first whose uses,
`nth` and scenario state still allow it — one atomic step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from ..state.store import START_STATE, Begin, Begun, Progress, Store
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
        self._version = -1  # nothing compiled yet: the first `begin` loads the rules
        self._rules: list[Rule] = []
        self._strict = False

    @property
    def strict(self) -> bool:
        """Strict when configured so, or while a loaded document asks for it (cleared
        with the rules)."""
        return self._configured_strict or self._strict

    @property
    def has_rules(self) -> bool:
        """Whether rules were loaded, as of the last call decided (or `refresh`)."""
        return bool(self._rules)

    async def refresh(self) -> list[Rule]:
        """Compile the store's rules if their version moved; the rules in order."""
        found = await self.store.rules()
        if found.version != self._version:
            self._rules = [rule_from_dict(d, d["name"], d["scenario"]) for d in found.documents]
            self._version, self._strict = found.version, found.strict
        return self._rules

    async def load(self, document: dict, source: str = "") -> list[Rule]:
        """Check and add a scenario document's rules; nothing is added if any is wrong."""
        problems = check_document(document)
        if problems:
            raise ScenarioError(problems, source)
        scenario = document.get("scenario", "default")
        documents = [_named(r, i, scenario) for i, r in enumerate(document["rules"])]
        taken = {rule.name: rule.scenario for rule in await self.refresh()}
        clashes = [Problem(("rules", i, "name"), f"rule name {d['name']!r} is already used by "
                                                  f"scenario {taken[d['name']]!r}")
                   for i, d in enumerate(documents) if taken.get(d["name"], d["scenario"])
                   != d["scenario"]]
        if clashes:
            raise ScenarioError(clashes, source)
        await self.store.put_rules(documents, bool(document.get("strict")))
        names = {d["name"] for d in documents}
        return [rule for rule in await self.refresh() if rule.name in names]

    def load_sync(self, document: dict, source: str = "") -> list[Rule]:
        """`load` from plain code (scenario files at start-up, the Python scripting API)."""
        return self.store.sync(self.load(document, source))

    async def begin(self, begin: Begin, probe: Probe,
                    scenario: str | None = None) -> tuple[Begun, Decision | None]:
        """Admit and decide a call in one store step: the rules this call matches (of
        `scenario` only, when named) go as candidates; the first the store can take
        answers it. Rules changed meanwhile are compiled and the step taken again."""
        strict = begin.strict
        while True:
            begin.rules_version, begin.strict = self._version, strict and self.strict
            begin.candidates = tuple(rule.candidate for rule in self._rules
                                     if (scenario is None or rule.scenario == scenario)
                                     and rule.match.holds_locally(probe))
            begun = await self.store.begin(begin)
            if not begun.stale:
                break
            await self.refresh()
        if begun.rule is None:
            return begun, None
        rule = next(r for r in self._rules if r.name == begun.rule)
        return begun, Decision(rule, rule.reply_at(begun.use or 0), begun.use or 0)

    async def near_misses(self, probe: Probe, scenario: str | None = None,
                          most: int = 3) -> list[str]:
        """The rules that came closest to matching, each with why it did not."""
        progress: Progress = await self.store.progress()
        scored = []
        for rule in await self.refresh():
            if scenario is not None and rule.scenario != scenario:
                continue
            state = progress.states.get(rule.scenario, START_STATE)
            reasons = rule.match.misses(probe, state)
            if rule.times is not None and progress.uses.get(rule.name, 0) >= rule.times:
                reasons.append(f"used up ({rule.times} times)")
            scored.append((len(reasons), rule.name, reasons))
        scored.sort(key=lambda item: item[0])
        return [f"{name}: {'; '.join(reasons)}" for _, name, reasons in scored[:most]]


def _named(rule: dict, index: int, scenario: str) -> dict:
    """The rule as the store keeps it: with its scenario and a name. An unnamed rule is
    named from its content and place, so every process loading the same document names
    it alike (a shared store sees one rule, not one per worker)."""
    scenario = rule.get("scenario") or scenario
    if rule.get("name"):
        return {**rule, "scenario": scenario}
    digest = hashlib.blake2b(orjson.dumps([scenario, index, rule], option=orjson.OPT_SORT_KEYS),
                             digest_size=4).hexdigest()
    return {**rule, "name": f"{scenario}#{digest}", "scenario": scenario}


def fault_of(decision: Decision | None, header: Fault | None) -> Fault | None:
    """A header's fault wins over the rule's (the caller asked for it on this call)."""
    if header is not None:
        return header
    return decision.reply.fault if decision else None
