"""Seeded natural text, produced directly as one-token pieces.

Words come from Faker's English lorem list (only words of at most 8 letters, which the
approximate tokenizer charges one token each), so a sentence is built as a list of pieces
whose count *is* its token count: cutting a reply to a budget, or a stream into chunks,
never needs a second tokenizer pass. The generator takes a `random.Random` and reads no
other source of chance.
"""

from __future__ import annotations

import random
from functools import cache

import orjson

from ..vocabulary import words

__all__ = ["json_object_text", "paragraph", "words"]

TOPICS = ("summary", "answer", "detail", "reason", "note", "example", "status", "result")


def sentence(rng: random.Random, length: int, first: bool) -> list[str]:
    """`length` words and a full stop: `["The", " cat", " sat", "."]` (a leading space
    unless it opens the text)."""
    vocab = words()
    chosen = [vocab[int(rng.random() * len(vocab))] for _ in range(length)]
    out = [("" if first else " ") + chosen[0].capitalize()]
    out.extend(" " + w for w in chosen[1:])
    if length > 6 and rng.random() < 0.3:
        out.insert(int(rng.random() * (length - 3)) + 2, ",")
    out.append(".")
    return out


POOL_SIZE = 2048


@cache
def sentence_pool() -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """Sentences made once from a fixed seed, as (opening, continuing) piece tuples.

    Picking whole sentences from a pool costs a fraction of a microsecond each, where
    building one word by word costs several; 2,048 sentences of 4 to 15 words are
    variety enough for a mock, and the seed still decides every pick."""
    maker = random.Random(0x6D6F636B)
    made = [sentence(maker, 4 + int(maker.random() * 12), True) for _ in range(POOL_SIZE)]
    opening = tuple(tuple(s) for s in made)
    continuing = tuple((" " + s[0], *s[1:]) for s in opening)
    return opening, continuing


def paragraph(rng: random.Random, tokens: int, first: bool = True) -> list[str]:
    """About `tokens` pieces of whole sentences (at least one sentence)."""
    opening, continuing = sentence_pool()
    out: list[str] = list((opening if first else continuing)[int(rng.random() * POOL_SIZE)])
    while len(out) < tokens:
        out.extend(continuing[int(rng.random() * POOL_SIZE)])
    return out


def json_object_text(rng: random.Random) -> str:
    """A small JSON object for `response_format: json_object` (Moonshot writes compact
    JSON with `", "` separators rarely; compact is the common case)."""
    keys = rng.sample(TOPICS, 2 + int(rng.random() * 3))
    obj: dict[str, object] = {}
    for key in keys:
        roll = rng.random()
        if roll < 0.5:
            obj[key] = "".join(sentence(rng, 3 + int(rng.random() * 6), True))
        elif roll < 0.75:
            obj[key] = round(rng.random() * 100, 2)
        else:
            obj[key] = [w for w in rng.sample(words(), 3)]
    return orjson.dumps(obj).decode()
