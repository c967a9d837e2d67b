"""The conformance variations, rendered: the same completion streamed in one of the legal
shapes a robust OpenAI-compatible client must survive (the names and what each does are
in mockshot/conformance.py).

A stream is first a list of events (the choices of one chunk, and the wait before it),
made from the plan exactly as the plain rendering makes its frames; each variation that
applies rewrites that list, drawing from the call's own generator (after the completion,
its chunking and its timing were drawn, so nothing else moves). Then the events are
encoded like any stream. What a varied stream adds up to is the plain stream's message
(`split_escapes` changes how arguments are escaped, not their JSON value).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from ..conformance import ALL, VARIANTS, check_variants
from ..engine.completion import Completion
from ..engine.streaming import Delta
from ..errors import invalid_request
from .openai_format import DONE, choice_body, frame_ends, usage_frame

__all__ = ["choose", "parse_header", "varied_frames"]

LONG_GAP = (20.0, 40.0)  # seconds before the first token, long_first_gap


@dataclass(slots=True)
class Event:
    choices: list[dict]
    wait: float


@dataclass(slots=True)
class Stream:
    """A stream being varied: its events, whether it ends with the usage chunk."""

    completion: Completion
    events: list[Event]
    usage_chunk: bool
    rng: random.Random


def parse_header(value: str | None) -> tuple[str, ...] | None:
    """`X-Mockshot-Variant: a,b` (or `all`, `none`); a 400 naming the choices if bad."""
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    problem = check_variants(names)
    if problem:
        raise invalid_request(f"X-Mockshot-Variant: {problem}")
    return () if names == ("none",) else names


def _tool_heads(event: Event) -> list[dict]:
    return [c for c in event.choices if "tool_calls" in c["delta"] and
            "id" in c["delta"]["tool_calls"][0]]


def _applies(name: str, stream: Stream) -> bool:
    completion = stream.completion
    calls = any(choice.tool_calls for choice in completion.choices)
    if name in ("indexless_tool_calls", "empty_content_with_tool_calls"):
        return calls
    if name == "split_escapes":
        return any("\\" in _escaped(c.arguments)
                   for choice in completion.choices for c in choice.tool_calls)
    if name == "interleaved_choices":
        return len(completion.choices) > 1
    if name == "usage_in_choice_only":
        return stream.usage_chunk
    if name == "empty_reasoning":
        return any(choice.reasoning is None or choice.reasoning == []
                   for choice in completion.choices)
    return True


def choose(requested: tuple[str, ...], stream: Stream) -> list[str]:
    """The variations to serve: those requested that apply; for `all`, a seeded draw of
    the applicable ones (each with even odds, at least one)."""
    if ALL not in requested:
        return [n for n in VARIANTS if n in requested and _applies(n, stream)]
    fitting = [n for n in VARIANTS if _applies(n, stream)]
    drawn = [n for n in fitting if stream.rng.random() < 0.5]
    return drawn or fitting[int(stream.rng.random() * len(fitting)):][:1]


# ---- the variations, each a rewrite of the events ---------------------------------------

def _empty_reasoning(stream: Stream) -> None:
    for choice in stream.completion.choices:
        index = choice.index
        if choice.reasoning is None:  # present though the model did not reason
            at = next(i for i, e in enumerate(stream.events) if e.choices[0]["index"] == index)
            stream.events.insert(at + 1, Event([{"index": index, "delta": {
                "reasoning_content": ""}, "finish_reason": None}], 0.0))
        elif choice.reasoning == []:  # absent though it did
            stream.events = [e for e in stream.events if not (
                e.choices[0]["index"] == index and e.choices[0]["delta"] == {
                    "reasoning_content": ""})]


def _escaped(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=True)
    except ValueError:
        return arguments


def _escape_cuts(text: str) -> list[str]:
    """`text` cut right after each escape's backslash (and inside `\\uXXXX`)."""
    pieces, start, at = [], 0, 0
    while at < len(text):
        if text[at] == "\\":
            pieces.append(text[start:at + 1])
            start = at + 1
            if text[start:start + 1] == "u":
                pieces.append(text[start:start + 3])
                start += 3
            at = start
            continue
        at += 1
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _split_escapes(stream: Stream) -> None:
    """Each call's argument deltas become fragments cut inside escapes; their waits are
    spread over the new fragments so the call still takes as long."""
    events, out = stream.events, []
    for event in events:
        body = event.choices[0]
        calls = body["delta"].get("tool_calls")
        if calls and "id" not in calls[0] and "index" in calls[0]:
            continue  # an argument fragment: replaced below, after its call's head
        out.append(event)
        if calls and "id" in calls[0]:
            index, tool = body["index"], calls[0]["index"]
            fragments = [e for e in events if _fragment_of(e, index, tool)]
            whole = "".join(e.choices[0]["delta"]["tool_calls"][0]["function"]["arguments"]
                            for e in fragments)
            pieces = _escape_cuts(_escaped(whole))
            wait = sum(e.wait for e in fragments) / max(len(pieces), 1)
            out += [Event([{"index": index, "delta": {"tool_calls": [{"index": tool,
                    "function": {"arguments": p}}]}, "finish_reason": None}], wait)
                    for p in pieces]
    stream.events = out


