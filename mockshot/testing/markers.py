"""`@pytest.mark.mockshot(...)`: the settings vocabulary, merged closest-wins.

A marker takes any `Settings` field (seed, strict, scenario, balance, tier, variants, ...,
and every setting added later: the vocabulary is Settings', not a copy) plus the plugin's
own options (`assert_all_used`, `cassette`). Markers on the test win over its class's,
which win over its module's; the command line's `--mockshot-seed` is the default a
marker's seed overrides.
Scenario paths are read relative to the test's file when they exist there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..recording.attach import MODES
from ..settings import CONFIG_ONLY, Settings, SettingsError

__all__ = ["FIXTURE_DEFAULTS", "MarkerError", "Options", "options_from"]

PLUGIN_OPTIONS = ("assert_all_used", "cassette")
FIXTURE_DEFAULTS = {"clock": "virtual", "log_level": "warning"}


class MarkerError(ValueError):
    """A marker that names an unknown setting or a value it cannot take."""


@dataclass(frozen=True, slots=True)
class Options:
    settings: Settings
    assert_all_used: bool = True
    cassette: str | None = None  # the test's cassette mode (recording/attach.py), if any


def _cassette(value: Any) -> str | None:
    """`cassette=True` is mode once; a mode by name; False or None: no cassette."""
    if value is True:
        return "once"
    if value is None or value is False:
        return None
    if value not in MODES:
        raise MarkerError(f"@pytest.mark.mockshot: cassette={value!r} is not a mode; use "
                          f"True or one of {', '.join(MODES)}")
    return value


def merged(markers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Marker keyword sets, closest first (as pytest's `iter_markers` yields them), merged
    so the closest wins."""
    out: dict[str, Any] = {}
    for values in reversed(list(markers)):
        out.update(values)
    return out


def _scenarios(value: Any, here: Path | None) -> tuple[str, ...]:
    paths = (value,) if isinstance(value, str | Path) else tuple(value)
    found = []
    for path in map(Path, paths):
        local = here / path if here is not None and not path.is_absolute() else path
        found.append(str(local if local.exists() else path))
    return tuple(found)


def options_from(markers: Iterable[Mapping[str, Any]], seed: int | None = None,
                 here: Path | None = None, base: Mapping[str, Any] | None = None) -> Options:
    """The fixture's settings and options for one test. Raises MarkerError naming what
    the marker may say."""
    values = merged(markers)
    plugin = {name: values.pop(name) for name in PLUGIN_OPTIONS if name in values}
    start = {**FIXTURE_DEFAULTS, **(base or {})}
    if seed is not None:
        start["seed"] = seed
    if "scenario" in values:
        values["scenario"] = _scenarios(values["scenario"], here)
    try:
        settings = Settings().updated({**start, **values})
    except SettingsError as exc:
        allowed = ", ".join(sorted({f.name for f in fields(Settings)} - set(CONFIG_ONLY)
                                    | set(PLUGIN_OPTIONS)))
        raise MarkerError(f"@pytest.mark.mockshot: {exc}; the marker takes: {allowed}") \
            from None
    return Options(settings, bool(plugin.get("assert_all_used", True)),
                   _cassette(plugin.get("cassette")))
