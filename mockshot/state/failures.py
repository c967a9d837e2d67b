"""How the state layer says it cannot keep state now."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(RuntimeError):
    """The store cannot keep state now (a full disk, a read-only or vanished state
    directory): the call is answered with a 500 in the envelope, nothing half-kept, and the
    next call tries again — so the mock recovers by itself when space returns."""
