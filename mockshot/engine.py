"""The chat engine: a parsed, surface-neutral call in, a surface-neutral completion out.

Each surface (the OpenAI-compatible `/v1/chat/completions`, later the Anthropic-compatible
`/anthropic/v1/messages`) parses its request into a `ChatCall` and renders the `Completion`
in its own format, streamed or not. Generation happens here once, as pieces (one token
each with the default tokenizer), so a stream is just the same pieces sent in chunks.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from . import textgen
from .catalog import ModelSpec
from .tokens import Tokenizer
from .tool_calls import TOOL_CALL_OVERHEAD, plan_tool_calls, should_call, tool_call_tokens

__all__ = ["ChatCall", "Choice", "Completion", "ToolCall", "Usage", "complete"]


@dataclass(slots=True)
class ChatCall:
    """A chat request reduced to what generation needs."""

    model: ModelSpec  # the model the reply names (moonshot-v1-auto stays auto)
    messages: list[dict]
    max_tokens: int  # the completion budget, reasoning included
    prompt_tokens: int
    n: int = 1
    stop: tuple[str, ...] = ()
    thinking: bool = False
    tools: list[dict] = field(default_factory=list)
    tool_choice: object = None
    response_format: str = "text"  # text | json_object | json_schema
    json_schema: dict | None = None
    stream: bool = False
    include_usage: bool = False
    cached_tokens: int = 0
    billed_model: ModelSpec | None = None  # the model auto-routing picked


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    type: str = "function"


@dataclass(slots=True)
class Choice:
    index: int
    content: list[str]
    reasoning: list[str] | None  # None: the model does not think on this call
    finish_reason: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    completion_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int | None = None  # None: not a thinking reply

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Completion:
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


def completion_id(created: int, rng: random.Random) -> str:
    """`chatcmpl-` + `created` as 8 hex + 16 random hex, like the 2025-2026 service."""
    return f"chatcmpl-{created:08x}{rng.getrandbits(64):016x}"


def fit(pieces: list[str], budget: int, tokenizer: Tokenizer) -> tuple[list[str], bool]:
    """The longest prefix of `pieces` within `budget` tokens, and whether it was cut."""
    if getattr(tokenizer, "exact_pieces", False):
        return (pieces[:budget], True) if len(pieces) > budget else (pieces, False)
    if tokenizer.count("".join(pieces)) <= budget:
        return pieces, False
    low, high = 0, len(pieces)
    while low < high:
        mid = (low + high + 1) // 2
        if tokenizer.count("".join(pieces[:mid])) <= budget:
            low = mid
        else:
            high = mid - 1
    return pieces[:low], True


def count(pieces: list[str] | None, tokenizer: Tokenizer) -> int:
    if not pieces:
        return 0
    if getattr(tokenizer, "exact_pieces", False):
        return len(pieces)
    return tokenizer.count("".join(pieces))


def apply_stop(pieces: list[str], stop: tuple[str, ...], tokenizer: Tokenizer) -> list[str] | None:
    """The pieces before the first stop sequence (which is not emitted), or None."""
    text = "".join(pieces)
    hits = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    if not hits:
        return None
    return tokenizer.pieces(text[: min(hits)])


def _partial_prefix(messages: list[dict]) -> str | None:
    last = messages[-1] if messages else None
    if last and last.get("role") == "assistant" and last.get("partial"):
        content = last.get("content")
        return content if isinstance(content, str) else ""
    return None


def _text(call: ChatCall, rng: random.Random, tokenizer: Tokenizer) -> list[str]:
    """Content pieces: JSON for json modes, else prose (continuing a partial prefix)."""
    prefix = _partial_prefix(call.messages)
    if prefix is None and call.response_format == "json_schema" and call.json_schema:
        from .schema_gen import generate

        return tokenizer.pieces(json.dumps(generate(call.json_schema, rng), ensure_ascii=False))
    if prefix is None and call.response_format == "json_object":
        return tokenizer.pieces(textgen.json_object_text(rng))
    opens = not prefix or prefix[-1:].isspace()
    return textgen.paragraph(rng, 12 + int(rng.random() * 80), first=opens)


def _tool_calls(call: ChatCall, rng: random.Random, tokenizer: Tokenizer,
                budget: int) -> tuple[list[ToolCall], bool]:
    """The turn's tool calls, the last one's arguments cut if the budget runs out."""
    calls: list[ToolCall] = []
    for ident, kind, name, arguments in plan_tool_calls(
        call.tools, call.tool_choice, rng, call.model.tool_call_id
    ):
        made = ToolCall(ident, name, arguments, kind)
        cost = tool_call_tokens(made, tokenizer)
        if cost > budget:
            room = budget - TOOL_CALL_OVERHEAD - tokenizer.count(name)
            if room > 0:
                made.arguments = "".join(fit(tokenizer.pieces(arguments), room, tokenizer)[0])
                calls.append(made)
            return calls, True
        calls.append(made)
        budget -= cost
    return calls, False


def _choice(call: ChatCall, index: int, rng: random.Random, tokenizer: Tokenizer) -> Choice:
    budget = call.max_tokens
    reasoning = textgen.paragraph(rng, 16 + int(rng.random() * 64)) if call.thinking else None
    if reasoning is not None:
        reasoning, cut = fit(reasoning, budget, tokenizer)
        if cut:
            return Choice(index, [], reasoning, "length")
        budget -= count(reasoning, tokenizer)
    if should_call(call.tools, call.tool_choice, call.messages):
        calls, cut = _tool_calls(call, rng, tokenizer, budget)
        return Choice(index, [], reasoning, "length" if cut else "tool_calls", calls)
    content, cut = fit(_text(call, rng, tokenizer), budget, tokenizer)
    finish = "length" if cut else "stop"
    if call.stop and (stopped := apply_stop(content, call.stop, tokenizer)) is not None:
        content, finish = stopped, "stop"
    return Choice(index, content, reasoning, finish)


def complete(call: ChatCall, rng: random.Random, created: int, tokenizer: Tokenizer) -> Completion:
    """Generate the whole reply for `call` from `rng` (the call's own seeded generator)."""
    ident = completion_id(created, rng)
    choices = [_choice(call, i, rng, tokenizer) for i in range(call.n)]
    completion_tokens = reasoning_tokens = 0
    for choice in choices:
        thought = count(choice.reasoning, tokenizer)
        choice.reasoning_tokens = thought
        tools = sum(tool_call_tokens(c, tokenizer) for c in choice.tool_calls)
        choice.completion_tokens = thought + count(choice.content, tokenizer) + tools
        completion_tokens += choice.completion_tokens
        reasoning_tokens += thought
    usage = Usage(
        call.prompt_tokens,
        completion_tokens,
        call.cached_tokens,
        reasoning_tokens if call.thinking else None,
    )
    return Completion(ident, created, call.model.id, choices, usage)
