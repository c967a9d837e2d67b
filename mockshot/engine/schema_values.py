"""JSON values a reply must carry (tool arguments, `json_schema` output), as the client's
error when its schema cannot be met.

`schemagen` draws the values and knows nothing of HTTP; this is where its failure becomes
the service's 400, in the shape of its schema errors.
"""

from __future__ import annotations

import random
from typing import Any

from ..errors import invalid_request
from ..schemagen import SchemaGenerationError, generate

__all__ = ["satisfy"]


def satisfy(schema: dict, rng: random.Random, where: str) -> Any:
    """`generate`, with a schema no value can meet reported as the client's 400 (in the
    shape of the service's schema errors) rather than as mockshot's 500."""
    try:
        return generate(schema, rng)
    except SchemaGenerationError as exc:
        raise invalid_request(
            f"{where} is not a valid moonshot flavored json schema, details: "
            f"<At path '{exc.path}': {exc.reason}>"
        ) from None
