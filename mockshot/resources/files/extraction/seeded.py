"""Text for the formats the mock does not parse (.doc, .ppt, .epub, .mobi, images, ...):
seeded prose, the same for the same bytes and seed, about as long as the file is large."""

from __future__ import annotations

import hashlib

from ....engine.seeding import derive_rng
from ....engine.textgen import paragraph

__all__ = ["seeded_text"]


def seeded_text(data: bytes, seed: int) -> str:
    """Two to five paragraphs, and one more for each MiB of the file (at most 20 more)."""
    rng = derive_rng(seed, b"file-extract", hashlib.sha256(data).digest())
    count = 2 + int(rng.random() * 4) + min(len(data) >> 20, 20)
    return "\n\n".join("".join(paragraph(rng, 30 + int(rng.random() * 50)))
                       for _ in range(count))
