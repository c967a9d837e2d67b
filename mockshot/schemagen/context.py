"""What every part of a schema draw shares: the context passed down the walk and the error.

`schema_gen` walks a schema through `value_draws`, which hands leaves to `number_draws` and
`string_draws`; all of them need the same context and raise the same error, so those live
here, below all of them, and no module of the walk imports one that imports it back.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["GIVE_UP_AFTER", "MAX_DRAWS", "SHORT_AFTER", "Budget", "DrawContext", "Path",
           "SchemaGenerationError"]

Path = tuple[str, ...]
SHORT_AFTER = 3  # $ref expansions on one branch before choosing the shortest options
GIVE_UP_AFTER = 12  # $ref expansions on one branch that mean the recursion never ends
MAX_DRAWS = 10_000  # draw steps one value may take, every redraw included (~30 ms)


class SchemaGenerationError(ValueError):
    """No value could be produced; `path` names the schema location that could not be met."""

    # Its public home is `mockshot.schema_gen`: tracebacks and pickles name it from there.

    def __init__(self, path: Sequence[str] | str, reason: str) -> None:
        self.path = path if isinstance(path, str) else _dot(path)
        self.reason = reason
        super().__init__(f"cannot generate a value for the schema at '{self.path}': {reason}")


def _dot(path: Sequence[str]) -> str:
    return ".".join(path) or "root"


class Budget:
    """What one value may cost, shared by the whole walk.

    `chars`: characters of JSON text. A schema may demand more than any reply carries
    (`minLength: 10000000`, `minItems: 1000000`, `pattern: "^((a{1000}){1000}){1000}$"`);
    once they are spent the value is `cut`: every later draw is a placeholder, and the
    caller shows the text up to the limit, as a reply cut at its token budget would.
    `draws`: steps of the walk, redraws included; past them generation gives up, so no
    schema keeps the event loop busy for long.
    """

    __slots__ = ("chars", "cut", "draws")

    def __init__(self, chars: int, draws: int = MAX_DRAWS) -> None:
        self.chars, self.draws, self.cut = chars, draws, False

    def step(self, path: Sequence[str]) -> None:
        self.draws -= 1
        if self.draws < 0:
            raise SchemaGenerationError(path, f"drawing a value took more than {MAX_DRAWS} "
                                              "steps (mockshot's bound on generation work)")

    def room(self) -> int:
        """Characters still to spend (0 once cut)."""
        return max(self.chars, 0)

    def spend(self, size: int) -> None:
        self.chars -= size
        if self.chars < 0:
            self.cut = True


class DrawContext(NamedTuple):
    """Everything a draw depends on besides the (sub)schema: a NamedTuple because one is
    made for every property drawn, and that is the cheapest immutable record."""

    rng: random.Random
    root: dict
    fresh: bool  # a redraw: ignore `default`/`examples`, which may be what failed
    budget: Budget
    refs: int = 0  # $ref expansions on this branch
    name: str = ""  # the property this value is for, to pick readable content

    @property
    def short(self) -> bool:
        return self.refs > SHORT_AFTER

    def named(self, name: str) -> DrawContext:
        return DrawContext(self.rng, self.root, self.fresh, self.budget, self.refs, name)

    def deeper(self, refs: int) -> DrawContext:
        return DrawContext(self.rng, self.root, self.fresh, self.budget, refs, self.name)
