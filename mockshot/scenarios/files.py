"""Scenario files (YAML or JSON): read them, and report each mistake with file and line.

Both formats are parsed through PyYAML's node tree (JSON is YAML), so every value keeps the
line it came from; `check_files` turns each `Problem` (a JSON path) into `file:line`. YAML
is read by `documents.parse_yaml`, which no document can make explode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .checks import Problem, check_document
from .documents import parse_yaml

__all__ = ["ScenarioFileError", "check_files", "read_scenario_file", "scenario_paths"]

SUFFIXES = (".yaml", ".yml", ".json")


class ScenarioFileError(ValueError):
    """A scenario file that cannot be read or parsed (the message has file and line)."""


def _load(path: str) -> tuple[Any, yaml.Node | None]:
    """The document and, for line numbers, its YAML node tree. A `.json` file is read as
    JSON (tabs and `1e3` mean what JSON says); its lines come from the same text read
    as YAML, with tabs as spaces."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot read: {exc}") from None
    try:
        if path.endswith(".json"):
            return _json(path, text), _nodes(text.replace("\t", " "))
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioFileError(f"{path}{line}: not valid YAML/JSON: "
                                f"{getattr(exc, 'problem', exc)}") from None
    except RecursionError:  # json.loads past ~1000 levels
        raise ScenarioFileError(f"{path}: nested too deeply to read") from None


def _json(path: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioFileError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None


def _nodes(text: str) -> yaml.Node | None:
    try:
        return parse_yaml(text)[1]
    except yaml.YAMLError:
        return None  # lines are a help, not a requirement


def read_scenario_file(path: str) -> dict:
    """The document in `path`, checked; raises ScenarioFileError listing every mistake."""
    data, node = _load(path)
    problems = check_document(data)
    if problems:
        raise ScenarioFileError("\n".join(_report(path, node, p) for p in problems))
    return data


def _line(node: yaml.Node | None, path: tuple) -> int:
    """The line of the deepest part of `path` that exists (1-based): a mapping entry's
    key line, a list item's first line."""
    best = node.start_mark.line + 1 if node is not None else 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            best, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
            best = node.start_mark.line + 1
        else:
            break
    return best


def _report(path: str, node: yaml.Node | None, problem: Problem) -> str:
    return f"{path}:{_line(node, problem.path)}: {problem.where()}: {problem.message}"


def scenario_paths(paths: list[str] | tuple[str, ...]) -> list[str]:
    """`paths` with each directory replaced by the scenario files under it (`.yaml`,
    `.yml`, `.json`, at any depth, in name order): a recorded directory is a scenario."""
    out: list[str] = []
    for path in paths:
        if not Path(path).is_dir():
            out.append(path)
            continue
        found = sorted(str(p) for p in Path(path).rglob("*")
                       if p.suffix in SUFFIXES and p.is_file())
        if not found:
            raise ScenarioFileError(f"{path}: a directory with no scenario files "
                                    f"({', '.join(SUFFIXES)}) in it")
        out.extend(found)
    return out


def check_files(paths: list[str]) -> list[str]:
    """Every mistake in every file (or directory of files), one line each
    (`file:line: where: what`)."""
    lines: list[str] = []
    for given in paths:
        try:
            found = scenario_paths([given])
        except ScenarioFileError as exc:
            lines.append(str(exc))
            continue
        for path in found:
            try:
                data, node = _load(path)
            except ScenarioFileError as exc:
                lines.append(str(exc))
                continue
            lines.extend(_report(path, node, p) for p in check_document(data))
    return lines
