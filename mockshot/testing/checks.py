"""What a test's mock checks when the test ends (pytest_httpx's teardown is the model):
scripted replies that were never used, and calls no rule matched in strict mode. Each
problem says how to relax the check when it is not what the test meant."""

from __future__ import annotations

from collections.abc import Iterable

from ..mock import Mock
from ..scenarios.scripting import RuleBuilder

__all__ = ["teardown_problems"]


def unused(mock: Mock, builders: Iterable[RuleBuilder]) -> list[str]:
    uses = mock.store.sync(mock.store.progress()).uses
    never = [b.name for b in builders if uses.get(b.name, 0) == 0]
    if not never:
        return []
    names = ", ".join(repr(name) for name in never)
    return [f"{len(never)} scripted repl{'y was' if len(never) == 1 else 'ies were'} never "
            f"used: {names}. The code under test did not make the call the rule expects; "
            "if the rule is optional, mark the test "
            "@pytest.mark.mockshot(assert_all_used=False)"]


def unmatched(mock: Mock) -> list[str]:
    if not mock.scenarios.strict:
        return []
    missed = [entry for entry in mock.journal() if entry.unmatched]
    if not missed:
        return []
    shown = "; ".join(f"#{e.id} {e.operation} model={e.model}" for e in missed[:5])
    return [f"{len(missed)} call(s) matched no rule in strict mode ({shown}). Script them "
            "with mockshot.on(...), or drop strict=True to let the generator answer"]


def teardown_problems(mock: Mock, builders: Iterable[RuleBuilder],
                      assert_all_used: bool = True) -> list[str]:
    """Every reason the test's use of the mock was not what it scripted."""
    return (unused(mock, builders) if assert_all_used else []) + unmatched(mock)
