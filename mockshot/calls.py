"""The calls a mock received, as values to assert on (respx's call list is the model).

`mock.calls()`, a scripted rule's `.calls` and the pytest fixture's `mockshot.calls` are
`CallList`s: plain lists of `Call`, oldest first, with `.last` and `filter(...)`. A `Call`
is a read-only view of one journal entry; `call.request` is what the client sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .operations import operation_names
from .state.journal import JournalEntry

__all__ = ["Call", "CallList", "Request"]


@dataclass(frozen=True, slots=True)
class Request:
    """What the client sent: the operation, and the body (as JSON when it was JSON)."""

    operation: str  # "POST /v1/chat/completions"
    content: bytes | None
    body: Any  # the parsed JSON body; None without one (or when the journal cut it)

    def json(self) -> Any:
        """The body as JSON values, like `httpx.Request.json()`-style helpers."""
        return self.body

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def messages(self) -> list[dict]:
        return (self.body.get("messages") or []) if isinstance(self.body, dict) else []

    @property
    def tools(self) -> list[dict]:
        return (self.body.get("tools") or []) if isinstance(self.body, dict) else []

    @property
    def tool_names(self) -> list[str]:
        return [(t.get("function") or {}).get("name") or t.get("name") for t in self.tools]

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


@dataclass(frozen=True, slots=True)
class Call:
    """One call as the journal kept it: the request, and how it was answered."""

    entry: JournalEntry

    @property
    def request(self) -> Request:
        entry = self.entry
        return Request(entry.operation, entry.request, entry.body)

    @property
    def operation(self) -> str:
        return self.entry.operation

    @property
    def model(self) -> str | None:
        return self.entry.model

    @property
    def status(self) -> int:
        return self.entry.status

    @property
    def rule(self) -> str | None:
        return self.entry.rule

    def __repr__(self) -> str:
        shown = f"{self.operation} -> {self.status}"
        return f"<Call #{self.entry.id} {shown}{f' model={self.model}' if self.model else ''}>"


class CallList(list[Call]):
    """Calls, oldest first: a list, with `.last` and `filter()`."""

    @classmethod
    def of(cls, entries: Iterable[JournalEntry]) -> CallList:
        return cls(Call(entry) for entry in entries)

    @property
    def last(self) -> Call:
        """The latest call (IndexError-free message when there is none)."""
        if not self:
            raise AssertionError("no calls were made")
        return self[-1]

    @property
    def called(self) -> bool:
        return bool(self)

    def filter(self, operation: str | None = None, model: str | None = None,
               status: int | None = None, rule: str | None = None) -> CallList:
        """The calls that match every given condition; `operation` takes the route, its
        path or the neutral name (`chat`, `models`, `files`, ...)."""
        return CallList(call for call in self
                        if (operation is None or operation in operation_names(call.operation))
                        and (model is None or call.model == model)
                        and (status is None or call.status == status)
                        and (rule is None or call.rule == rule))
