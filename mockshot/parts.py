"""The immutable parts of a mock, built once per process and shared by every `Mock`.

A compiled spec (~3.5 ms), the catalog (~0.5 ms) and a tokenizer cost more than
everything else a mock needs together, and none of them changes after it is built; a
per-test fixture that rebuilt them would spend ~5 ms a test. They depend only on the
settings named in `PartsKey`, so mocks whose settings agree on those share one `Parts`
(the cache is bounded: a process rarely sees more than a few distinct catalogs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import orjson

from .engine import textgen
from .engine.catalog import Catalog, load_catalog
from .engine.tokens import Tokenizer, load_tokenizer
from .settings import Settings
from .spec import Spec, Validator, load_spec

__all__ = ["Parts", "parts_for"]


@dataclass(frozen=True, slots=True)
class Parts:
    """What every mock built from the same catalog and tokenizer settings can share."""

    spec: Spec
    catalog: Catalog
    tokenizer: Tokenizer
    # model id → (compiled chat schema, discriminator field to rename); filled lazily,
    # the same for every mock sharing this catalog
    chat_validators: dict[str, tuple[Validator, str | None]] = field(default_factory=dict)


def parts_for(settings: Settings) -> Parts:
    """The shared parts for `settings` (built on first use in this process)."""
    models = orjson.dumps(list(settings.models), option=orjson.OPT_SORT_KEYS)
    return _parts(models, settings.tokenizer_model)


@lru_cache(maxsize=16)
def _parts(models: bytes, tokenizer_model: str | None) -> Parts:
    spec = load_spec()
    spec.compile_all()
    textgen.sentence_pool()  # built once per process now, not on the first request
    return Parts(spec, load_catalog(orjson.loads(models)), load_tokenizer(tokenizer_model))
