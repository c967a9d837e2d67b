"""The Python face of scenarios: `mock.on(...).reply(...).then(...)`.

The same concepts and names as scenario files (data/scenario.schema.json), so a rule
written in a test reads like the file it could become:

    mock.on(model="kimi-k2.6", contains="weather").reply(
        tool_call("get_weather", city="Paris")
    ).then("It is sunny.")
    mock.on(nth=3).reply(error("rate_limit_reached_error"))
    mock.on(contains="story", stream=True).reply(fault("stream_cut", after=5))

Every step is checked against the scenario schema as it is taken; a rule starts
answering once it has a reply.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..calls import CallList

if TYPE_CHECKING:
    from .book import ScenarioBook

__all__ = ["RuleBuilder", "error", "fault", "tool_call"]


def tool_call(name: str, arguments: dict | str | None = None, **fields: Any) -> dict:
    """A scripted tool call; with no arguments they are generated from the tool's schema."""
    if arguments is None and fields:
        arguments = fields
    call: dict[str, Any] = {"name": name}
    if arguments is not None:
        call["arguments"] = arguments
    return {"tool_calls": [call]}


def error(type: str, status: int | None = None, message: str | None = None,
          retry_after: float | None = None) -> dict:
    """A scripted error: its type, with the real status and message unless given."""
    found = {"type": type, "status": status, "message": message, "retry_after": retry_after}
    return {"error": {k: v for k, v in found.items() if v is not None}}


def fault(kind: str, **params: Any) -> dict:
    """A scripted fault (`latency`, `rate_limit`, `stream_cut`, `reset`, ...)."""
    return {"fault": {"kind": kind, **params}}


def _as_reply(value: Any) -> dict:
    if isinstance(value, str):
        return {"content": value}
    if isinstance(value, dict):
        return copy.deepcopy(value)
    raise TypeError(f"a reply is text or a dict (tool_call(), error(), fault()), not {value!r}")


def _merge(parts: tuple[Any, ...], extra: dict) -> dict:
    """`reply(tool_call(a), tool_call(b), content=...)` → one reply with both calls."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in _as_reply(part).items():
            if key == "tool_calls":
                merged.setdefault("tool_calls", []).extend(value)
            else:
                merged[key] = value
    merged.update(extra)
    return merged


class RuleBuilder:
    """One rule under construction; each call re-registers it (by name) in the book."""

    def __init__(self, book: ScenarioBook, scenario: str, name: str, match: dict) -> None:
        self._book = book
        self._scenario = scenario
        self.name = name
        self._rule: dict[str, Any] = {"name": name, "match": match}

    def reply(self, *parts: Any, **fields: Any) -> RuleBuilder:
        """The reply (text, tool_call(), error(), fault(), or file-form fields)."""
        self._rule["reply"] = [_merge(parts, fields)]
        return self._commit()

    def then(self, *parts: Any, **fields: Any) -> RuleBuilder:
        """The next reply, used once the previous ones are (the last one then repeats)."""
        if "reply" not in self._rule:
            return self.reply(*parts, **fields)
        self._rule["reply"].append(_merge(parts, fields))
        return self._commit()

    def times(self, count: int) -> RuleBuilder:
        self._rule["times"] = count
        return self._commit()

    def cycle(self) -> RuleBuilder:
        self._rule["cycle"] = True
        return self._commit()

    def then_state(self, state: str) -> RuleBuilder:
        self._rule["then_state"] = state
        return self._commit()

    @property
    def calls(self) -> CallList:
        """The calls this rule answered that the journal still holds, oldest first
        (`rule.calls.last.request.body`, like respx); `uses` counts every answer."""
        store = self._book.store
        return CallList.of(e for e in store.sync(store.journal()) if e.rule == self.name)

    @property
    def uses(self) -> int:
        """How many calls this rule has answered since the last reset."""
        return self._book.store.sync(self._book.store.progress()).uses.get(self.name, 0)

    @property
    def called(self) -> bool:
        return self.uses > 0

    def _commit(self) -> RuleBuilder:
        if "reply" in self._rule:
            self._book.load_sync({"scenario": self._scenario, "rules": [self._rule]})
        return self
