"""Putting a cassette on a mock, in one of four modes (the vocabulary of VCR.py):

| mode | the cassette exists | it does not |
|---|---|---|
| `once` (default) | replayed | recorded from the upstream |
| `replay` | replayed | an error: nothing to replay |
| `record` | recorded again, replacing it | recorded |
| `new` | replayed, and calls it does not match recorded into it | recorded |

This is what a per-test fixture calls (the pytest plugin, or any runner):
`use_cassette(mock, cassette_path(root, node_id), mode, upstream=...)` before the test,
and the cassette is written as each exchange ends. Replayed calls no recording matches
go to the generator, or fail with the nearest recordings when `strict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..mock import Mock
from ..scenarios.files import read_scenario_file
from .cassettes import Cassette
from .chain import providers
from .exchange import Options
from .recorder import Recorder

__all__ = ["MODES", "CassetteError", "InUse", "use_cassette"]

MODES = ("once", "replay", "record", "new")


class CassetteError(ValueError):
    """A cassette that cannot be used as asked (the message says what to do)."""


@dataclass(slots=True)
class InUse:
    """A cassette on a mock: its file, what this use does (`replay`, `record`, `new`)
    and, when it records, the recorder (`recorder.cassette.recorded` counts exchanges)."""

    path: Path
    mode: str
    recorder: Recorder | None = None

    @property
    def recorded(self) -> int:
        return self.recorder.cassette.recorded if self.recorder else 0


def _effective(mode: str, path: Path) -> str:
    if mode not in MODES:
        raise CassetteError(f"cassette mode {mode!r} is not one of {', '.join(MODES)}")
    if mode == "once":
        return "replay" if path.exists() else "record"
    if mode == "replay" and not path.exists():
        raise CassetteError(f"no cassette at {path} to replay: record it first (mode 'once' "
                            "or 'record', with an upstream)")
    return mode


def use_cassette(mock: Mock, path: str | Path, mode: str = "once", *,
                 upstream: str | None = None, options: Options | None = None,
                 strict: bool = False, transport: Any = None) -> InUse:
    """Put the cassette at `path` on `mock` (before `create_app`, or any time after: the
    chain is the mock's). `strict` makes a replay refuse calls it has no recording of."""
    path = Path(path)
    effective = _effective(mode, path)
    if effective in ("replay", "new"):
        for part in Cassette(path).part_files():
            document = read_scenario_file(str(part))
            mock.scenarios.load_sync({**document, "strict": strict or document.get("strict",
                                                                                   False)},
                                     f"{part}: ")
    if effective == "replay":
        return InUse(path, effective)
    if upstream is None:
        raise CassetteError(f"recording {path} needs an upstream URL (mode {mode!r}, "
                            f"{'an existing' if path.exists() else 'no'} cassette)")
    options = options or Options(source=upstream)
    cassette = Cassette.read(path, options) if effective == "new" and path.exists() \
        else Cassette(path, options)
    recorder = Recorder(upstream, cassette, transport)
    mock.providers = providers(recorder)
    return InUse(path, effective, recorder)
