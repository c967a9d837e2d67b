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

import json
import random
from typing import Any

from .context import MAX_DRAWS, Budget, DrawContext, SchemaGenerationError
from .mfjs import MFJSError, check_mfjs, mfjs_message
from .validators import explain, validator_for
from .values import draw

__all__ = [
    "MFJSError",
    "SchemaGenerationError",
    "check_mfjs",
    "generate",
    "generate_text",
    "mfjs_message",
]

ATTEMPTS = 25  # whole-value redraws before giving up
LIMIT = 1_000_000  # characters of JSON text a value may take unless the caller says


def generate(schema: dict, rng: random.Random, *, attempts: int = ATTEMPTS,
             limit: int = LIMIT, formats: bool = True) -> Any:
    """A JSON value valid against `schema` (Draft 2020-12), drawn only from `rng`.

    Raises `SchemaGenerationError` naming the schema path that could not be satisfied when
    `attempts` draws all fail (e.g. contradictory bounds or an unsupported `pattern`), when
    the drawing takes more than `MAX_DRAWS` steps, or when every value would be longer
    than `limit` characters of JSON. With `formats` false, `format` is an annotation (the
    Draft 2020-12 default) rather than asserted.
    """
    value, whole = _draw_valid(schema, rng, attempts, limit, formats)
    if not whole:
        raise SchemaGenerationError((), f"every value is longer than {limit} characters of "
                                        "JSON")
    return value


def generate_text(schema: dict, rng: random.Random, limit: int, *,
                  attempts: int = ATTEMPTS, formats: bool = True) -> tuple[str, bool]:
    """The JSON text of a value valid against `schema`, and True; or, when the schema asks
    for more than `limit` characters (`minLength: 10000000`), the first `limit` characters
    of such a value, and False: all a reply cut at its token budget could show, drawn in
    time proportional to `limit`, not to the schema's demand."""
    value, whole = _draw_valid(schema, rng, attempts, limit, formats)
    text = json.dumps(value, ensure_ascii=False)
    return (text, True) if whole else (text[:limit], False)


def _draw_valid(schema: dict, rng: random.Random, attempts: int, limit: int,
                formats: bool) -> tuple[Any, bool]:
    """A valid value and True, or a cut one and False; every attempt spends from one
    allowance of draw steps."""
    check = validator_for(schema, formats)
    failure: SchemaGenerationError | None = None
    steps = MAX_DRAWS
    for attempt in range(attempts):
        budget = Budget(limit, steps)
        try:
            value = draw(schema, DrawContext(rng, schema, attempt > 0, budget), ())
        except SchemaGenerationError as exc:
            failure, steps = exc, budget.draws
            if steps < 0:
                raise
            continue
        steps = budget.draws
        if budget.cut:
            return value, False
        if check.is_valid(value):
            return value, True
        failure = explain(check, value, attempts)
    assert failure is not None
    raise failure
