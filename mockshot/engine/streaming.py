"""Stream plans: a completion cut into deltas, and when each delta is due.

A plan is surface-neutral: a list of `Delta`s (a choice's start, reasoning text, content
text, a tool call's head, a fragment of its arguments, the choice's finish), interleaved
across choices by index. The OpenAI and Anthropic surfaces render the same plan in their
own SSE framing, so what a stream adds up to is the non-streamed completion by
construction. Chunk boundaries and timing draw from the call's own generator *after* the
completion was generated, so they never change its content.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import zip_longest

from .catalog import ModelSpec
from .completion import Choice, Completion
from .tokens import Tokenizer
from .tool_calls import TOOL_CALL_OVERHEAD

__all__ = ["Delta", "Timing", "plan", "schedule", "timing_for"]

MAX_PIECES_PER_CHUNK = 4
MAX_ARGUMENT_FRAGMENT = 12  # characters of tool-call JSON in one delta
JITTER = 0.1


@dataclass(slots=True)
class Delta:
    choice: int
    kind: str  # start | reasoning | content | tool_call | arguments | finish
    text: str = ""
    tokens: int = 0
    tool: int = -1


@dataclass(frozen=True, slots=True)
class Timing:
    """Time to first token and steady tokens per second; 0/inf means instant."""

    time_to_first_token: float
    tokens_per_second: float
    jitter: float = JITTER

    @property
    def instant(self) -> bool:
        return self.time_to_first_token <= 0 and self.tokens_per_second == float("inf")


INSTANT = Timing(0.0, float("inf"), 0.0)


def _runs(items: list | str, rng: random.Random, most: int) -> list:
    """`items` cut into consecutive runs of 1..`most` (pieces of text, or characters of
    tool-call JSON, which may split anywhere)."""
    out, at = [], 0
    while at < len(items):
        size = 1 + int(rng.random() * most)
        out.append(items[at : at + size])
        at += size
    return out


def _groups(pieces: list[str], rng: random.Random) -> list[list[str]]:
    return _runs(pieces, rng, MAX_PIECES_PER_CHUNK)


def _fragments(text: str, rng: random.Random) -> list[str]:
    return _runs(text, rng, MAX_ARGUMENT_FRAGMENT)


def _shares(fragments: list[str], total: int) -> list[int]:
    """Split `total` tokens over `fragments` by length, adding up exactly to `total`."""
    length, seen, given, out = sum(map(len, fragments)) or 1, 0, 0, []
    for fragment in fragments:
        seen += len(fragment)
        share = round(total * seen / length) - given
        given += share
        out.append(share)
    return out


def _tool_deltas(choice: Choice, rng: random.Random, tokenizer: Tokenizer) -> list[Delta]:
    """A call's head, then its arguments in fragments; the tokens usage charges for the
    call are spread over them, so arguments stream at the model's speed too."""
    out = []
    for tool, call in enumerate(choice.tool_calls):
        fragments = _fragments(call.arguments, rng)
        head = TOOL_CALL_OVERHEAD + tokenizer.count(call.name)
        out.append(Delta(choice.index, "tool_call", call.name, head, tool))
        shares = _shares(fragments, tokenizer.count(call.arguments))
        out.extend(Delta(choice.index, "arguments", fragment, tokens, tool)
                   for fragment, tokens in zip(fragments, shares, strict=True))
    return out


def _choice_deltas(choice: Choice, rng: random.Random, tokenizer: Tokenizer) -> list[Delta]:
    index = choice.index
    deltas = [Delta(index, "start")]
    if choice.reasoning == []:  # reasoned, empty: the service still sends one delta
        deltas.append(Delta(index, "reasoning", "", 1))
    for kind, pieces in (("reasoning", choice.reasoning), ("content", choice.content)):
        for group in _groups(pieces or [], rng):
            deltas.append(Delta(index, kind, "".join(group), len(group)))
    deltas.extend(_tool_deltas(choice, rng, tokenizer))
    deltas.append(Delta(index, "finish", choice.finish_reason))
    return deltas


def plan(completion: Completion, rng: random.Random, tokenizer: Tokenizer) -> list[Delta]:
    """Every delta of the stream, choices interleaved round-robin by index."""
    per_choice = [_choice_deltas(choice, rng, tokenizer) for choice in completion.choices]
    if len(per_choice) == 1:
        return per_choice[0]
    return [d for row in zip_longest(*per_choice) for d in row if d is not None]


def schedule(deltas: list[Delta], timing: Timing, rng: random.Random) -> list[float]:
    """Seconds to wait before each delta: the first token after `time_to_first_token`,
    then each delta after its tokens' worth of `tokens_per_second`, with seeded jitter."""
    if timing.instant:
        return [0.0] * len(deltas)
    waits, first = [], True
    for delta in deltas:
        jitter = 1 + timing.jitter * (2 * rng.random() - 1)
        if delta.kind == "start" or not delta.tokens:
            waits.append(0.0)
        elif first:
            waits.append(timing.time_to_first_token * jitter)
            first = False
        else:
            waits.append(delta.tokens / timing.tokens_per_second * jitter)
    return waits


def timing_for(model: ModelSpec, override: dict | None, instant: bool) -> Timing:
    """The model's timing, with a request's or scenario's override (parsed pacing
    values), or instant when pacing is off and nothing asks for it."""
    if instant and not override:
        return INSTANT
    values = {"ttft_ms": model.time_to_first_token_ms,
              "tokens_per_second": model.tokens_per_second, "jitter": JITTER, **(override or {})}
    return Timing(values["ttft_ms"] / 1000, values["tokens_per_second"], values["jitter"])