def _fragment_of(event: Event, index: int, tool: int) -> bool:
    body = event.choices[0]
    calls = body["delta"].get("tool_calls")
    return body["index"] == index and bool(calls) and "id" not in calls[0] and \
        calls[0].get("index") == tool


def _indexless(stream: Stream) -> None:
    """Every call's head in the first head's delta, without index; each argument
    fragment as a list that places it by position (earlier calls get "")."""
    out: list[Event] = []
    merged: dict[int, Event] = {}
    for event in stream.events:
        body = event.choices[0]
        calls = body["delta"].get("tool_calls")
        if not calls:
            out.append(event)
            continue
        call = {k: v for k, v in calls[0].items() if k != "index"}
        position = calls[0]["index"]
        if "id" in call:
            if body["index"] in merged:
                merged[body["index"]].choices[0]["delta"]["tool_calls"].append(call)
                continue
            body["delta"]["tool_calls"] = [call]
            merged[body["index"]] = event
        else:
            body["delta"]["tool_calls"] = [{"function": {"arguments": ""}}] * position + [call]
        out.append(event)
    stream.events = out


def _empty_content_with_tool_calls(stream: Stream) -> None:
    for event in stream.events:
        for body in _tool_heads(event):
            body["delta"] = {"content": "", **body["delta"]}


def _empty_deltas(stream: Stream) -> None:
    rng, events = stream.rng, stream.events
    for _ in range(1 + int(rng.random() * 3)):
        at = 1 + int(rng.random() * max(len(events) - 1, 1))
        index = events[min(at, len(events) - 1)].choices[0]["index"]
        delta = {} if rng.random() < 0.5 else {"content": ""}
        events.insert(at, Event([{"index": index, "delta": delta, "finish_reason": None}], 0.0))


def _interleaved(stream: Stream) -> None:
    out: list[Event] = []
    for event in stream.events:
        last = out[-1] if out else None
        taken = {c["index"] for c in last.choices} if last else set()
        if last and not taken & {c["index"] for c in event.choices} and \
                stream.rng.random() < 0.6:
            last.choices.append(event.choices[0])
            stream.rng.shuffle(last.choices)
            last.wait += event.wait
        else:
            out.append(event)
    stream.events = out


def _long_first_gap(stream: Stream) -> None:
    first = 1 if len(stream.events) > 1 else 0
    low, high = LONG_GAP
    stream.events[first].wait += low + (high - low) * stream.rng.random()


def _usage_in_choice_only(stream: Stream) -> None:
    stream.usage_chunk = False


REWRITES: dict[str, Callable[[Stream], None]] = {
    "empty_reasoning": _empty_reasoning,
    "split_escapes": _split_escapes,
    "indexless_tool_calls": _indexless,
    "empty_content_with_tool_calls": _empty_content_with_tool_calls,
    "empty_deltas": _empty_deltas,
    "interleaved_choices": _interleaved,
    "long_first_gap": _long_first_gap,
    "usage_in_choice_only": _usage_in_choice_only,
}
assert set(REWRITES) == set(VARIANTS), "every named variation is rendered"


def varied_frames(completion: Completion, deltas: list[Delta], waits: list[float],
                  include_usage: bool, fingerprint: str | None, requested: tuple[str, ...],
                  rng: random.Random) -> tuple[list[bytes], list[float], list[str]]:
    """The stream's frames and waits with the requested variations, and their names."""
    events = [Event([choice_body(d, completion)], w) for d, w in zip(deltas, waits,
                                                                       strict=True)]
    stream = Stream(completion, events, include_usage, rng)
    chosen = choose(requested, stream)
    for name in REWRITES:  # a fixed order: escapes are cut before indices are dropped
        if name in chosen:
            REWRITES[name](stream)
    head, tail = frame_ends(completion, fingerprint)
    frames = [head + b",".join(orjson.dumps(c) for c in e.choices) + tail
              for e in stream.events]
    if stream.usage_chunk:
        frames.append(usage_frame(completion, head, tail))
    return [*frames, DONE], [e.wait for e in stream.events], chosen
