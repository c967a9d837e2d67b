"""Secrets never reach disk: what a recording redacts before it is written.

Always the credentials a client or server sends (`Authorization`, `x-api-key`, cookies),
and any header or JSON field (by key, at any depth of a request or reply body, stream
frames included) the user names. A redacted value reads `[REDACTED]`; the file lists
what was redacted, so a reader knows the recording is not what the wire carried there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from ..scenarios.recorded import frame_bytes, frame_form

__all__ = ["ALWAYS", "REDACTED", "Redaction"]

REDACTED = "[REDACTED]"
ALWAYS = ("authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie")


@dataclass(frozen=True, slots=True)
class Redaction:
    """The header names (lower-case) and JSON keys a recording redacts."""

    headers: frozenset[str] = frozenset(ALWAYS)
    fields: frozenset[str] = frozenset()

    @classmethod
    def of(cls, headers: Iterable[str] = (), fields: Iterable[str] = ()) -> Redaction:
        return cls(frozenset(ALWAYS) | {h.lower() for h in headers}, frozenset(fields))

    def describe(self) -> str:
        """One line for the file: what this recording never keeps."""
        fields = f"; JSON fields {', '.join(sorted(self.fields))}" if self.fields else ""
        return f"secrets redacted before writing: headers {', '.join(sorted(self.headers))}" \
               f"{fields} (each reads {REDACTED})"

    def header_map(self, headers: dict[str, str], where: str,
                   found: list[str]) -> dict[str, str]:
        """`headers` with each secret one's value redacted (its path added to `found`)."""
        out = {}
        for name, value in headers.items():
            if name.lower() in self.headers:
                found.append(f"{where}.{name.lower()}")
                value = REDACTED
            out[name.lower()] = value
        return out

    def value(self, value: Any, where: str, found: list[str]) -> Any:
        """A copy of a JSON value with every named field's value redacted."""
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key in self.fields:
                    found.append(f"{where}.{key}")
                    out[key] = REDACTED
                else:
                    out[key] = self.value(item, f"{where}.{key}", found)
            return out
        if isinstance(value, list):
            return [self.value(item, f"{where}[{i}]", found) for i, item in enumerate(value)]
        return value

    def json_bytes(self, raw: bytes, where: str, found: list[str]) -> bytes:
        """JSON text with the named fields redacted; the same bytes when none is there
        (or it is not JSON), so a reply without secrets replays byte for byte."""
        if not self.fields or not any(f.encode() in raw for f in self.fields):
            return raw
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
        before = len(found)
        redacted = self.value(parsed, where, found)
        return orjson.dumps(redacted) if len(found) > before else raw

    def frame(self, raw: bytes, where: str, found: list[str]) -> bytes:
        """One SSE frame with the named fields of its `data:` JSON redacted."""
        if not self.fields:
            return raw
        form = frame_form(raw, 0)
        if "data" not in form:
            return raw
        data = self.json_bytes(form["data"].encode(), where, found)
        return raw if data == form["data"].encode() else frame_bytes(
            {**form, "data": data.decode()})
