"""Plausible JSON values for a JSON Schema.

`generate(schema, rng)` invents the arguments of a tool call or a structured-output reply:
a value that validates against the schema (Draft 2020-12) and reads like something a model
would write ("city" gets a city, "email" an address; see `readable_values`). It is a function
of (schema, rng) only, so one seed reproduces a reply. Every value is checked with a compiled
validator before it is returned, so the generator may be best-effort where JSON Schema is hard
(patterns, `not`, `contains`): a failed draw is simply drawn again.

This module is the front door; the work is done by the modules behind it:
`value_draws` walks the schema (applicators, objects, arrays), `number_draws` and
`string_draws` draw the leaves, `schema_merge` reads `allOf`, `schema_validators` judges the
results, and `draw_context` holds what they share.

The Moonshot Flavored JSON Schema check lives in `mfjs`; the package's `__init__` exports
both halves.
"""

from __future__ import annotations

import random
from typing import Any

from .context import DrawContext, SchemaGenerationError
from .mfjs import MFJSError, check_mfjs, mfjs_message
from .validators import explain, validator_for
from .values import draw

__all__ = [
    "MFJSError",
    "SchemaGenerationError",
    "check_mfjs",
    "generate",
    "mfjs_message",
]

ATTEMPTS = 25  # whole-value redraws before giving up


def generate(schema: dict, rng: random.Random, *, attempts: int = ATTEMPTS) -> Any:
    """A JSON value valid against `schema` (Draft 2020-12), drawn only from `rng`.

    Raises `SchemaGenerationError` naming the schema path that could not be satisfied when
    `attempts` draws all fail (e.g. contradictory bounds or an unsupported `pattern`).
    """
    check = validator_for(schema)
    failure: SchemaGenerationError | None = None
    for attempt in range(attempts):
        try:
            value = draw(schema, DrawContext(rng, schema, attempt > 0), ())
        except SchemaGenerationError as exc:
            failure = exc
            continue
        if check.is_valid(value):
            return value
        failure = explain(check, value, attempts)
    assert failure is not None
    raise failure
