"""What every part of a schema draw shares: the context passed down the walk and the error.

`schema_gen` walks a schema through `value_draws`, which hands leaves to `number_draws` and
`string_draws`; all of them need the same context and raise the same error, so those live
here, below all of them, and no module of the walk imports one that imports it back.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["GIVE_UP_AFTER", "SHORT_AFTER", "DrawContext", "Path", "SchemaGenerationError"]

Path = tuple[str, ...]
SHORT_AFTER = 3  # $ref expansions on one branch before choosing the shortest options
GIVE_UP_AFTER = 12  # $ref expansions on one branch that mean the recursion never ends


class SchemaGenerationError(ValueError):
    """No value could be produced; `path` names the schema location that could not be met."""

    # Its public home is `mockshot.schema_gen`: tracebacks and pickles name it from there.

    def __init__(self, path: Sequence[str] | str, reason: str) -> None:
        self.path = path if isinstance(path, str) else _dot(path)
        self.reason = reason
        super().__init__(f"cannot generate a value for the schema at '{self.path}': {reason}")


def _dot(path: Sequence[str]) -> str:
    return ".".join(path) or "root"


class DrawContext(NamedTuple):
    """Everything a draw depends on besides the (sub)schema: a NamedTuple because one is
    made for every property drawn, and that is the cheapest immutable record."""

    rng: random.Random
    root: dict
    fresh: bool  # a redraw: ignore `default`/`examples`, which may be what failed
    refs: int = 0  # $ref expansions on this branch
    name: str = ""  # the property this value is for, to pick readable content

    @property
    def short(self) -> bool:
        return self.refs > SHORT_AFTER

    def named(self, name: str) -> DrawContext:
        return DrawContext(self.rng, self.root, self.fresh, self.refs, name)
