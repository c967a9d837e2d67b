"""The facts of a conversation that recorded replies match on, and the hashes that tell a
stale recording from a mismatch.

A recording of an app's session must still match when the app replays it tomorrow: the
app sends the same conversation, but its timestamps, request ids and random tool-call
ids have moved on. So a recorded rule matches on the conversation (the turn index, the
last user message, the tool results of the current turn, optionally a digest of every
message), each after the volatile text it names by RE2 patterns is replaced by `<*>`.
What changes the meaning of a recording without changing the conversation (the system
prompt, the tools offered) is kept as hashes beside the recorded reply, so a replay can
say "stale: the tools changed" instead of answering with an old reply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import clip
from .patterns import Pattern, compile_pattern

__all__ = ["PLACEHOLDER", "Conversation", "ConversationMatch", "conversation_match", "digest",
           "facts", "hashes", "normalise"]

PLACEHOLDER = "<*>"


def normalise(text: str, patterns: Sequence[Pattern]) -> str:
    """`text` with every match of every pattern replaced by `<*>`, in order."""
    for pattern in patterns:
        text = pattern.sub(PLACEHOLDER, text)  # type: ignore[attr-defined]
    return text


def _normalised(value: Any, patterns: Sequence[Pattern]) -> Any:
    """Every string inside `value` (message text, tool-call ids and arguments) normalised."""
    if isinstance(value, str):
        return normalise(value, patterns)
    if isinstance(value, dict):
        return {key: _normalised(item, patterns) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item, patterns) for item in value]
    return value


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or () if isinstance(p, dict))


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation as a recorded rule sees it (texts normalised)."""

    turn: int  # assistant messages before this call: 0 for the first call of a chat
    last_user: str
    tool_results: tuple[str, ...]  # tool messages after the last assistant message


def facts(messages: list[dict], patterns: Sequence[Pattern] = ()) -> Conversation:
    """The turn, the last user message and the current turn's tool results."""
    turn, last_user, results = 0, "", []
    for message in messages:
        role = message.get("role")
        if role == "assistant":
            turn, results = turn + 1, []
        elif role == "user":
            last_user = _text(message.get("content"))
        elif role == "tool":
            results.append(_text(message.get("content")))
    return Conversation(turn, normalise(last_user, patterns),
                        tuple(normalise(r, patterns) for r in results))


def _hash(value: Any) -> str:
    raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


def digest(messages: list[dict], patterns: Sequence[Pattern] = ()) -> str:
    """A digest of every message, normalised: equal only for the same conversation."""
    return _hash(_normalised(messages, patterns))


def hashes(messages: list[dict], tools: list[dict],
           patterns: Sequence[Pattern] = ()) -> dict[str, str]:
    """The system prompt's and the tools' hashes (normalised like the conversation)."""
    system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
    return {"system": _hash(normalise(system, patterns)),
            "tools": _hash(_normalised(tools, patterns))}


@dataclass(frozen=True, slots=True)
class ConversationMatch:
    """`match.conversation`: which conversation a recorded rule answers. Every key given
    must hold; texts are compared after `normalise` (the rule's own patterns)."""

    turn: int | None = None
    last_user: str | None = None
    tool_results: tuple[str, ...] | None = None
    digest: str | None = None
    normalise: tuple[Pattern, ...] = ()

    def miss(self, messages: list[dict]) -> str | None:
        """Why the conversation is not this one (None: it is)."""
        seen = facts(messages, self.normalise)
        if self.turn is not None and seen.turn != self.turn:
            return f"this is turn {seen.turn} of the conversation, not {self.turn}"
        if self.last_user is not None and seen.last_user != self.last_user:
            return f"the last user message is {clip(repr(seen.last_user), 80)}, not " \
                   f"{clip(repr(self.last_user), 80)}"
        if self.tool_results is not None and seen.tool_results != self.tool_results:
            return f"the current turn's tool results are {clip(repr(seen.tool_results), 80)}" \
                   f", not {clip(repr(self.tool_results), 80)}"
        if self.digest is not None and digest(messages, self.normalise) != self.digest:
            return "the conversation's digest differs (a message other than the last changed)"
        return None


def conversation_match(data: dict) -> ConversationMatch:
    """The condition from its file form (already checked: patterns compile)."""
    results = data.get("tool_results")
    return ConversationMatch(
        turn=data.get("turn"),
        last_user=data.get("last_user"),
        tool_results=tuple(results) if results is not None else None,
        digest=data.get("digest"),
        normalise=tuple(compile_pattern(p) for p in data.get("normalise") or ()),
    )
