"""The model catalog: which models exist and the rules each one follows.

The catalog is data (`data/models.json`): families carry what models share (thinking mode,
fixed sampling values, prices, pacing), each model names its family and overrides the rest.
A config file's `models` list adds or overrides entries the same way, so a newer model
(say kimi-k3) needs no code: `{"id": "kimi-k3", "like": "kimi-k2.6", "context_length": 1048576,
"thinking": "always"}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import cached_property
from importlib import resources
from typing import Any

__all__ = ["Catalog", "ModelSpec", "load_catalog"]

THINKING_MODES = ("none", "toggle", "always")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model and its per-model rules."""

    id: str
    context_length: int
    schema: str  # the spec's discriminator value whose request schema this model uses
    thinking: str = "none"  # none | toggle (on unless disabled) | always
    reasoning_required_in_tool_history: bool = False
    supports_thinking_keep: bool = False
    fixed_sampling: dict[str, float] | None = None
    default_max_tokens: int = 1024
    tool_call_id: str = "underscore"  # underscore: get_weather_0; colon: get_weather:0
    supports_image_in: bool = False
    supports_video_in: bool = False
    supports_reasoning: bool = False
    time_to_first_token_ms: float = 400
    tokens_per_second: float = 50
    price: dict[str, float | None] = field(default_factory=dict)
    routes_to: tuple[str, ...] = ()
    image_tokens: int = 1024
    video_tokens: int = 2048
    listed: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # more /v1/models fields

    def thinks(self, thinking: dict | None) -> bool:
        """Whether this request produces reasoning, given its `thinking` parameter."""
        if self.thinking == "always":
            return True
        if self.thinking == "toggle":
            return not (isinstance(thinking, dict) and thinking.get("type") == "disabled")
        return False


_FIELDS = {f.name for f in fields(ModelSpec)}


class Catalog:
    """Models by id, in listing order."""

    def __init__(self, models: list[ModelSpec], created: int) -> None:
        self.models = {model.id: model for model in models}
        self.created = created

    def get(self, model_id: object) -> ModelSpec | None:
        return self.models.get(model_id) if isinstance(model_id, str) else None

    @cached_property
    def listing_body(self) -> bytes:
        """The `/v1/models` body, serialised once: the catalog never changes after start."""
        import orjson

        return orjson.dumps(self.listing())

    def listing(self) -> dict:
        """The `/v1/models` body: every entry shares one `created`, as the real list does."""
        return {"object": "list", "data": [self._entry(m) for m in self.models.values()
                                            if m.listed]}

    def _entry(self, model: ModelSpec) -> dict:
        return {
            "id": model.id,
            "object": "model",
            "created": self.created,
            "owned_by": "moonshot",
            "root": "",
            "parent": "",
            "permission": [_PERMISSION],
            "context_length": model.context_length,
            "supports_image_in": model.supports_image_in,
            "supports_video_in": model.supports_video_in,
            "supports_reasoning": model.supports_reasoning,
            **model.extra,
        }

    def route(self, model: ModelSpec, needed_tokens: int) -> ModelSpec:
        """moonshot-v1-auto: the smallest routed model whose window fits the request."""
        for target in model.routes_to:
            candidate = self.models[target]
            if needed_tokens <= candidate.context_length:
                return candidate
        return self.models[model.routes_to[-1]] if model.routes_to else model


_PERMISSION = {
    "created": 0, "id": "", "object": "", "allow_create_engine": False,
    "allow_sampling": False, "allow_logprobs": False, "allow_search_indices": False,
    "allow_view": False, "allow_fine_tuning": False, "organization": "public",
    "group": "public", "is_blocking": False,
}


class CatalogError(ValueError):
    """A model entry that cannot be built: unknown family, unknown field, bad value."""


def _build(entry: dict, families: dict, known: dict[str, dict]) -> ModelSpec:
    if "id" not in entry:
        raise CatalogError(f"model entry without an id: {entry}")
    base: dict = {}
    if like := entry.get("like"):
        if like not in known:
            raise CatalogError(f"model {entry['id']}: 'like' names unknown model {like!r}")
        base = dict(known[like])
    if family := entry.get("family"):
        if family not in families:
            raise CatalogError(f"model {entry['id']}: unknown family {family!r}")
        base = {**base, **families[family]}
    merged = {**base, **{k: v for k, v in entry.items() if k not in ("family", "like")}}
    merged.setdefault("schema", merged["id"])
    unknown = set(merged) - _FIELDS
    if unknown:
        raise CatalogError(f"model {entry['id']}: unknown fields {sorted(unknown)}")
    if merged.get("thinking", "none") not in THINKING_MODES:
        raise CatalogError(f"model {entry['id']}: thinking must be one of {THINKING_MODES}")
    merged["routes_to"] = tuple(merged.get("routes_to", ()))
    known[merged["id"]] = merged
    return ModelSpec(**merged)


def load_catalog(extra_models: list[dict] | None = None) -> Catalog:
    """The shipped catalog, with a config file's `models` entries added or overriding."""
    data = json.loads(resources.files("mockshot").joinpath("data/models.json").read_text())
    known: dict[str, dict] = {}
    families = data["families"]
    specs = {e["id"]: _build(e, families, known) for e in data["models"]}
    for entry in extra_models or ():
        specs[entry.get("id")] = _build(entry, families, known)
    return Catalog(list(specs.values()), data["created"])
