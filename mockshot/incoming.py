"""`Incoming`: one request on the road, from the moment it is read to its journal entry.

A plain value the road fills in (account, steering overrides, body) and hands to the
operation's handler; handlers add what they learn (the model, the fault that fired).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .scenarios.faults import Fault

__all__ = ["Incoming"]


@dataclass(slots=True)
class Incoming:
    """A request on the road: who sent it, what it asks, and its per-request overrides."""

    operation: str
    account: str
    surface: str = "openai"
    body: Any = None
    path_params: dict[str, str] = field(default_factory=dict)
    query: str = ""
    headers: Any = None
    seed: int = 0
    scenario: str | None = None  # X-Mockshot-Scenario: only this scenario's rules
    fault: Fault | None = None  # X-Mockshot-Fault: this call's fault
    pacing: dict | None = None  # X-Mockshot-Pacing, parsed
    active_fault: Fault | None = None  # the fault that fired, for the renderer
    model: str | None = None  # for the journal
    journal: dict[str, Any] = field(default_factory=dict)
