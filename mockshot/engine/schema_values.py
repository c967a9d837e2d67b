"""JSON text a reply must carry (tool arguments, `json_schema` output), drawn within the
reply's budget, and the client's error for a schema no value can be drawn for.

`schemagen` draws the values and knows nothing of HTTP; here its outcomes become reply
text or a 400:

- a schema asking for more than the token budget can carry (`minLength: 10000000`) gets
  the start of such a value, `CHARS_PER_TOKEN` characters a token and a little over, so
  the reply is cut at its budget (`finish_reason: "length"`) after work proportional to
  the budget, not to the schema's demand;
- a satisfiable schema the seeded draw misses (a pattern with a length, a `format` the
  generator does not know) falls back to a value drawn once per schema from a fixed seed,
  first with `format` asserted, then as Draft 2020-12 has it by default, an annotation;
- only when even that fails is the call refused, in mockshot's words (not the service's
  "not a valid moonshot flavored json schema": the schema may be valid), and before the
  call spends anything: `check_drawable` runs when the call is built.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache

import orjson

from ..errors import APIError, clip, invalid_request
from ..schemagen import SchemaGenerationError, generate_text

__all__ = ["CHARS_PER_TOKEN", "check_drawable", "json_text"]

CHARS_PER_TOKEN = 9  # the most one token of drawn JSON covers: 8 letters and a space
FALLBACK_CHARS = 65_536  # the fallback value's text, cut past it like any other


def json_text(schema: dict, rng: random.Random, where: str, budget: int) -> str:
    """JSON text valid against `schema` for a reply of at most `budget` tokens (the start
    of one when the schema asks for more than that)."""
    try:
        return generate_text(schema, rng, CHARS_PER_TOKEN * budget + 64)[0]
    except SchemaGenerationError:
        return _fallback_or_error(schema, where)


def check_drawable(schema: dict, where: str) -> None:
    """The client's 400 now, while nothing is spent, if no value can be drawn for it."""
    _fallback_or_error(schema, where)


def _fallback_or_error(schema: dict, where: str) -> str:
    text, failure = _fallback(_key(schema))
    if failure is not None:
        raise undrawable(where, failure)
    return text


def _key(schema: object) -> bytes:
    try:
        return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits
        return json.dumps(schema, sort_keys=True).encode()


@lru_cache(maxsize=512)
def _fallback(key: bytes) -> tuple[str, SchemaGenerationError | None]:
    """A value for the schema from a fixed seed (so a replay gets the same one): with
    formats asserted, else as annotations; or the reason none could be drawn."""
    schema = json.loads(key)
    failure: SchemaGenerationError | None = None
    for formats in (True, False):
        try:
            return generate_text(schema, random.Random(0), FALLBACK_CHARS,
                                 formats=formats)[0], None
        except SchemaGenerationError as exc:
            failure = failure or exc
    assert failure is not None
    return "", failure


def undrawable(where: str, failure: SchemaGenerationError) -> APIError:
    return invalid_request(
        f"{where}: mockshot cannot generate a value for this schema (at '{failure.path}': "
        f"{clip(failure.reason, 200)}); check that some value satisfies it")
