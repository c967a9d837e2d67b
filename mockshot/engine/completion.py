"""The chat engine: a parsed, surface-neutral call in, a surface-neutral completion out.

Each surface (the OpenAI-compatible `/v1/chat/completions`, the Anthropic-compatible
`/anthropic/v1/messages`) parses its request into a `ChatCall` and renders the `Completion`
in its own format, streamed or not. Generation happens here once, as pieces (one token
each with the default tokenizer), so a stream is just the same pieces sent in chunks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import textgen
from .catalog import ModelSpec
from .schema_values import check_drawable, json_text
from .tokens import Tokenizer, head_pieces
from .tool_calls import (
    TOOL_CALL_OVERHEAD,
    call_id,
    is_builtin,
    parameters,
    place,
    plan_tool_calls,
    should_call,
    tool_arguments,
    tool_call_tokens,
)

__all__ = ["ChatCall", "Choice", "Completion", "Script", "ToolCall", "Usage", "check_satisfiable",
           "complete"]


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
    prefixes: tuple[bytes, ...] = ()  # prompt-cache keys, kept at settle
    prefix_tokens: list[int] = field(default_factory=list)  # tokens each prefix covers


@dataclass(slots=True)
class Script:
    """A scenario's reply in engine terms: what it fixes; the rest is generated."""

    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[tuple[str, str | None]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


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
    stop_sequence: str | None = None  # the stop sequence that ended the reply, if one did


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


def thought_tokens(reasoning: list[str] | None, tokenizer: Tokenizer) -> int:
    """Reasoning tokens: a thinking reply with empty reasoning still reports 1, as the
    real service does (reference §1.1, §1.5)."""
    if reasoning is None:
        return 0
    return count(reasoning, tokenizer) or 1


def count(pieces: list[str] | None, tokenizer: Tokenizer) -> int:
    if not pieces:
        return 0
    if getattr(tokenizer, "exact_pieces", False):
        return len(pieces)
    return tokenizer.count("".join(pieces))


def apply_stop(pieces: list[str], stop: tuple[str, ...],
               tokenizer: Tokenizer) -> tuple[list[str], str] | None:
    """The pieces before the first stop sequence (which is not emitted) and that sequence,
    or None when none occurs."""
    text = "".join(pieces)
    hits = [(at, s) for s in stop if s and (at := text.find(s)) >= 0]
    if not hits:
        return None
    at, sequence = min(hits)
    return tokenizer.pieces(text[:at]), sequence


def _partial_prefix(messages: list[dict]) -> str | None:
    last = messages[-1] if messages else None
    if last and last.get("role") == "assistant" and last.get("partial"):
        content = last.get("content")
        return content if isinstance(content, str) else ""
    return None


def _text(call: ChatCall, rng: random.Random, tokenizer: Tokenizer) -> list[str]:
    """Content pieces: JSON for json modes, else prose (continuing a partial prefix)."""
    prefix = _partial_prefix(call.messages)
    if prefix is None and call.response_format == "json_schema" and call.json_schema is not None:
        text = json_text(call.json_schema, rng, "response_format.json_schema", call.max_tokens)
        return head_pieces(tokenizer, text, call.max_tokens)
    if prefix is None and call.response_format == "json_object":
        return tokenizer.pieces(textgen.json_object_text(rng))
    opens = not prefix or prefix[-1:].isspace()
    return textgen.paragraph(rng, 12 + int(rng.random() * 80), first=opens)


def _fit_calls(planned: list[ToolCall], budget: int,
               tokenizer: Tokenizer) -> tuple[list[ToolCall], bool]:
    """The turn's tool calls within the budget, the last one's arguments cut if it runs out."""
    calls: list[ToolCall] = []
    for made in planned:
        head = TOOL_CALL_OVERHEAD + tokenizer.count(made.name)
        cost = head + tokenizer.count_upto(made.arguments, max(budget - head, 0))
        if cost > budget:
            room = budget - head
            if room > 0:
                pieces = head_pieces(tokenizer, made.arguments, room)
                made.arguments = "".join(fit(pieces, room, tokenizer)[0])
                calls.append(made)
            return calls, True
        calls.append(made)
        budget -= cost
    return calls, False


def _planned_calls(call: ChatCall, rng: random.Random, script: Script | None) -> list[ToolCall]:
    if script is None or not script.tool_calls:
        planned = plan_tool_calls(call.tools, call.tool_choice, rng, call.model.tool_call_id,
                                  call.max_tokens)
        return [ToolCall(ident, name, arguments, kind)
                for ident, kind, name, arguments in planned]
    out = []
    for index, (name, arguments) in enumerate(script.tool_calls):
        tool = next((t for t in call.tools if t["function"]["name"] == name),
                    {"type": "function", "function": {"name": name}})
        kind = "builtin_function" if tool.get("type") == "builtin_function" else "function"
        text = arguments if arguments is not None else tool_arguments(
            tool, rng, place(call.tools, tool), call.max_tokens)
        out.append(ToolCall(call_id(name, index, call.model.tool_call_id), name, text, kind))
    return out


def _reasoning(call: ChatCall, rng: random.Random, tokenizer: Tokenizer,
               script: Script | None) -> list[str] | None:
    if script is not None and script.reasoning is not None:
        return head_pieces(tokenizer, script.reasoning, call.max_tokens) if call.thinking \
            else None
    return textgen.paragraph(rng, 16 + int(rng.random() * 64)) if call.thinking else None


def _calls_tools(call: ChatCall, script: Script | None) -> bool:
    if script is not None and (script.content is not None or script.tool_calls):
        return bool(script.tool_calls)
    return should_call(call.tools, call.tool_choice, call.messages)


def _choice(call: ChatCall, index: int, rng: random.Random, tokenizer: Tokenizer,
            script: Script | None = None) -> Choice:
    budget = call.max_tokens
    reasoning = _reasoning(call, rng, tokenizer, script)
    if reasoning is not None:
        reasoning, cut = fit(reasoning, budget, tokenizer)
        if cut:
            return Choice(index, [], reasoning, "length")
        budget -= thought_tokens(reasoning, tokenizer)
    finish = script.finish_reason if script else None
    if _calls_tools(call, script):
        lead: list[str] = []  # text a scripted turn says before its calls
        if script is not None and script.content:
            lead, cut = fit(head_pieces(tokenizer, script.content, budget), budget, tokenizer)
            if cut:
                return Choice(index, lead, reasoning, "length")
            budget -= count(lead, tokenizer)
        calls, cut = _fit_calls(_planned_calls(call, rng, script), budget, tokenizer)
        return Choice(index, lead, reasoning, "length" if cut else finish or "tool_calls", calls)
    scripted = script is not None and script.content is not None
    pieces = (head_pieces(tokenizer, script.content, budget) if scripted
              else _text(call, rng, tokenizer))
    content, cut = fit(pieces, budget, tokenizer)
    finish = "length" if cut else finish or "stop"
    if call.stop and (stopped := apply_stop(content, call.stop, tokenizer)) is not None:
        content, sequence = stopped
        return Choice(index, content, reasoning, "stop", stop_sequence=sequence)
    return Choice(index, content, reasoning, finish)


def complete(call: ChatCall, rng: random.Random, created: int, tokenizer: Tokenizer,
             script: Script | None = None) -> Completion:
    """The whole reply for `call`: generated from `rng` (the call's own seeded generator),
    or as a scenario `script` says, within the same budget and stop rules."""
    ident = completion_id(created, rng)
    choices = [_choice(call, i, rng, tokenizer, script) for i in range(call.n)]
    completion_tokens = reasoning_tokens = 0
    for choice in choices:
        thought = thought_tokens(choice.reasoning, tokenizer)
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
    if script is not None and script.usage:
        for name, value in script.usage.items():
            setattr(usage, name, value)
        if len(choices) == 1:  # the finish chunk's usage must agree with the total
            choices[0].completion_tokens = usage.completion_tokens
    return Completion(ident, created, call.model.id, choices, usage)


def check_satisfiable(call: ChatCall) -> None:
    """Refuse, before the call is counted or charged, a schema the reply would need and
    no value can be drawn for (`json_schema` output, a tool's parameters); the check is
    remembered per schema, so it costs a lookup after a schema's first call."""
    if call.response_format == "json_schema" and call.json_schema is not None:
        check_drawable(call.json_schema, "response_format.json_schema")
    for index, tool in enumerate(call.tools):
        if not is_builtin(tool):
            check_drawable(parameters(tool), f"tools[{index}].function.parameters")
