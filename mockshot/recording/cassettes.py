"""Cassettes: recording files, one per session or per test, each an ordinary scenario.

A cassette is a scenario document (`scenario: <its name>`) whose rules are recorded
exchanges. Calls with the same match (the same conversation, surface, model and framing)
are one rule with their replies in order, the scenario's own "first unused, then the last
one again": a 429 and the retry that succeeded replay as a 429 and then a success. The
file is rewritten whole after every exchange (to a temporary name, then renamed), so an
interrupted session leaves every exchange it finished and never half a file. A session
too long for one scenario document (`MAX_DOCUMENT_VALUES`) goes on in `<name>-part2.yaml`
and so on, each part a document of the same scenario well within the bound.

Per-test cassettes are named from the test's node id (`cassette_path`), so a suite's
recordings sit beside its tests, and `serve --scenario DIR` replays them all.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import orjson
import yaml

from ..limits import MAX_DOCUMENT_VALUES
from ..scenarios.files import read_scenario_file
from .exchange import Options

__all__ = ["Cassette", "cassette_path", "safe_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]+")
MOST_NAME = 100  # characters of a file name taken from a node id (then a hash)
PART_VALUES = MAX_DOCUMENT_VALUES // 2  # values a part holds before the next one starts


class _Flow(dict):
    """A mapping written on one line (frames, headers, hashes)."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # repeated values are written out again
        return True


# Characters YAML reads back as something else unless escaped (line breaks of its own such
# as NEL, control characters, a byte-order mark): such a text is written double-quoted.
_ESCAPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if _ESCAPED.search(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(_Flow, lambda dumper, value: dumper.represent_mapping(
    "tag:yaml.org,2002:map", value, flow_style=True))


def _flowing(reply: dict) -> dict:
    recorded = dict(reply["recorded"])
    for key in ("headers", "hashes"):
        if key in recorded:
            recorded[key] = _Flow(recorded[key])
    if "frames" in recorded:
        recorded["frames"] = [_Flow(frame) for frame in recorded["frames"]]
    return {**reply, "recorded": recorded}


def _key(match: dict) -> bytes:
    return orjson.dumps(match, option=orjson.OPT_SORT_KEYS)


def _values(node: Any) -> int:
    """The values a document part holds, counted as the scenario checks count them."""
    count, stack = 0, [node]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _parts(rules: list[dict]) -> list[list[dict]]:
    """The rules in order, cut into parts of at most `PART_VALUES` values each (a rule
    is never cut: one larger than that is a part of its own)."""
    parts: list[list[dict]] = [[]]
    size = 0
    for rule in rules:
        cost = _values(rule)
        if parts[-1] and size + cost > PART_VALUES:
            parts.append([])
            size = 0
        parts[-1].append(rule)
        size += cost
    return parts


class Cassette:
    """One recording file: its rules in the order first seen, each with its replies."""

    def __init__(self, path: str | Path, options: Options | None = None,
                 scenario: str | None = None) -> None:
        self.path = Path(path)
        self.options = options or Options()
        self.scenario = scenario or safe_name(self.path.stem)
        self.rules: list[dict] = []
        self._by_match: dict[bytes, dict] = {}
        self.recorded = 0  # exchanges added since this object was made

    def part_path(self, number: int) -> Path:
        """The file of part `number` (1 is the cassette's own path)."""
        if number == 1:
            return self.path
        return self.path.with_name(f"{self.path.stem}-part{number}{self.path.suffix}")

    def part_files(self) -> list[Path]:
        """The files this cassette has on disk, part 1 first."""
        found, number = [], 1
        while self.part_path(number).exists():
            found.append(self.part_path(number))
            number += 1
        return found

    @classmethod
    def read(cls, path: str | Path, options: Options | None = None) -> Cassette:
        """The cassette at `path` (and its parts), checked, to add more exchanges to."""
        cassette = cls(path, options)
        for file in cassette.part_files():
            document = read_scenario_file(str(file))
            cassette.scenario = document.get("scenario", cassette.scenario)
            for rule in document["rules"]:
                cassette.rules.append(rule)
                cassette._by_match.setdefault(_key(rule.get("match") or {}), rule)
        return cassette

    def add(self, match: dict, reply: dict) -> None:
        """One more exchange: a new rule, or the next reply of the rule with its match."""
        self.recorded += 1
        rule = self._by_match.get(_key(match))
        if rule is None:
            rule = {"name": f"{self.scenario}-{len(self.rules) + 1}", "match": match,
                    "reply": reply}
            self.rules.append(rule)
            self._by_match[_key(match)] = rule
            return
        replies = rule["reply"] if isinstance(rule["reply"], list) else [rule["reply"]]
        rule["reply"] = [*replies, reply]

    def document(self, rules: list[dict] | None = None) -> dict:
        """The scenario document this cassette (or the part holding `rules`) is."""
        source = f" from {self.options.source}" if self.options.source else ""
        return {"scenario": self.scenario,
                "description": f"Recorded by mockshot{source}; "
                               f"{self.options.redaction.describe()}.",
                "rules": self.rules if rules is None else rules}

    def text(self, rules: list[dict] | None = None) -> str:
        """A file's text: a header comment, then the document as YAML."""
        document = self.document(rules)
        document["rules"] = [{**rule, "reply": [_flowing(r) for r in rule["reply"]]
                              if isinstance(rule["reply"], list) else _flowing(rule["reply"])}
                             for rule in document["rules"]]
        body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         width=1 << 16, default_flow_style=False)
        return ("# A mockshot recording: each rule is an exchange replayed byte for byte by\n"
                "# `mockshot serve --scenario <this file or its directory>`.\n"
                f"# {self.options.redaction.describe()}.\n{body}")

    def save(self) -> None:
        """Write each part whole (to a temporary name beside it, then renamed over it),
        and remove parts a shorter cassette no longer has."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        parts = _parts(self.rules)
        for number, rules in enumerate(parts, 1):
            path = self.part_path(number)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temporary.write_text(self.text(rules), encoding="utf-8")
            os.replace(temporary, path)
        for stale in self.part_files()[len(parts):]:
            stale.unlink()


def safe_name(text: str) -> str:
    """A file-name-safe form of `text`: unsafe runs become `_`, a long one is cut and
    told apart by a hash of the whole."""
    safe = _UNSAFE.sub("_", text).strip("._") or "_"
    if len(safe) <= MOST_NAME:
        return safe
    digest = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
    return f"{safe[:MOST_NAME]}-{digest}"


def cassette_path(root: str | Path, node_id: str) -> Path:
    """The cassette of one test: `tests/test_app.py::TestChat::test_hi[x]` →
    `root/tests/test_app/TestChat.test_hi[x].yaml` (every part made file-name safe)."""
    module, _, name = node_id.partition("::")
    parts = [safe_name(part) for part in Path(module).with_suffix("").parts
             if part not in ("", ".", "..", "/")]
    return Path(root).joinpath(*parts, safe_name(name.replace("::", ".") or "module") + ".yaml")
