"""The words generated text is made of, shared by the chat engine and `schemagen`.

Faker's English lorem list, keeping only words of at most 8 letters, which the approximate
tokenizer charges one token each (so a sentence's piece count is its token count).
"""

from __future__ import annotations

from functools import cache

__all__ = ["words"]


@cache
def words() -> tuple[str, ...]:
    from faker.providers.lorem.en_US import Provider

    return tuple(w for w in Provider.word_list if w.isalpha() and w.isascii() and len(w) <= 8)
