"""Values that satisfy a JSON Schema, drawn from a seeded generator.

The public face: `generate(schema, rng)` (a valid, readable value or
`SchemaGenerationError`) and the Moonshot Flavored JSON Schema check (`check_mfjs`,
`mfjs_message`, `MFJSError`). Nothing here knows of HTTP, the store or a wire format.
"""

from .context import SchemaGenerationError
from .generate import generate, generate_text
from .mfjs import MFJSError, check_mfjs, mfjs_message

__all__ = ["MFJSError", "SchemaGenerationError", "check_mfjs", "generate", "generate_text",
           "mfjs_message"]
