"""Scenario rules: what a call must look like (`Match`) and what it gets (`Reply`).

The vocabulary is borrowed from respx, pytest_httpx and WireMock: a rule is a match plus a
reply; a reply may be one value or a list used in order ("first unused, then the last one
again", or `cycle`); `times` limits use; named scenario states script multi-turn flows. The
same names are used by scenario files (data/scenario.schema.json), the Python API
(scripting.py) and the control API (admin.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..state.store import Candidate
from .conversation import ConversationMatch, conversation_match
from .faults import Fault, parse_fault
from .patterns import Pattern, compile_pattern
from .recorded import Recorded, recorded_from_dict

__all__ = [
    "Match",
    "Probe",
    "Reply",
    "Rule",
    "ScriptedToolCall",
    "last_user",
    "render",
    "rule_from_dict",
]



@dataclass(slots=True)
class Probe:
    """The facts of one call that rules can match on, whatever its surface."""

    operation: str  # neutral: chat, models, balance, estimate, files, batches
    route: str  # "POST /v1/chat/completions"
    surface: str = "openai"
    api_key: str = ""
    headers: Any = None
    model: str | None = None
    messages: list[dict] = field(default_factory=list)
    tool_names: frozenset[str] = frozenset()
    stream: bool = False
    response_format: str = "text"
    nth: int = 0
    request: Any = None


def _tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str | int) else tuple(value)


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = content or ()
    return "\n".join(p.get("text", "") for p in parts if isinstance(p, dict))


def last_user(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


@dataclass(frozen=True, slots=True)
class Match:
    """Conditions a call must meet; each unmet one gives a reason (for near-miss reports)."""

    operation: tuple[str, ...] = ("chat",)
    model: tuple[str, ...] = ()
    contains: str | None = None
    regex: Pattern | None = None  # RE2: linear in the text, whatever the pattern
    any_contains: str | None = None
    any_regex: Pattern | None = None
    tools: bool | None = None
    tool: str | None = None
    tool_result: bool | str | None = None
    stream: bool | None = None
    response_format: str | None = None
    api_key: tuple[str, ...] = ()
    header: tuple[tuple[str, str], ...] = ()
    nth: tuple[int, ...] = ()
    state: str | None = None
    conversation: ConversationMatch | None = None  # what recorded rules match on

    def operation_matches(self, probe: Probe) -> bool:
        for wanted in self.operation:
            if wanted in (probe.operation, probe.route, f"{probe.operation}.{probe.surface}"):
                return True
        return False

    def holds_locally(self, probe: Probe) -> bool:
        """Whether every condition the call alone decides holds (not `nth` or `state`,
        which the store judges when it takes the rule)."""
        return self.operation_matches(probe) and \
            not any(check(self, probe) for check in _LOCAL_CHECKS)

    def misses(self, probe: Probe, state: str) -> list[str]:
        """Why `probe` does not match (empty: it does), for near-miss reports."""
        if not self.operation_matches(probe):
            return [f"operation is {probe.operation}, not {' or '.join(self.operation)}"]
        reasons = [reason for check in (*_LOCAL_CHECKS, _check_nth)
                   if (reason := check(self, probe))]
        if self.state is not None and state != self.state:
            reasons.append(f"scenario state is {state!r}, not {self.state!r}")
        return reasons


def _check_model(m: Match, p: Probe) -> str | None:
    if m.model and p.model not in m.model:
        return f"model is {p.model}, not {' or '.join(m.model)}"
    return None


def _check_text(m: Match, p: Probe) -> str | None:
    text = last_user(p.messages)
    if m.contains is not None and m.contains not in text:
        return f"the last user message does not contain {m.contains!r}"
    if m.regex is not None and not m.regex.search(text):
        return f"the last user message does not match /{m.regex.pattern}/"
    if m.any_contains is not None or m.any_regex is not None:
        every = "\n".join(_text(message.get("content")) for message in p.messages)
        if m.any_contains is not None and m.any_contains not in every:
            return f"no message contains {m.any_contains!r}"
        if m.any_regex is not None and not m.any_regex.search(every):
            return f"no message matches /{m.any_regex.pattern}/"
    return None


def _check_tools(m: Match, p: Probe) -> str | None:
    if m.tools is not None and m.tools != bool(p.tool_names):
        return "the request offers tools" if p.tool_names else "the request offers no tools"
    if m.tool is not None and m.tool not in p.tool_names:
        return f"the request does not offer tool {m.tool!r}"
    if m.tool_result is not None:
        last = p.messages[-1] if p.messages else {}
        is_result = last.get("role") == "tool"
        if m.tool_result is False and is_result:
            return "the last message is a tool result"
        if m.tool_result is not False and not is_result:
            return "the last message is not a tool result"
        if isinstance(m.tool_result, str) and is_result and _tool_name(p.messages) != m.tool_result:
            return f"the last tool result is not from {m.tool_result!r}"
    return None


def _tool_name(messages: list[dict]) -> str | None:
    """The function a trailing tool message answers: its `name`, else the name of the
    assistant tool call whose id it carries (`name` is optional on tool messages)."""
    last = messages[-1]
    if last.get("name"):
        return last["name"]
    for message in reversed(messages[:-1]):
        for call in message.get("tool_calls") or ():
            if call.get("id") == last.get("tool_call_id"):
                return (call.get("function") or {}).get("name")
    return None


def _check_request(m: Match, p: Probe) -> str | None:
    if m.stream is not None and m.stream != p.stream:
        return "the call streams" if p.stream else "the call does not stream"
    if m.response_format is not None and m.response_format != p.response_format:
        return f"response_format is {p.response_format}, not {m.response_format}"
    if m.api_key and p.api_key not in m.api_key:
        return "the API key is not one of the rule's"
    for name, value in m.header:
        if (p.headers.get(name) if p.headers else None) != value:
            return f"header {name} is not {value!r}"
    return None


def _check_nth(m: Match, p: Probe) -> str | None:
    if m.nth and p.nth not in m.nth:
        return f"this is call {p.nth} of its operation, not {' or '.join(map(str, m.nth))}"
    return None


def _check_conversation(m: Match, p: Probe) -> str | None:
    return m.conversation.miss(p.messages) if m.conversation is not None else None


# What the call alone decides; `nth` and the scenario state are the store's to judge.
_LOCAL_CHECKS = (_check_model, _check_text, _check_tools, _check_request, _check_conversation)


@dataclass(frozen=True, slots=True)
class ScriptedToolCall:
    name: str
    arguments: str | dict | None = None  # None: generated from the tool's schema


@dataclass(frozen=True, slots=True)
class Reply:
    content: str | None = None
    reasoning: str | None = None
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    finish_reason: str | None = None
    usage: tuple[tuple[str, int], ...] = ()
    error: dict | None = None
    fault: Fault | None = None
    pacing: dict | None = None
    recorded: Recorded | None = None  # bytes another server sent, sent again verbatim

    @property
    def scripts_content(self) -> bool:
        return self.content is not None or self.reasoning is not None or bool(self.tool_calls)


@dataclass(slots=True)
class Rule:
    name: str
    match: Match
    replies: tuple[Reply, ...]
    scenario: str = "default"
    cycle: bool = False
    times: int | None = None
    then_state: str | None = None

    def reply_at(self, use: int) -> Reply:
        """The reply for this rule's `use`-th answer (0-based)."""
        if self.cycle:
            return self.replies[use % len(self.replies)]
        return self.replies[min(use, len(self.replies) - 1)]

    @property
    def candidate(self) -> Candidate:
        """What the store needs to take this rule atomically."""
        return Candidate(self.name, self.scenario, self.times, self.match.state,
                         self.match.nth, self.then_state)

    def to_dict(self) -> dict:
        """A JSON-ready summary for the control API."""
        return {"name": self.name, "scenario": self.scenario, "times": self.times,
                "cycle": self.cycle, "then_state": self.then_state,
                "operation": list(self.match.operation), "replies": len(self.replies)}


