"""Validating a batch's input file, line by line (reference §11.1).

Each non-blank line must be a JSON object `{custom_id, method: "POST", url:
"/v1/chat/completions", body: {model, ...}}` with a `custom_id` no other line has, and every
line must name the same model, one batches can run. A file that breaks any of these fails
the batch; the reasons are the batch's `errors` (OpenAI's shape: code, message, param,
line; the service's own texts are not captured). A body the chat endpoint would refuse is
not a validation failure: that line is answered with the chat endpoint's error, in the
error file.

Batch models: kimi-k2.5 and kimi-k2.6, the two the batch guide allows (not K3), plus any
model the config file adds or overrides — configuring a model is how a user says it exists
for them, batches included. The file is read in chunks, with a yield to the event loop
between them, and only an index is kept: the byte offset of every `step`-th line, the runs
in which readers later claim lines.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from ...state.blobs import Blobs

__all__ = ["BATCH_MODELS", "Checked", "blob_lines", "check_input", "split_lines"]

BATCH_MODELS = ("kimi-k2.5", "kimi-k2.6")
URL = "/v1/chat/completions"
MOST_ERRORS = 100
RUNS = 50  # a batch is claimed in about this many runs, each at most MAX_STEP lines
MAX_STEP = 64
YIELD_EVERY = 2000  # lines validated between yields to the event loop


@dataclass(frozen=True, slots=True)
class Checked:
    """What validation found: the lines, their model and index, or why the file fails."""

    lines: int
    model: str | None
    step: int
    offsets: tuple[int, ...]
    errors: tuple[dict, ...]


def step_for(lines: int) -> int:
    return max(1, min(MAX_STEP, math.ceil(lines / RUNS)))


def error(code: str, message: str, line: int | None, param: str | None = None) -> dict:
    return {"code": code, "message": message, "param": param, "line": line}


class _Lines:
    """The checks that span lines: unique custom_ids, one model, the errors so far."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed, self.ids, self.model = allowed, set(), None
        self.errors: list[dict] = []

    def check(self, raw: bytes, number: int) -> None:
        problem = self._problem(raw, number)
        if problem is not None and len(self.errors) < MOST_ERRORS:
            self.errors.append(problem)

    def _problem(self, raw: bytes, number: int) -> dict | None:
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return error("invalid_json_line", "This line is not parseable as valid JSON.", number)
        if not isinstance(line, dict):
            return error("invalid_json_line", "Each line must be a JSON object.", number)
        return self._shape(line, number) or self._model(line["body"].get("model"), number)

    def _shape(self, line: dict, number: int) -> dict | None:
        custom_id = line.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            return error("missing_required_parameter",
                         "custom_id is required: a non-empty string naming the request.",
                         number, "custom_id")
        if custom_id in self.ids:
            return error("duplicate_custom_id", f"The custom_id {custom_id!r} is used by an "
                         "earlier line; each line needs its own.", number, "custom_id")
        self.ids.add(custom_id)
        if line.get("method") != "POST":
            return error("invalid_method", "method must be POST.", number, "method")
        if line.get("url") != URL:
            return error("invalid_url", f"url must be {URL}, the batch's endpoint.", number,
                         "url")
        if not isinstance(line.get("body"), dict):
            return error("missing_required_parameter", "body is required: the chat "
                         "completion request, a JSON object.", number, "body")
        return None

    def _model(self, model: object, number: int) -> dict | None:
        if not isinstance(model, str):
            return error("missing_required_parameter", "body.model is required.", number,
                         "body.model")
        if self.model is None:
            self.model = model
        elif model != self.model:
            return error("mismatched_model", f"Every line must use the same model: line uses "
                         f"{model}, earlier lines {self.model}.", number, "body.model")
        if model not in self.allowed:
            return error("model_not_found", f"The model {model} cannot be used in a batch; "
                         f"batches run {' or '.join(sorted(self.allowed))}.", number,
                         "body.model")
        return None


def split_lines(data: bytes, base: int) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of `data` with their offsets (from `base`); the bytes after the
    last newline are not a line yet."""
    start = 0
    while (end := data.find(b"\n", start)) != -1:
        if data[start:end].strip():
            yield base + start, data[start:end]
        start = end + 1


def blob_lines(blobs: Blobs, key: str) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a blob with their offsets, read a MiB at a time."""
    size, tail = 0, b""
    for piece in blobs.chunks(key, 1 << 20):
        data, base = tail + piece, size - len(tail)
        yield from split_lines(data, base)
        tail = data[data.rfind(b"\n") + 1:]
        size += len(piece)
    if tail.strip():
        yield size - len(tail), tail


async def check_input(blobs: Blobs, key: str, allowed: frozenset[str]) -> Checked:
    """Validate the input blob `key`; its index, or the errors that fail the batch."""
    lines, offsets = _Lines(allowed), []
    for offset, raw in blob_lines(blobs, key):
        offsets.append(offset)
        lines.check(raw, len(offsets))
        if len(offsets) % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a 100 MB file must not hold the loop
    if not offsets:
        lines.errors.append(error("empty_file", "The input file has no requests.", None))
    step = step_for(len(offsets))
    return Checked(len(offsets), lines.model, step, (*offsets[::step], blobs.size(key)),
                   tuple(lines.errors))
