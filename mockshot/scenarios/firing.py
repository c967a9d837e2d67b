"""Firing a call's fault and answering a scripted error, on any operation.

Both need only the call (`Incoming`) and the clock, so the generic road and the chat
service use the same two functions.
"""

from __future__ import annotations

from ..engine.seeding import derive_rng
from ..errors import APIError, account_label, key_id, scripted
from ..incoming import Incoming
from ..state.clock import Clock
from .faults import Fault, before_response

__all__ = ["fire_fault", "scripted_error"]


async def fire_fault(clock: Clock, incoming: Incoming, fault: Fault | None, seed: int,
                     *parts: bytes) -> None:
    """Draw whether `fault` fires (from its own generator, fixed by `seed` and `parts`, so
    content never moves), and apply what it does before the response; the rest is the
    renderer's. The generator is made only when there is a fault to draw for."""
    if fault is None:
        return
    draw = derive_rng(seed, *parts, b"fault")
    if not fault.fires(draw):
        return
    incoming.entry.fault = fault.kind
    incoming.active_fault = fault
    await before_response(fault, clock, draw, account=account_label(incoming.account),
                          key=key_id(incoming.key))


def scripted_error(error: dict, incoming: Incoming, model: str | None) -> APIError:
    return scripted(error["type"], error.get("status"), error.get("message"),
                    error.get("retry_after"), account=account_label(incoming.account),
                    key=key_id(incoming.key), model=model or "")
