"""Faults: the ways a real API call goes wrong, on demand and reproducibly.

Every fault works on any operation (stream faults only on streams). A fault with a
`probability` applies to that share of calls, drawn from the call's own seeded generator,
so a failing run replays exactly with the same seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import APIError, scripted
from .checks import STREAM_KINDS, fault_problems

__all__ = [
    "STREAM_KINDS",
    "Fault",
    "ResetConnection",
    "apply_stream_fault",
    "before_response",
    "malformed",
    "parse_fault",
    "scalar",
    "stream_error",
    "truncate",
]

KINDS = ("latency", "rate_limit", "overloaded", "server_error", "timeout", "reset",
         "stream_cut", "malformed_frame", "truncated_body", "slow_first_token", "error_frame")
_FIELDS = ("probability", "ms", "max_ms", "after", "done", "retry_after", "bytes", "type",
           "message")


class ResetConnection(Exception):
    """Raised to drop the connection before any response byte is sent."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    probability: float = 1.0
    ms: float = 0.0
    max_ms: float | None = None
    after: int = 0
    done: bool = False
    retry_after: float | None = None
    bytes: int | None = None
    type: str | None = None
    message: str | None = None

    def fires(self, rng: random.Random) -> bool:
        return self.probability >= 1 or rng.random() < self.probability

    def delay(self, rng: random.Random) -> float:
        """Seconds to wait (latency: between ms and max_ms when both are given)."""
        low = self.ms
        high = self.max_ms if self.max_ms is not None else low
        return (low + (high - low) * rng.random()) / 1000

    def error(self, **fill: str) -> APIError | None:
        """The error response this fault answers with before any work, if any."""
        retry = self.retry_after if self.retry_after is not None else 1
        if self.kind == "rate_limit":
            return scripted("rate_limit_reached_error", message=self.message,
                            retry_after=retry, **fill)
        if self.kind == "overloaded":
            return scripted("engine_overloaded_error", message=self.message,
                            retry_after=retry, **fill)
        if self.kind == "server_error":
            return scripted("server_error", message=self.message, **fill)
        if self.kind == "timeout":
            return APIError(504, "server_error", self.message or "upstream request timeout")
        return None


async def before_response(fault: Fault | None, clock, rng: random.Random,
                          **fill: str) -> None:
    """Apply the part of a fault that happens before any response byte: wait, then
    answer an error or drop the connection."""
    if fault is None:
        return
    if fault.kind in ("latency", "timeout"):
        await clock.sleep(fault.delay(rng))
    if fault.kind == "reset":
        raise ResetConnection()
    error = fault.error(**fill)
    if error is not None:
        raise error


def parse_fault(value: dict | str) -> Fault:
    """A fault from its file form (a dict) or header form (`stream_cut:after=3,done=true`)."""
    if isinstance(value, dict):
        data = dict(value)
    else:
        kind, _, rest = value.strip().partition(":")
        data = {"kind": kind.strip()}
        for part in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, raw = part.partition("=")
            if not eq:
                raise ValueError(f"{part!r} is not key=value")
            data[key.strip()] = scalar(raw.strip())
    if data.get("kind") not in KINDS:
        raise ValueError(f"unknown fault kind {data.get('kind')!r}; one of {', '.join(KINDS)}")
    unknown = set(data) - {"kind", *_FIELDS}
    if unknown:
        raise ValueError(f"unknown fault field(s) {', '.join(sorted(unknown))}")
    if not isinstance(value, dict):
        _check_header_form(data)
    if data["kind"] == "timeout" and "ms" not in data:
        data["ms"] = 900_000  # the service's own 900 s, reached instantly on a virtual clock
    return Fault(**data)


def scalar(raw: str) -> object:
    """A header value as the YAML-ish scalar it spells (`true`, `3`, `1e3`, text)."""
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


def _check_header_form(data: dict) -> None:
    """A header's fault obeys the same schema as a scenario file's (types and bounds)."""
    problems = fault_problems(data)
    if problems:
        raise ValueError("; ".join(problems))


def apply_stream_fault(frames: list[bytes], fault: Fault, error_frame: bytes,
                       malformed: bytes, done: bytes) -> list[bytes]:
    """The frames a faulty stream sends instead (slow_first_token is a wait, not here).
    `after` counts frames before the fault; a stream that ends first never meets it, so
    nothing ever follows the stream's end."""
    after = fault.after
    if after >= len(frames) - 1:
        return frames
    keep = frames[:after]
    if fault.kind == "stream_cut":
        return keep + ([done] if fault.done else [])
    if fault.kind == "malformed_frame":
        return [*keep, malformed, *frames[after + 1 :]]
    if fault.kind == "error_frame":
        return [*keep, error_frame]
    return frames


def stream_error(fault: Fault) -> APIError:
    """The error an `error_frame` fault sends mid-stream (default: an overloaded engine)."""
    return scripted(fault.type or "engine_overloaded_error", message=fault.message)


def malformed(frame: bytes) -> bytes:
    """A frame cut off mid-JSON, the way a broken proxy delivers it."""
    return frame[: max(len(frame) // 2, 8)] + b"\n\n"


def truncate(body: bytes, fault: Fault) -> bytes:
    """A JSON body cut short (default: half of it)."""
    return body[: fault.bytes if fault.bytes is not None else len(body) // 2]
