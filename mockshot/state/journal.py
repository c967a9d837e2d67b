"""The journal's entries: one typed record per API call, and the bounded copy of its body.

An entry is built once, when the call is settled, and handed to the store; what happens
later (chunks a stream sent, a client hanging up) reaches it through `Store.update`, never
by mutating an entry the store already holds. Bodies are kept as the bytes the client sent,
cut at `BODY_CAP` with the cut marked, so an entry is always encodable (it is embedded
verbatim, never re-encoded) and the journal's memory is bounded by `journal_size * cap`.
The reply is kept the same way, as text: a JSON reply's body, or a stream's frames with
the moment each was due, at most `BODY_CAP` bytes of either (what the console shows).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import orjson

__all__ = ["BODY_CAP", "JournalEntry", "body_copy", "reply_copy", "stream_copy"]

BODY_CAP = 64 * 1024  # bytes of each request body the journal keeps


@dataclass(slots=True)
class JournalEntry:
    """What one call was and how it went (the control API shows these fields)."""

    operation: str  # "POST /v1/chat/completions"
    account: str
    status: int
    at: float  # the clock's time when the call was settled
    elapsed_ms: float
    seed: int  # the replay seed: send it as X-Mockshot-Seed to get this reply again
    surface: str = "openai"
    model: str | None = None
    request: bytes | None = None  # the body as sent, at most BODY_CAP bytes
    request_bytes: int = 0  # the body's full size
    request_is_json: bool = False  # the body parsed as JSON (else it is shown as text)
    rule: str | None = None
    rule_use: int | None = None
    ordinal: int | None = None  # identical calls before this one (unseeded generator calls)
    fault: str | None = None
    cost: float = 0.0  # USD the call was charged
    unmatched: bool = False
    reset: bool = False
    chunks_sent: int | None = None
    disconnected: bool | None = None
    error: str | None = None  # the error type answered (429s, 400s, scripted errors)
    retry_after: float | None = None  # the Retry-After the answer carried, seconds
    served: tuple[str, ...] = ()  # what the reply was: stream, tool_calls, finish:length...
    variants: tuple[str, ...] = ()  # the conformance variations this stream was served
    violation: dict | None = None  # the contract rule a refused request broke
    reply: bytes | None = None  # the reply body as sent, at most BODY_CAP bytes of it
    reply_bytes: int = 0  # the reply body's full size (a stream's: all its frames')
    frames: tuple[bytes, ...] = ()  # a stream's frames as planned, while BODY_CAP lasts
    frame_ms: tuple[float, ...] = ()  # when each of them was due, ms after the reply began
    id: int = 0  # given by the store on append

    @classmethod
    def from_fields(cls, data: dict[str, Any], **more: Any) -> JournalEntry:
        """An entry from its JSON fields (`portable`'s: lists back to tuples, the reply's
        text back to bytes)."""
        for name in TUPLES:
            if name in data:
                data[name] = tuple(data[name])
        if data.get("reply") is not None:
            data["reply"] = data["reply"].encode()
        if data.get("frames"):
            data["frames"] = tuple(frame.encode() for frame in data["frames"])
        return cls(**data, **more)

    def portable(self, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The fields as JSON values, for a store that keeps entries as JSON (the reply
        is text: the mock's replies are UTF-8, and a cut one is cut with its cut marked)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        if data.get("reply") is not None:
            data["reply"] = data["reply"].decode("utf-8", "replace")
        if data.get("frames"):
            data["frames"] = [frame.decode("utf-8", "replace") for frame in data["frames"]]
        return data

    @property
    def truncated(self) -> bool:
        return self.request is not None and len(self.request) < self.request_bytes

    @property
    def body(self) -> Any:
        """The request body as JSON values (None when there was none, or it was cut)."""
        if self.request is None or self.truncated or not self.request_is_json:
            return None
        return orjson.loads(self.request)

    def shown_request(self) -> Any:
        """The body for a JSON view: embedded as sent when whole, else a marked cut."""
        if self.request is None:
            return None
        if self.request_is_json and not self.truncated:
            return orjson.Fragment(self.request)
        return {"truncated": self.truncated, "bytes": self.request_bytes,
                "text": self.request.decode("utf-8", "replace")}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


TUPLES = ("served", "variants", "frames", "frame_ms")  # JSON lists that are tuples here
UPDATABLE = frozenset({"chunks_sent", "disconnected", "status", "fault"})
FIELDS = frozenset(f.name for f in fields(JournalEntry))


def body_copy(raw: bytes | None) -> tuple[bytes | None, int]:
    """The bounded copy of a body the journal keeps, and the body's full size."""
    if raw is None:
        return None, 0
    return (raw if len(raw) <= BODY_CAP else raw[:BODY_CAP]), len(raw)


def reply_copy(body: bytes | None) -> tuple[bytes | None, int]:
    """The bounded copy of a reply body the journal keeps (the body itself when it fits:
    bytes never change), and the body's full size."""
    if body is None:
        return None, 0
    return (body if len(body) <= BODY_CAP else body[:BODY_CAP]), len(body)


def stream_copy(frames: list[bytes], waits: list[float]) -> tuple[tuple[bytes, ...],
                                                                  tuple[float, ...], int]:
    """A stream's frames while `BODY_CAP` lasts, when each was due (ms; `waits[i]` is the
    pause before frame i), and all the frames' size."""
    kept: list[bytes] = []
    due: list[float] = []
    room, total, at = BODY_CAP, 0, 0.0
    for index, frame in enumerate(frames):
        total += len(frame)
        at += waits[index] if index < len(waits) else 0.0
        if len(frame) <= room:
            room -= len(frame)
            kept.append(frame)
            due.append(round(at * 1000, 3))
        else:
            room = 0
    return tuple(kept), tuple(due), total
