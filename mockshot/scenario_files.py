"""Scenario files (YAML or JSON): read them, and report each mistake with file and line.

Both formats are parsed through PyYAML's node tree (JSON is YAML), so every value keeps the
line it came from; `check_files` turns each `Problem` (a JSON path) into `file:line`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .scenarios import Problem, check_document

__all__ = ["ScenarioFileError", "check_files", "read_scenario_file"]


class ScenarioFileError(ValueError):
    """A scenario file that cannot be read or parsed (the message has file and line)."""


def _load(path: str) -> tuple[Any, yaml.Node | None]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot read: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioFileError(f"{path}{line}: not valid YAML/JSON: "
                                f"{getattr(exc, 'problem', exc)}") from None
    return data, node


def read_scenario_file(path: str) -> dict:
    """The document in `path`, checked; raises ScenarioFileError listing every mistake."""
    data, node = _load(path)
    problems = check_document(data)
    if problems:
        raise ScenarioFileError("\n".join(_report(path, node, p) for p in problems))
    return data


def _line(node: yaml.Node | None, path: tuple) -> int:
    """The line of the deepest node of `path` that exists (1-based)."""
    best = node.start_mark.line + 1 if node is not None else 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        best = node.start_mark.line + 1
    return best


def _report(path: str, node: yaml.Node | None, problem: Problem) -> str:
    return f"{path}:{_line(node, problem.path)}: {problem.where()}: {problem.message}"


def check_files(paths: list[str]) -> list[str]:
    """Every mistake in every file, one line each (`file:line: where: what`)."""
    lines: list[str] = []
    for path in paths:
        try:
            data, node = _load(path)
        except ScenarioFileError as exc:
            lines.append(str(exc))
            continue
        lines.extend(_report(path, node, p) for p in check_document(data))
    return lines
