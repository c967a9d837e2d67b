"""Per-call generators: every random choice of a reply comes from one of these.

A generator is fixed by a seed and the parts that identify what it draws for (the call's
fingerprint, a rule's name and use), so one call's reply never depends on another's.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["derive_rng"]


def derive_rng(seed: int, *parts: bytes) -> random.Random:
    """A generator fixed by the seed and `parts` alone (the call, a rule, a use index)."""
    digest = hashlib.blake2b(seed.to_bytes(8, "little", signed=True) + b"\0".join(parts),
                             digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "little"))
