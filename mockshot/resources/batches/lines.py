"""Answering one line of a batch: the same chat call a live request makes, as a result line.

The line's body goes through the chat endpoint's own steps — `parse_chat` (the model's
schema, the rules a schema cannot say, `ms://` files of the batch's account) and
`take_turn` (balance, scenario rules, the seeded generator) — as an `Incoming` marked
`batch`, so it is billed at the batch price and kept outside the tier's live limits. It
is settled (charged and journaled, surface `batch`) like a live call, so a line replays
from its journal seed.

Result lines (reference §11.3): `{"id", "custom_id", "response": {"status_code",
"request_id": "", "body"}, "error": null}`, with `id` = `custom_id` as in the guide. A body
the live endpoint refuses gets its status and error body, and goes to the error file. A
batch answers in JSON only, so `stream` and `stream_options` are ignored.
"""

from __future__ import annotations

import time

import orjson

from ...errors import APIError
from ...incoming import Incoming
from ...mock import Mock
from ...scenarios.faults import ResetConnection
from ...state.journal import JournalEntry, body_copy, reply_copy
from ...state.records import BatchRecord
from ...surfaces.openai_chat import parse_chat
from ...surfaces.openai_format import completion_body
from ...surfaces.replies import take_turn
from ..files.references import referenced_files

__all__ = ["OPERATION", "answer_line", "unanswered_line"]

OPERATION = "POST /v1/chat/completions"
NOT_RUN = {
    "expired": ("batch_expired",
                "This request could not be executed before the completion window expired."),
    "cancelled": ("batch_cancelled",
                  "This request was not executed because the batch was cancelled."),
}


def result_line(custom_id: str, status: int, body: bytes | dict) -> bytes:
    body = orjson.Fragment(body) if isinstance(body, bytes) else body
    return orjson.dumps({"id": custom_id, "custom_id": custom_id,
                         "response": {"status_code": status, "request_id": "", "body": body},
                         "error": None}) + b"\n"


def unanswered_line(custom_id: str, status: str) -> bytes:
    """The error-file line of a request the batch never ran (it expired or was cancelled)."""
    code, message = NOT_RUN[status]
    return orjson.dumps({"id": custom_id, "custom_id": custom_id, "response": None,
                         "error": {"code": code, "message": message}}) + b"\n"


def line_incoming(batch: BatchRecord, body: dict, raw: bytes) -> Incoming:
    entry = JournalEntry(OPERATION, batch.account, 0, 0.0, 0.0, batch.seed, "batch")
    return Incoming(OPERATION, batch.account, "batch", body=body, headers={}, key=batch.key,
                    raw=raw, seed=batch.seed, pinned=batch.pinned, scenario=batch.scenario,
                    batch=True, entry=entry)


async def answer_line(mock: Mock, batch: BatchRecord, raw: bytes) -> tuple[bytes, bool]:
    """The result line for one validated input line, and whether it succeeded."""
    started = time.perf_counter()
    line = orjson.loads(raw)
    body = {k: v for k, v in line["body"].items() if k not in ("stream", "stream_options")}
    incoming = line_incoming(batch, body, orjson.dumps(body))
    try:
        await referenced_files(mock.store, incoming)
        call = parse_chat(mock, incoming, body)
        turn = await take_turn(mock, incoming, call)
        status, reply = 200, completion_body(turn.completion)
    except APIError as refused:
        status, reply = refused.status, refused.body()
    except ResetConnection:  # a scripted `reset` fault: what the client would have seen
        status, reply = 500, APIError(500, "server_error", "connection reset").body()
    await settle(mock, incoming, status, started, orjson.dumps(reply)
                 if isinstance(reply, dict) else reply)
    return result_line(line["custom_id"], status, reply), status == 200


async def settle(mock: Mock, incoming: Incoming, status: int, started: float,
                 reply: bytes | None = None) -> None:
    """Journal one answered line as its own call (with the reply it got) and tell a
    watching console."""
    entry = incoming.entry
    entry.status, entry.at = status, mock.clock.now()
    entry.elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    entry.request, entry.request_bytes = body_copy(incoming.raw)
    entry.request_is_json = True
    if incoming.charge is not None:
        entry.cost = incoming.charge.amount
    entry.reply, entry.reply_bytes = reply_copy(reply)
    entry_id = await mock.store.settle(entry, incoming.charge)
    if mock.changes.watched:
        mock.changes.journal(mock.test_id, entry_id)
