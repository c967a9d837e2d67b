"""The recorded reply: bytes another server sent, kept in a scenario file and sent again
verbatim.

    reply:
      recorded:
        status: 200
        headers: {content-type: text/event-stream; charset=utf-8, x-request-id: abc}
        frames:                       # a stream: each SSE event and the wait before it
        - {delay_ms: 412.0, data: '{"id":"chatcmpl-…","choices":[…]}'}
        - {delay_ms: 0.4, data: '[DONE]'}
        hashes: {system: 9c1e…, tools: 51aa…}   # what the call looked like (stale check)
        request: {…}                  # what was sent, secrets redacted (mockshot diff)

A whole reply is `body` (its exact text) with `delay_ms` before it. A frame is
`{data, event?}` when it is one plain `[event: …\\n]data: …\\n\\n` event, which reads as
what it is; anything else (a cut frame, a comment, several data lines) is `raw` text, and
bytes that are not UTF-8 are `base64`, so every recording replays byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Recorded", "base64_problem", "body_form", "frame_bytes", "frame_form",
           "recorded_from_dict"]

_EVENT = re.compile(r"(?:event: ([^\n]*)\n)?data: ([^\n]*)\n\n")


@dataclass(frozen=True, slots=True)
class Recorded:
    """A recorded reply, decoded: what a replay sends and how it paces it."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # as sent: names lower-case, Latin-1
    body: bytes | None = None
    delay: float = 0.0  # seconds before a whole body
    frames: tuple[bytes, ...] = ()
    waits: tuple[float, ...] = ()  # seconds before each frame
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def streams(self) -> bool:
        return self.body is None


def frame_bytes(frame: dict) -> bytes:
    """The exact bytes of one recorded frame (its form checked by checks.py)."""
    if "base64" in frame:
        return base64.b64decode(frame["base64"], validate=True)
    if "raw" in frame:
        return frame["raw"].encode("utf-8")
    event = f"event: {frame['event']}\n" if frame.get("event") is not None else ""
    return f"{event}data: {frame['data']}\n\n".encode()


def frame_form(raw: bytes, delay_ms: float) -> dict:
    """The readable form of one frame: `data`/`event` when that gives back the same
    bytes, else `raw` text, else `base64`."""
    out: dict[str, Any] = {"delay_ms": round(delay_ms, 1)}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        out["base64"] = base64.b64encode(raw).decode("ascii")
        return out
    found = _EVENT.fullmatch(text)
    if found is None:
        out["raw"] = text
        return out
    if found.group(1) is not None:
        out["event"] = found.group(1)
    out["data"] = found.group(2)
    return out


def body_form(raw: bytes) -> dict:
    """A whole body as its text, or base64 when it is not UTF-8."""
    try:
        return {"body": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(raw).decode("ascii")}


def recorded_from_dict(data: dict) -> Recorded:
    """A recorded reply from its file form (already checked)."""
    headers = tuple((str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
                    for k, v in (data.get("headers") or {}).items())
    frames = data.get("frames")
    hashes = dict(data.get("hashes") or {})
    if frames is not None:
        return Recorded(int(data["status"]), headers, None, 0.0,
                        tuple(frame_bytes(f) for f in frames),
                        tuple(float(f.get("delay_ms", 0)) / 1000 for f in frames), hashes)
    if "body_base64" in data:
        body = base64.b64decode(data["body_base64"], validate=True)
    else:
        body = str(data.get("body", "")).encode("utf-8")
    return Recorded(int(data["status"]), headers, body,
                    float(data.get("delay_ms", 0)) / 1000, hashes=hashes)


def base64_problem(text: object) -> str | None:
    """Why `text` is not base64 (None: it is)."""
    try:
        base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError) as exc:
        return f"not valid base64: {exc}"
    return None
