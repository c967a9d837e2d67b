"""The steering headers: how any client, in any language, steers one call.

`X-Mockshot-Seed` (the seed of this call), `X-Mockshot-Scenario` (only this scenario's
rules), `X-Mockshot-Fault` (a fault, in the scenario file's vocabulary) and
`X-Mockshot-Pacing` (`instant` or timing values). Each is parsed before anything is
spent, so a bad one is a 400 that changes nothing.
"""

from __future__ import annotations

import math

from . import errors
from .errors import invalid_request
from .incoming import Incoming
from .scenarios.faults import parse_fault
from .settings import fits_seed

__all__ = ["parse_pacing", "steer"]


def steer(server_seed: int, headers: dict[str, str], incoming: Incoming) -> None:
    """Per-request steering headers: X-Mockshot-Seed, -Scenario and -Fault."""
    seed = headers.get("x-mockshot-seed")
    incoming.seed = server_seed
    if seed is not None:
        try:
            incoming.seed = int(seed)
        except ValueError:
            raise errors.invalid_request(
                f"X-Mockshot-Seed must be an integer, got {seed!r}"
            ) from None
        if not fits_seed(incoming.seed):
            raise errors.invalid_request(
                f"X-Mockshot-Seed must fit in a signed 64-bit integer, got {seed}"
            )
        incoming.pinned = True
    incoming.scenario = headers.get("x-mockshot-scenario")
    pacing = headers.get("x-mockshot-pacing")
    if pacing is not None:  # parsed now, so a bad one is refused before anything is spent
        incoming.pacing = parse_pacing(pacing)
    fault = headers.get("x-mockshot-fault")
    if fault is not None:
        try:
            incoming.fault = parse_fault(fault)
        except (ValueError, TypeError) as exc:
            raise errors.invalid_request(f"X-Mockshot-Fault {fault!r}: {exc}") from None


def parse_pacing(value: str) -> dict[str, float]:
    """`instant` or `ttft_ms=200,tokens_per_second=80,jitter=0.1` (the header's form);
    raises a 400 that says how to write it."""
    try:
        return _parse_pacing(value)
    except ValueError as exc:
        raise invalid_request(
            f"X-Mockshot-Pacing {value!r}: {exc}; use 'instant' or "
            "'ttft_ms=200,tokens_per_second=80,jitter=0.1'"
        ) from None


def _parse_pacing(value: str) -> dict[str, float]:
    if value.strip().lower() == "instant":
        return {"ttft_ms": 0.0, "tokens_per_second": float("inf")}
    out: dict[str, float] = {}
    for part in value.split(","):
        key, _, number = part.partition("=")
        key = key.strip().lower()
        if key not in ("ttft_ms", "tokens_per_second", "jitter"):
            raise ValueError(f"unknown key {key!r}")
        out[key] = float(number)
        if not math.isfinite(out[key]) or out[key] < 0 or (
            key == "tokens_per_second" and out[key] == 0
        ):
            raise ValueError(f"{key} must be a finite, positive number")
    return out
