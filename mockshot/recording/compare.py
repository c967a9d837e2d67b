"""Where two answers to the same request differ in shape: the lines of a drift report.

Compared: the status; the headers that matter (`Retry-After` present or not, the media
type); the framing (a stream or a whole body); for a body, the fields present on one
side only, the types at each shared path, the format of each id, and an error's type and
message (numbers and ids read as placeholders); for a stream, the sequence of chunk
kinds, each kind's fields, types and ids, and where usage is carried.
"""

from __future__ import annotations

from typing import Any

import orjson

from .answers import Answer
from .shapes import Paths, generalise, json_paths, stream_shape

__all__ = ["differences"]

MOST_LISTED = 8  # paths named in one line before "and N more"


def _listed(paths: set[str]) -> str:
    shown = sorted(paths)
    more = f" and {len(shown) - MOST_LISTED} more" if len(shown) > MOST_LISTED else ""
    return ", ".join(shown[:MOST_LISTED]) + more


def _paths(recorded: tuple[Paths, Paths], generated: tuple[Paths, Paths],
           where: str) -> list[str]:
    (r_types, r_ids), (g_types, g_ids) = recorded, generated
    out = []
    if only := set(r_types) - set(g_types):
        out.append(f"{where}fields only in the recording: {_listed(only)}")
    if only := set(g_types) - set(r_types):
        out.append(f"{where}fields only in mockshot's: {_listed(only)}")
    for path in sorted(set(r_types) & set(g_types)):
        if r_types[path] != g_types[path]:
            out.append(f"{where}type at {path}: recorded {'|'.join(sorted(r_types[path]))}, "
                       f"mockshot {'|'.join(sorted(g_types[path]))}")
    for path in sorted(set(r_ids) & set(g_ids)):
        if r_ids[path] != g_ids[path]:
            out.append(f"{where}id format at {path}: recorded {', '.join(sorted(r_ids[path]))}"
                       f"; mockshot {', '.join(sorted(g_ids[path]))}")
    return out


def _error(body: Any) -> dict | None:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _error_lines(recorded: Any, generated: Any) -> list[str]:
    r_error, g_error = _error(recorded), _error(generated)
    if r_error is None or g_error is None:
        return []
    out = []
    if r_error.get("type") != g_error.get("type"):
        out.append(f"error type: recorded {r_error.get('type')}, mockshot {g_error.get('type')}")
    r_text, g_text = (generalise(str(e.get("message", ""))) for e in (r_error, g_error))
    if r_text != g_text:
        out.append(f"error message: recorded {r_text!r}; mockshot {g_text!r}")
    return out


def _bodies(recorded: bytes, generated: bytes) -> list[str]:
    try:
        r_body, g_body = orjson.loads(recorded), orjson.loads(generated)
    except orjson.JSONDecodeError:
        r_ok, g_ok = _parses(recorded), _parses(generated)
        return [] if r_ok == g_ok else [
            f"body: the recording's is {'' if r_ok else 'not '}JSON, mockshot's is "
            f"{'' if g_ok else 'not '}JSON"]
    return _paths(json_paths(r_body), json_paths(g_body), "") + _error_lines(r_body, g_body)


def _parses(raw: bytes) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return True


def _streams(recorded: Answer, generated: Answer, surface: str) -> list[str]:
    r_shape, g_shape = stream_shape(recorded.events, surface), stream_shape(generated.events,
                                                                            surface)
    out = []
    if r_shape.sequence != g_shape.sequence:
        out.append(f"chunk sequence: recorded {', '.join(r_shape.sequence)}; mockshot "
                   f"{', '.join(g_shape.sequence)}")
    if r_shape.usage != g_shape.usage:
        out.append(f"usage placement: recorded {', '.join(sorted(r_shape.usage)) or 'none'}; "
                   f"mockshot {', '.join(sorted(g_shape.usage)) or 'none'}")
    for kind in r_shape.sequence:
        if kind in r_shape.kinds and kind in g_shape.kinds:
            out.extend(_paths(r_shape.kinds.pop(kind), g_shape.kinds.pop(kind),
                              f"{kind} chunks: "))
    errors = [_event_error(answer.events) for answer in (recorded, generated)]
    return out + _error_lines(*errors)


def _event_error(events: list[bytes]) -> Any:
    for event in events:
        _, _, data = event.partition(b"data: ")
        if b'"error"' in data:
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:
                continue
    return None


def _headers(recorded: Answer, generated: Answer) -> list[str]:
    out = []
    r_retry, g_retry = ("retry-after" in a.headers for a in (recorded, generated))
    if r_retry != g_retry:
        side = "the recording" if r_retry else "mockshot's reply"
        out.append(f"header retry-after: only in {side}")
    r_type, g_type = (a.headers.get("content-type", "").split(";")[0].strip()
                      for a in (recorded, generated))
    if r_type != g_type:
        out.append(f"content type: recorded {r_type or 'none'}, mockshot {g_type or 'none'}")
    return out


def differences(recorded: Answer, generated: Answer, surface: str) -> list[str]:
    """Each way `generated` differs in shape from `recorded` (empty: they agree)."""
    out = []
    if recorded.status != generated.status:
        out.append(f"status: recorded {recorded.status}, mockshot {generated.status}")
    out.extend(_headers(recorded, generated))
    if recorded.streams != generated.streams:
        return [*out, f"framing: recorded {'a stream' if recorded.streams else 'a whole body'}"
                      f", mockshot {'a stream' if generated.streams else 'a whole body'}"]
    if recorded.streams:
        return out + _streams(recorded, generated, surface)
    return out + _bodies(recorded.body, generated.body)
