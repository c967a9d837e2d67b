"""One Settings type; CLI flags, `MOCKSHOT_*` variables and config-file keys use its names.

Precedence, lowest first: defaults, the config file, the environment, the command line.
A config file is TOML or JSON (`.toml` / `.json`) whose top-level keys are these field
names; it may also carry `models` (catalog additions, see catalog.py).
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .conformance import check_variants
from .state.redis_url import StoreURLError, parse_url

__all__ = ["HELP", "Settings", "SettingsError", "fits_seed"]

ENV_PREFIX = "MOCKSHOT_"


class SettingsError(ValueError):
    """A setting that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    config: str | None = None
    api_key: tuple[str, ...] = ()  # empty: any non-empty key is accepted
    log_level: str = "info"
    clock: str = "real"  # real | virtual
    clock_speed: float = 1.0
    max_body_bytes: int = 100 * 1024 * 1024
    request_timeout: float = 30.0  # seconds a client may take to send one request
    balance: float = 1000.0  # USD cash of each new account (alias: initial_balance)
    voucher: float = 0.0  # USD voucher of each new account (alias: initial_voucher)
    tier: int | None = None  # None: no rate limits; 0-5: that tier's limits for every account
    journal_size: int = 1000
    workers: int = 1  # processes answering on one port (they share --state-dir)
    state_dir: str | None = None  # keep state in DIR/state.db (SQLite): restarts keep it
    store: str | None = None  # redis://HOST:PORT/DB: the state in Redis, shared by hosts
    prompt_cache: bool = True
    pacing: bool = True  # stream at each model's speed (on the clock); false: instant
    system_fingerprint: str = "fpv0_1c3effa9"
    tokenizer_model: str | None = None
    admin_token: str | None = None
    scenario: tuple[str, ...] = ()  # scenario files (or directories of them) loaded at start-up
    strict: bool = False  # unmatched chat calls get an error instead of generated replies
    replay_pacing: float = 1.0  # share of a recording's waits a replay keeps (0: none)
    record_upstream: str | None = None  # forward chat calls no rule answers here, and record
    record_out: str | None = None  # the directory recordings are written to
    record_cassette: str = "recording"  # the recording's file (and scenario) name
    record_match: str = "conversation"  # or "digest": match every message, not a subset
    record_normalise: tuple[str, ...] = ()  # RE2 patterns of volatile text, read as <*>
    redact_header: tuple[str, ...] = ()  # headers never written (beyond the credentials)
    redact_field: tuple[str, ...] = ()  # JSON fields never written, at any depth
    batch_validating_seconds: float = 1.0  # a batch's phases, on the mock's clock
    batch_in_progress_seconds: float = 2.0
    batch_finalizing_seconds: float = 1.0
    batch_cancelling_seconds: float = 1.0
    variants: tuple[str, ...] = ()  # conformance variations of streams (conformance.py)
    max_partitions: int = 256  # X-Mockshot-Test partitions kept (least recently used go)
    models: tuple[dict, ...] = field(default=(), compare=False)  # config file only
    accounts: tuple[dict, ...] = field(default=(), compare=False)  # config file only
    tiers: tuple[dict, ...] = field(default=(), compare=False)  # config file only


    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Defaults < config file < environment < `overrides` (the command line)."""
        environ = os.environ if environ is None else environ
        overrides = {k: v for k, v in (overrides or {}).items() if v not in (None, ())}
        names = [f.name for f in fields(cls) if f.name not in CONFIG_ONLY] + list(ALIASES)
        from_env = {name: environ[ENV_PREFIX + name.upper()] for name in names
                    if ENV_PREFIX + name.upper() in environ}
        config = overrides.get("config") or from_env.get("config")
        merged: dict[str, Any] = read_config(config) if config else {}
        merged.update(from_env)
        merged.update(overrides)
        if config:
            merged["config"] = config
        return cls().updated(merged)

    def updated(self, values: Mapping[str, Any]) -> Settings:
        """A copy with `values` coerced to each field's type (strings from env/CLI too)."""
        known = {f.name: f for f in fields(self)}
        values = {ALIASES.get(name, name): value for name, value in values.items()}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        coerced = {name: _coerce(name, known[name].default, v) for name, v in values.items()}
        for name, value in coerced.items():
            _check_range(name, value)
        return replace(self, **coerced)


