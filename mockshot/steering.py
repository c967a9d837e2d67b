"""The steering headers: how any client, in any language, steers one call.

`X-Mockshot-Seed` (the seed of this call), `X-Mockshot-Scenario` (only this scenario's
rules), `X-Mockshot-Fault` (a fault, in the scenario file's vocabulary) and
`X-Mockshot-Pacing` (`instant` or timing values). Each is parsed before anything is
spent, so a bad one is a 400 that changes nothing; faults and pacing are checked by the
same schema as scenario files (scenarios/checks.py), so both obey the same bounds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import clip, invalid_request
from .incoming import Incoming
from .scenarios.checks import STREAM_KINDS, is_chat_operation, pacing_problems
from .scenarios.faults import Fault, parse_fault, scalar
from .settings import fits_seed

if TYPE_CHECKING:
    from .mock import Mock

__all__ = ["check_fault_fits", "parse_pacing", "steer"]

_SEED = re.compile(r"-?[0-9]+")
INSTANT = {"ttft_ms": 0.0, "tokens_per_second": float("inf")}


async def steer(mock: Mock, headers: dict[str, str], incoming: Incoming) -> None:
    """Per-request steering headers: X-Mockshot-Seed, -Scenario, -Pacing and -Fault."""
    seed = headers.get("x-mockshot-seed")
    incoming.seed = parse_seed(seed, mock.settings.seed)
    incoming.pinned = seed is not None
    scenario = headers.get("x-mockshot-scenario")
    if scenario is not None:
        incoming.scenario = await check_scenario(mock, scenario)
    pacing = headers.get("x-mockshot-pacing")
    if pacing is not None:  # parsed now, so a bad one is refused before anything is spent
        incoming.pacing = parse_pacing(pacing)
    fault = headers.get("x-mockshot-fault")
    if fault is not None:
        try:
            incoming.fault = parse_fault(fault)
        except (ValueError, TypeError) as exc:
            raise _bad("X-Mockshot-Fault", fault, str(exc)) from None
        if not is_chat_operation(incoming.operation):
            check_fault_fits(incoming.fault, stream=False)


def _bad(header: str, value: str, why: str) -> Exception:
    return invalid_request(f"{header} {clip(repr(value), 100)}: {why}")


def parse_seed(value: str | None, default: int) -> int:
    """Plain decimal digits (a leading minus allowed), within a signed 64-bit integer."""
    if value is None:
        return default
    if not _SEED.fullmatch(value):  # int() also takes " 7", "+7", "1_0", Arabic digits
        raise invalid_request(f"X-Mockshot-Seed must be an integer, got "
                              f"{clip(repr(value), 100)}")
    if not fits_seed(int(value)):
        raise invalid_request(f"X-Mockshot-Seed must fit in a signed 64-bit integer, got "
                              f"{clip(value, 100)}")
    return int(value)


async def check_scenario(mock: Mock, name: str) -> str:
    """The scenario a call's rules are limited to: one that is loaded, or a 400 naming
    those that are (no rules would otherwise apply, silently)."""
    loaded = sorted({rule.scenario for rule in await mock.scenarios.refresh()})
    if name not in loaded:
        names = ", ".join(clip(repr(n), 60) for n in loaded[:20]) or "none"
        raise _bad("X-Mockshot-Scenario", name, f"no scenario of that name is loaded "
                                                f"(loaded: {names})")
    return name


def check_fault_fits(fault: Fault | None, stream: bool) -> None:
    """A fault a call asked for by header that cannot happen to it is refused: a stream
    fault on a reply that does not stream, `truncated_body` on a stream."""
    if fault is None:
        return
    if fault.kind in STREAM_KINDS and not stream:
        raise invalid_request(f"X-Mockshot-Fault: {fault.kind} breaks a stream, and this "
                              "call does not stream")
    if fault.kind == "truncated_body" and stream:
        raise invalid_request("X-Mockshot-Fault: truncated_body cuts a JSON reply, and this "
                              "call streams; use stream_cut")


def parse_pacing(value: str) -> dict[str, float]:
    """`instant` or `ttft_ms=200,tokens_per_second=80,jitter=0.1` (the header's form),
    within a scenario's pacing bounds; raises a 400 that says how to write it."""
    if value.strip().lower() == "instant":
        return dict(INSTANT)
    try:
        pacing = _pacing_values(value)
    except ValueError as exc:
        problem = str(exc)
    else:
        problems = pacing_problems(pacing)
        if not problems:
            return pacing
        problem = "; ".join(problems)
    raise _bad("X-Mockshot-Pacing", value, f"{problem}; use 'instant' or "
                                           "'ttft_ms=200,tokens_per_second=80,jitter=0.1'")


def _pacing_values(value: str) -> dict:
    out: dict = {}
    for part in value.split(","):
        key, eq, number = part.partition("=")
        key = key.strip().lower()
        if not eq:
            raise ValueError(f"{clip(repr(part.strip()), 40)} is not key=value")
        out[key] = scalar(number.strip())
    return out
