"""One recorded exchange as a scenario rule's parts: the match a replay must meet and the
recorded reply it gets.

The match pins the surface (`chat.openai` or `chat.anthropic`: the bytes are in its
framing), the model, the framing (`stream`) and the conversation (turn, last user
message, the current turn's tool results, with the digest of every message when asked),
each text after the volatile parts the user names are normalised. The reply keeps the
status, the headers that matter, the body or the frames with their waits, the hashes of
the system prompt and tools (for "stale" reports) and the request as sent, all redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.completion import ChatCall
from ..incoming import Incoming
from ..scenarios.conversation import digest, facts, hashes
from ..scenarios.patterns import compile_pattern
from ..scenarios.recorded import body_form, frame_form
from .redaction import Redaction

__all__ = ["Captured", "Options", "match_for", "reply_for"]

MATCHES = ("conversation", "digest")
REQUEST_HEADERS = ("anthropic-version", "anthropic-beta")  # kept beside the secrets


@dataclass(frozen=True, slots=True)
class Options:
    """How exchanges are written: what to normalise, how strictly to match, what to
    redact, and where they came from (for the file's description)."""

    normalise: tuple[str, ...] = ()
    match: str = "conversation"  # "digest": also the digest of every message
    redaction: Redaction = field(default_factory=Redaction)
    source: str = ""

    def __post_init__(self) -> None:
        if self.match not in MATCHES:
            raise ValueError(f"record match must be one of {', '.join(MATCHES)}, "
                             f"not {self.match!r}")
        for pattern in self.normalise:
            compile_pattern(pattern)  # a ValueError with RE2's reason, before any call


@dataclass(slots=True)
class Captured:
    """What the upstream answered: the status, the headers kept, and a whole body (with
    the time it took) or the frames with the wait before each, in milliseconds."""

    status: int
    headers: dict[str, str]
    body: bytes | None = None
    delay_ms: float = 0.0
    frames: list[tuple[bytes, float]] = field(default_factory=list)


def match_for(call: ChatCall, surface: str, options: Options) -> dict[str, Any]:
    """The match a replay of this call must meet."""
    patterns = [compile_pattern(p) for p in options.normalise]
    seen = facts(call.messages, patterns)
    conversation: dict[str, Any] = {"turn": seen.turn, "last_user": seen.last_user}
    if seen.tool_results:
        conversation["tool_results"] = list(seen.tool_results)
    if options.match == "digest":
        conversation["digest"] = digest(call.messages, patterns)
    if options.normalise:
        conversation["normalise"] = list(options.normalise)
    return {"operation": f"chat.{surface}", "model": call.model.id, "stream": call.stream,
            "conversation": conversation}


def _request(incoming: Incoming, redaction: Redaction, found: list[str]) -> dict[str, Any]:
    headers = {name: value for name, value in (incoming.headers or {}).items()
               if name in redaction.headers or name in REQUEST_HEADERS
               or name.startswith("x-mockshot-")}
    out: dict[str, Any] = {}
    if headers:
        out["headers"] = redaction.header_map(headers, "request.headers", found)
    out["body"] = redaction.value(incoming.body, "request.body", found)
    return out


def reply_for(call: ChatCall, incoming: Incoming, captured: Captured,
              options: Options) -> dict[str, Any]:
    """The recorded reply, redacted, in its file form."""
    redaction, found = options.redaction, []
    recorded: dict[str, Any] = {"status": captured.status,
                                "headers": redaction.header_map(captured.headers, "headers",
                                                                found)}
    if captured.body is not None:
        recorded["delay_ms"] = round(captured.delay_ms, 1)
        recorded.update(body_form(redaction.json_bytes(captured.body, "body", found)))
    else:
        recorded["frames"] = [frame_form(redaction.frame(raw, f"frames[{i}]", found), delay)
                              for i, (raw, delay) in enumerate(captured.frames)]
    patterns = [compile_pattern(p) for p in options.normalise]
    recorded["hashes"] = hashes(call.messages, call.tools, patterns)
    request = _request(incoming, redaction, found)
    if found:
        recorded["redacted"] = found
    recorded["request"] = request
    return {"recorded": recorded}