HELP = {
    "host": "address to bind (default 127.0.0.1)",
    "port": "port (default 8000; 0 picks a free one and prints it)",
    "seed": "seed for every generated reply (default 0)",
    "config": "TOML or JSON config file whose keys are these settings",
    "api_key": "accept only this key (repeatable; default: any non-empty key)",
    "log_level": "log level; info logs one access line per request",
    "clock": "real time, or a virtual clock on which waits cost nothing",
    "clock_speed": "with the real clock: make every wait this many times shorter",
    "max_body_bytes": "largest request body accepted (default 100 MiB)",
    "request_timeout": "seconds a served client may take to send one request, headers and "
                       "body (default 30); slower ones get 408 and are closed",
    "balance": "USD cash each new account starts with (default 1000)",
    "voucher": "USD voucher each new account starts with (spent before cash)",
    "tier": "rate-limit tier 0-5 of every account (default: no limits)",
    "journal_size": "requests the journal keeps (oldest dropped first)",
    "workers": "worker processes on one port, sharing the state in --state-dir (default 1)",
    "state_dir": "keep accounts, rules' progress, the journal (and files) in DIR; "
                 "default: in memory (with --store: only the files' bytes)",
    "store": "redis://HOST:PORT/DB: keep the state in Redis, shared by every mockshot "
             "host naming it (needs mockshot[redis])",
    "prompt_cache": "report cached_tokens for repeated prompt prefixes",
    "pacing": "stream at each model's time-to-first-token and tokens/s",
    "system_fingerprint": "system_fingerprint on stream chunks ('' for none)",
    "tokenizer_model": "Kimi tiktoken.model file for exact token counts (needs tiktoken)",
    "admin_token": "token the /_mockshot/ control API requires off loopback",
    "scenario": "scenario file (YAML or JSON), or a directory of them such as a recording, "
                "to load (repeatable)",
    "strict": "answer chat calls no scenario rule matches with an error",
    "replay_pacing": "share of a recording's waits a replay keeps (default 1; 0 sends at once)",
    "record_upstream": "forward chat calls no rule answers to this server (its root URL, "
                       "e.g. https://api.moonshot.ai) and record each exchange",
    "record_out": "directory the recording is written to (with --record-upstream)",
    "record_cassette": "name of the recording's file in that directory (default recording)",
    "record_match": "conversation (default: turn, last user message, tool results) or "
                    "digest (every message)",
    "record_normalise": "RE2 pattern of volatile text (timestamps, ids) that recordings "
                        "match as <*> (repeatable)",
    "redact_header": "header never written to a recording, beside Authorization and "
                     "x-api-key (repeatable)",
    "redact_field": "JSON field never written to a recording, at any depth (repeatable)",
    "batch_validating_seconds": "seconds a batch is validating (on the clock; default 1)",
    "batch_in_progress_seconds": "seconds a batch is in_progress, its lines answered "
                                 "evenly through them (default 2)",
    "batch_finalizing_seconds": "seconds a batch is finalizing (default 1)",
    "batch_cancelling_seconds": "seconds a cancelled batch is cancelling (default 1)",
    "variants": "conformance variation of OpenAI streams to serve (repeatable; 'all' draws "
                "them per call, seeded); see mockshot/conformance.py",
    "max_partitions": "X-Mockshot-Test partitions kept at once (least recently used go)",
}


CONFIG_ONLY = ("models", "accounts", "tiers")  # lists of tables: a config file's keys only
# comma-separated in the environment
TUPLES = ("api_key", "scenario", "variants", "redact_header", "redact_field")
PATTERNS = ("record_normalise",)  # lists too, but never split: a regex may hold commas
ALIASES = {"initial_balance": "balance", "initial_voucher": "voucher"}  # older names


def _coerce(name: str, default: Any, value: Any) -> Any:
    try:
        if name == "tier":
            return None if value in (None, "", "none") else _whole(value)
        if name in TUPLES:
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(item).strip() for item in items if str(item).strip())
        if name in PATTERNS:
            return (value,) if isinstance(value, str) else tuple(str(item) for item in value)
        if name in CONFIG_ONLY:
            return tuple(dict(item) for item in value)
        if isinstance(default, bool):
            return value if isinstance(value, bool) else _parse_bool(value)
        if isinstance(default, int) and not isinstance(default, bool):
            return _whole(value)
        if isinstance(default, float):
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return float(value)
        return None if value is None else str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: cannot use {value!r} ({exc})") from None


CHOICES = {
    "clock": ("real", "virtual"),
    "record_match": ("conversation", "digest"),
    "log_level": ("debug", "info", "warning", "error", "critical"),
}
SEED_RANGE = (-(2**63), 2**63 - 1)


def _check_range(name: str, value: Any) -> None:
    if name in CHOICES and str(value).lower() not in CHOICES[name]:
        raise SettingsError(f"setting {name}: {value!r} is not one of {', '.join(CHOICES[name])}")
    if name == "variants" and (problem := check_variants(value)):
        raise SettingsError(f"setting variants: {problem}")
    if name == "store" and value is not None:
        _check_store(value)
    if name == "port" and not 0 <= value <= 65535:
        raise SettingsError(f"setting port: {value} is outside 0-65535")
    if name == "seed" and not fits_seed(value):
        raise SettingsError("setting seed: must fit in a signed 64-bit integer")
    if name in ("journal_size", "max_body_bytes", "max_partitions") and value < 1:
        raise SettingsError(f"setting {name}: must be at least 1")
    if name.startswith("batch_") and not (math.isfinite(value) and value >= 0):
        raise SettingsError(f"setting {name}: must be a number of seconds, 0 or more")
    if name in ("clock_speed", "request_timeout") and not 0 < value < float("inf"):
        raise SettingsError(f"setting {name}: must be a positive number")
    if name == "replay_pacing" and not 0 <= value < float("inf"):
        raise SettingsError("setting replay_pacing: must be a number, 0 or more")
    if name == "record_upstream" and value is not None and not value.startswith(
            ("http://", "https://")):
        raise SettingsError(f"setting record_upstream: {value!r} is not an http(s) URL")
    if name in ("balance", "voucher") and not math.isfinite(value):
        raise SettingsError(f"setting {name}: must be a finite number of USD")
    if name == "voucher" and value < 0:
        raise SettingsError("setting voucher: must not be negative (cash may be, for arrears)")
    if name == "tier" and value is not None and value < 0:
        raise SettingsError(f"setting tier: {value} is not a tier (0 and up; see tiers)")


def _check_store(url: str) -> None:
    try:
        parse_url(url)
    except StoreURLError as exc:
        raise SettingsError(str(exc)) from None


def fits_seed(value: int) -> bool:
    return SEED_RANGE[0] <= value <= SEED_RANGE[1]


def _whole(value: Any) -> int:
    """An integer from an int or its text; booleans and fractions are mistakes."""
    if isinstance(value, bool | float):
        raise ValueError("expected a whole number")
    return int(value)


def _parse_bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def read_config(path: str) -> dict[str, Any]:
    """Read a TOML or JSON config file into setting names → values."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"config file {path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"config file {path}: the top level must be a table/object")
    return {key.replace("-", "_"): value for key, value in data.items()}
