"""An answer as a client saw it (status, headers, body or SSE events), from a recording
or from calling an app in-process: the two things `mockshot diff` holds side by side.

The app is called as ASGI directly (no socket, no HTTP client), each `http.response.body`
message kept apart: a generated stream's frames are those messages, so a fault asked of
the generator can be placed after as many events as the recording had.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from ..scenarios.recorded import Recorded
from .recorder import split_events

__all__ = ["Answer", "call_app", "recorded_answer"]


@dataclass(slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    events: list[bytes] = field(default_factory=list)  # a stream's SSE events
    chunks: list[bytes] = field(default_factory=list)  # as sent: one per frame

    @property
    def streams(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")


def recorded_answer(recorded: Recorded) -> Answer:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in recorded.headers}
    if recorded.body is not None:
        return Answer(recorded.status, headers, recorded.body)
    headers.setdefault("content-type", "text/event-stream")
    frames = list(recorded.frames)
    return Answer(recorded.status, headers, b"".join(frames), frames, frames)


def _scope(path: str, headers: dict[str, str]) -> dict:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": raw, "scheme": "http", "server": ("mockshot.local", 80),
            "client": ("127.0.0.1", 50000), "root_path": ""}


async def call_app(app: Callable, path: str, headers: dict[str, str], body: bytes) -> Answer:
    """POST `body` to `path` of the ASGI `app`; the whole answer, each frame apart."""
    answer = Answer(0, {})
    sent, finished = False, asyncio.Event()

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode("latin-1"): v.decode("latin-1")
                              for k, v in message.get("headers", [])}
        elif message.get("body"):
            answer.chunks.append(message["body"])

    try:
        await app(_scope(path, headers), receive, send)
    finally:
        finished.set()
    answer.body = b"".join(answer.chunks)
    if answer.streams:
        events, rest = split_events(answer.body)
        answer.events = events + ([rest] if rest else [])
    return answer
