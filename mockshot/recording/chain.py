"""A mock's chain of reply providers when it records.

    a call a rule took:   its recorded reply → its script
    a call none took:     the forwarding recorder → the seeded generator

Recorded replies are a scenario's rules like any other, so the cassette provider is in
every chain (the default one too, replies.py); the recorder, when a mock records,
forwards what no rule answered, before the generator would make it up.
"""

from __future__ import annotations

from pathlib import Path

from ..scenarios.files import scenario_paths
from ..settings import Settings, SettingsError
from ..surfaces.turns import Chain
from .cassettes import Cassette, safe_name
from .exchange import Options
from .recorder import Recorder
from .redaction import Redaction

__all__ = ["options_from", "providers", "providers_for", "recorder_from"]


def providers(recorder: Recorder | None = None) -> Chain:
    """The chain, with `recorder` before the generator when one is given."""
    # imported here: surfaces.replies imports recording.replay, which runs this package's
    # __init__ (and so this module) whichever of the two a program imports first
    from ..surfaces.replies import DEFAULT_CHAIN

    if recorder is None:
        return DEFAULT_CHAIN
    return Chain(DEFAULT_CHAIN.ruled, (recorder, *DEFAULT_CHAIN.unruled))


def options_from(settings: Settings, source: str = "") -> Options:
    """How a mock with these settings writes its recordings."""
    try:
        return Options(settings.record_normalise, settings.record_match,
                       Redaction.of(settings.redact_header, settings.redact_field), source)
    except ValueError as exc:
        raise SettingsError(f"setting record_normalise: {exc}") from None


def recorder_from(settings: Settings) -> Recorder | None:
    """The recorder `record_upstream` asks for (None without one). Its cassette adds to
    the file when that file is also loaded as a scenario (what it holds replays, new
    calls are added), and replaces it otherwise."""
    if settings.record_upstream is None:
        return None
    if not settings.record_out:
        raise SettingsError("setting record_upstream needs record_out: the directory the "
                            "recording is written to")
    if settings.strict:
        raise SettingsError("settings strict and record_upstream cannot be combined: strict "
                            "refuses the calls the recorder would forward")
    options = options_from(settings, settings.record_upstream)
    path = Path(settings.record_out) / f"{safe_name(settings.record_cassette)}.yaml"
    loaded = {Path(p).resolve() for p in scenario_paths(settings.scenario)}
    cassette = Cassette.read(path, options) if path.resolve() in loaded else \
        Cassette(path, options)
    return Recorder(settings.record_upstream, cassette)


def providers_for(settings: Settings) -> Chain | None:
    """The chain a mock with these settings needs (None: the default one)."""
    recorder = recorder_from(settings)
    return providers(recorder) if recorder is not None else None