def _error(value: object) -> dict | None:
    if value is None:
        return None
    return {"type": value} if isinstance(value, str) else dict(value)


def _reply(data: dict) -> Reply:
    calls = tuple(ScriptedToolCall(c["name"], c.get("arguments"))
                  for c in data.get("tool_calls") or ())
    fault = parse_fault(data["fault"]) if data.get("fault") else None
    recorded = recorded_from_dict(data["recorded"]) if data.get("recorded") else None
    return Reply(data.get("content"), data.get("reasoning"), calls, data.get("finish_reason"),
                 tuple(sorted((data.get("usage") or {}).items())), _error(data.get("error")),
                 fault, data.get("pacing"), recorded)


def _match(data: dict) -> Match:
    def pattern(key: str) -> Pattern | None:
        return compile_pattern(data[key]) if data.get(key) is not None else None

    return Match(
        operation=_tuple(data.get("operation", "chat")),
        model=_tuple(data.get("model")),
        contains=data.get("contains"),
        regex=pattern("regex"),
        any_contains=data.get("any_contains"),
        any_regex=pattern("any_regex"),
        tools=data.get("tools"),
        tool=data.get("tool"),
        tool_result=data.get("tool_result"),
        stream=data.get("stream"),
        response_format=data.get("response_format"),
        api_key=_tuple(data.get("api_key")),
        header=tuple((str(k).lower(), v) for k, v in (data.get("header") or {}).items()),
        nth=tuple(int(n) for n in _tuple(data.get("nth"))),
        state=data.get("state"),
        conversation=conversation_match(data["conversation"]) if data.get("conversation")
        else None,
    )


def rule_from_dict(data: dict, default_name: str, scenario: str = "default") -> Rule:
    """A rule from its file/API form (already checked against the scenario schema)."""
    replies = data["reply"] if isinstance(data["reply"], list) else [data["reply"]]
    return Rule(
        name=data.get("name") or default_name,
        match=_match(data.get("match") or {}),
        replies=tuple(_reply(r) for r in replies),
        scenario=data.get("scenario") or scenario,
        cycle=bool(data.get("cycle")),
        times=data.get("times"),
        then_state=data.get("then_state"),
    )


_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.\-]*)\s*\}\}")


def render(template: str, context: dict[str, Any]) -> str:
    """Fill `{{ name }}` / `{{ request.messages.0.content }}` from `context`; a path that
    does not resolve renders as empty text (templates never evaluate code)."""

    def value(match: re.Match) -> str:
        node: Any = context
        for part in match.group(1).split("."):
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and part.lstrip("-").isdigit():
                index = int(part)
                node = node[index] if -len(node) <= index < len(node) else None
            else:
                node = None
        return "" if node is None else node if isinstance(node, str) else json.dumps(node)

    return _TEMPLATE.sub(value, template)
