"""Per-call generators: every random choice of a reply comes from one of these.

A generator is fixed by a seed and the parts that identify what it draws for (the call's
fingerprint, a rule's name and use), so one call's reply never depends on another's.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["derive_rng", "replay_seed"]


def derive_rng(seed: int, *parts: bytes) -> random.Random:
    """A generator fixed by the seed and `parts` alone (the call, a rule, a use index)."""
    digest = hashlib.blake2b(seed.to_bytes(8, "little", signed=True) + b"\0".join(parts),
                             digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "little"))


MASK64 = 2**64 - 1


def replay_seed(seed: int, ordinal: int) -> int:
    """The seed of the `ordinal`-th identical call on a server seeded with `seed`.

    Unpinned identical calls vary by their ordinal; folding the ordinal into the seed
    (rather than into the generator) means the call is replayed, on any server and after
    any history, by sending this value as `X-Mockshot-Seed`. The first call of each kind
    uses the server's seed itself; later ones a splitmix64 mix of (seed, ordinal), kept
    non-negative so it reads as a plain seed.
    """
    if ordinal == 0:
        return seed
    z = (seed + ordinal * 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return (z ^ (z >> 31)) >> 1
