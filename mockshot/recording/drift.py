"""`mockshot diff`: replay every recorded request against mockshot's own generator and
report, per exchange, where the generated reply differs in shape from the recorded one.

Each request goes to a fresh in-process mock (virtual clock, no pacing, state forgotten
between exchanges). An exchange the upstream answered with an error, or with a stream
that broke (an error event, a malformed frame, a cut), is compared with mockshot's own
answer of that kind: when the plain call does not give it, the call is made again with
the fault mockshot answers such an error with (a 429 and its Retry-After), else the
scripted error of the recorded type, or the stream fault placed after as many events as
the recording had. So a capture of a 429 checks mockshot's 429, not its success.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..app import create_app
from ..errors import DEFAULTS
from ..mock import Mock
from ..scenarios.files import ScenarioFileError, read_scenario_file, scenario_paths
from ..scenarios.recorded import Recorded, recorded_from_dict
from ..scenarios.recorded_checks import SURFACE_OPERATIONS
from ..settings import Settings
from ..surfaces.anthropic_format import ERROR_TYPES
from .answers import Answer, call_app, recorded_answer
from .compare import differences
from .recorder import split_events
from .shapes import event_kind

__all__ = ["Drift", "DriftError", "Exchange", "drift_report", "exchanges", "render_report"]

PATHS = {"openai": "/v1/chat/completions", "anthropic": "/anthropic/v1/messages"}
HEADERS = {"authorization": "Bearer sk-mockshot-diff", "content-type": "application/json"}


class DriftError(ValueError):
    """Recordings that cannot be read (the message says which and why)."""


@dataclass(slots=True)
class Exchange:
    """One recorded reply and the request it answered."""

    file: str
    rule: str
    reply: int  # its place among the rule's replies (0-based)
    surface: str  # openai | anthropic
    model: str | None
    stream: bool
    recorded: Recorded
    request: Any


@dataclass(slots=True)
class Drift:
    exchange: Exchange
    differences: list[str] = field(default_factory=list)
    note: str = ""


def _rule_exchanges(path: str, rule: dict) -> list[Exchange]:
    match = rule.get("match") or {}
    operation = match.get("operation")
    surface = SURFACE_OPERATIONS[operation].split(".")[1] if isinstance(operation, str) \
        and operation in SURFACE_OPERATIONS else None
    replies = rule["reply"] if isinstance(rule["reply"], list) else [rule["reply"]]
    return [Exchange(path, rule["name"], at, surface, match.get("model"), bool(match.get(
        "stream")), recorded_from_dict(reply["recorded"]), reply["recorded"].get("request"))
            for at, reply in enumerate(replies) if "recorded" in reply and surface]


def exchanges(paths: list[str]) -> list[Exchange]:
    """Every recorded reply in the files (or directories) `paths`, checked first."""
    try:
        files = scenario_paths(paths)
        documents = [(path, read_scenario_file(path)) for path in files]
    except ScenarioFileError as exc:
        raise DriftError(str(exc)) from None
    found = [item for path, document in documents
             for index, rule in enumerate(document["rules"])
             for item in _rule_exchanges(path, {"name": f"rules[{index}]", **rule})]
    if not found:
        raise DriftError(f"no recorded replies in {', '.join(paths)}")
    return found


def drift_report(paths: list[str]) -> list[Drift]:
    """The drift of every recorded exchange in `paths`, in file order."""
    items = exchanges(paths)
    return asyncio.run(_report(items))


async def _report(items: list[Exchange]) -> list[Drift]:
    mock = Mock(Settings(clock="virtual", pacing=False, log_level="warning"))
    app = create_app(mock=mock)
    return [await _drift(app, mock, item) for item in items]


async def _drift(app: Any, mock: Mock, exchange: Exchange) -> Drift:
    request = exchange.request
    if not isinstance(request, dict) or not isinstance(request.get("body"), dict):
        return Drift(exchange, note="no request recorded: nothing to replay")
    recorded = recorded_answer(exchange.recorded)
    body, path = orjson.dumps(request["body"]), PATHS[exchange.surface]
    await mock.forget(keep_rules=False)
    generated = await call_app(app, path, HEADERS, body)
    steer = _reproduction(exchange, recorded, generated)
    if steer is not None:
        await mock.forget(keep_rules=False)
        if "rules" in steer:
            await mock.scenarios.load(steer)
        generated = await call_app(app, path, {**HEADERS, **steer.get("headers", {})}, body)
    return Drift(exchange, differences(recorded, generated, exchange.surface))


def _reproduction(exchange: Exchange, recorded: Answer, first: Answer) -> dict | None:
    """How to ask the generator for the same kind of answer as the recording, when the
    plain call did not give it (None: compare the plain call)."""
    if recorded.status >= 400 and first.status != recorded.status:
        return _scripted_error(exchange.surface, recorded)
    if recorded.streams and first.streams:
        fault = _stream_fault(exchange.surface, recorded.events, first)
        return {"headers": {"x-mockshot-fault": fault}} if fault else None
    if not recorded.streams and not first.streams and recorded.status < 400 \
            and not _parses(recorded.body) and _parses(first.body):
        return {"headers": {"x-mockshot-fault": "truncated_body"}}
    return None


def _parses(raw: bytes) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return True


def _moonshot_type(kind: object, surface: str) -> str | None:
    """The Moonshot error type mockshot scripts for a recorded one (Anthropic's names
    read back through the surface's own table)."""
    if surface == "anthropic":
        kind = next((k for k, v in ERROR_TYPES.items() if v == kind), None)
    return kind if kind in DEFAULTS else None


def _error_type(data: Any, surface: str) -> str | None:
    error = data.get("error") if isinstance(data, dict) else None
    return _moonshot_type(error.get("type"), surface) if isinstance(error, dict) else None


FAULTS = {"rate_limit_reached_error": "rate_limit", "engine_overloaded_error": "overloaded"}


def _scripted_error(surface: str, recorded: Answer) -> dict | None:
    """The generator's own answer of the recorded error's kind: the fault mockshot sends
    for a 429 it makes up (with its Retry-After), else a scripted error of that type."""
    data = orjson.loads(recorded.body) if _parses(recorded.body) else None
    kind = _error_type(data, surface)
    if kind is None:
        return None
    retry = recorded.headers.get("retry-after", "")
    wait = float(retry) if retry.replace(".", "", 1).isdigit() and float(retry) <= 86400 \
        else None
    if kind in FAULTS:
        fault = FAULTS[kind] + (f":retry_after={wait:g}" if wait is not None else "")
        return {"headers": {"x-mockshot-fault": fault}}
    error: dict[str, Any] = {"type": kind, "status": recorded.status}
    return {"rules": [{"match": {"operation": f"chat.{surface}"}, "reply": {"error": error}}]}


def _frame_after(first: Answer, events: int) -> int:
    """The generated frame after which `events` SSE events have been sent (a frame may
    hold several), kept before the stream's last so the fault happens."""
    sent = 0
    for index, chunk in enumerate(first.chunks):
        if sent >= events:
            return max(min(index, len(first.chunks) - 2), 0)
        sent += len(split_events(chunk)[0]) or 1
    return max(len(first.chunks) - 2, 0)


def _stream_fault(surface: str, events: list[bytes], first: Answer) -> str | None:
    """The X-Mockshot-Fault that breaks a generated stream as the recorded one broke."""
    kinds = [event_kind(raw, surface) for raw in events]
    for index, (kind, data) in enumerate(kinds):
        if kind == "error":
            error = _error_type(data, surface)
            return f"error_frame:after={_frame_after(first, index)}" + (
                f",type={error}" if error else "")
        if kind == "malformed":
            return f"malformed_frame:after={_frame_after(first, index)}"
    names = [kind for kind, _ in kinds]
    ended = names[-1:] == ["[DONE]"] and "finish" in names if surface == "openai" \
        else names[-1:] == ["message_stop"]
    if ended or not names:
        return None
    done = surface == "openai" and names[-1] == "[DONE]"
    kept = len(names) - (1 if done else 0)
    return f"stream_cut:after={_frame_after(first, kept)},done={str(done).lower()}"


def _title(drift: Drift) -> str:
    e = drift.exchange
    status = e.recorded.status
    return (f"{e.file}: {e.rule} reply {e.reply + 1} (chat.{e.surface}, {e.model or '-'}, "
            f"{'stream' if e.stream else 'whole body'}, recorded {status})")


def render_report(report: list[Drift], as_json: bool = False) -> str:
    """The report as text (one line per exchange, its differences under it) or JSON."""
    if as_json:
        return orjson.dumps([{"file": d.exchange.file, "rule": d.exchange.rule,
                              "reply": d.exchange.reply, "surface": d.exchange.surface,
                              "differences": d.differences, "note": d.note}
                             for d in report], option=orjson.OPT_INDENT_2).decode()
    lines = []
    for drift in report:
        verdict = drift.note or (f"{len(drift.differences)} difference(s)"
                                 if drift.differences else "same shape")
        lines.append(f"{_title(drift)}: {verdict}")
        lines.extend(f"  - {line}" for line in drift.differences)
    drifted = sum(1 for d in report if d.differences)
    lines.append(f"{len(report)} exchange(s) compared, {drifted} with drift")
    return "\n".join(lines)
