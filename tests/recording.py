"""A recording session for the record/replay tests: an upstream mockshot with faults on,
and an app's calls on both surfaces — plain, streamed, a tool round trip, a stream cut,
an error frame, a malformed frame, a 429 with Retry-After and its retry.

`run_session(client)` makes the calls through any httpx(2) client and returns what the
client saw of each (status, content type, Retry-After, body bytes), so a recording and
its replay can be compared byte for byte.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

KEY = "sk-recording-test"
AUTH = {"Authorization": f"Bearer {KEY}"}

UPSTREAM_RULES = {"scenario": "upstream-faults", "rules": [
    {"match": {"contains": "weather", "tool_result": False},
     "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}},
    {"match": {"contains": "cut", "stream": True},
     "reply": {"fault": {"kind": "stream_cut", "after": 3}}},
    {"match": {"contains": "oops", "stream": True},
     "reply": {"fault": {"kind": "error_frame", "after": 2}}},
    {"match": {"contains": "garble", "stream": True},
     "reply": {"fault": {"kind": "malformed_frame", "after": 2}}},
    {"match": {"contains": "busy"}, "times": 1,
     "reply": {"error": {"type": "rate_limit_reached_error", "retry_after": 2}}},
]}

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


class Seen(NamedTuple):
    """What a client saw of one answer."""

    status: int
    content_type: str | None
    retry_after: str | None
    body: bytes


def seen(response: Any) -> Seen:
    return Seen(response.status_code, response.headers.get("content-type"),
                response.headers.get("retry-after"), response.content)


def chat(text: str, stream: bool = False, **extra: Any) -> dict:
    return {"model": "kimi-k2.6", "messages": [{"role": "user", "content": text}],
            "stream": stream, **extra}


def _post(client: Any, path: str, body: dict, headers: dict | None = None) -> Seen:
    return seen(client.post(path, headers={**AUTH, **(headers or {})}, json=body))


def _tool_round_trip(client: Any) -> list[Seen]:
    """Turn 0 asks, the model calls get_weather; turn 1 sends the result back."""
    ask = chat("What is the weather in Paris?", tools=[WEATHER_TOOL],
               thinking={"type": "disabled"})
    first = _post(client, "/v1/chat/completions", ask)
    message = json.loads(first.body)["choices"][0]["message"]
    call = message["tool_calls"][0]
    follow = {**ask, "messages": [*ask["messages"], message,
                                  {"role": "tool", "tool_call_id": call["id"],
                                   "content": '{"sky": "clear", "celsius": 21}'}],
              "stream": True}
    return [first, _post(client, "/v1/chat/completions", follow)]


def run_session(client: Any) -> list[Seen]:
    """Every call of the session, in order, as the client saw each answer."""
    openai, anthropic = "/v1/chat/completions", "/anthropic/v1/messages"
    out = [_post(client, openai, chat("Hello")),
           _post(client, openai, chat("Hello", True, stream_options={"include_usage": True}))]
    out += _tool_round_trip(client)
    out += [_post(client, openai, chat(f"{text}, please", True))
            for text in ("cut", "oops", "garble")]
    out += [_post(client, openai, chat("busy?")), _post(client, openai, chat("busy?"))]
    message = {"model": "kimi-k2.6", "max_tokens": 200,
               "messages": [{"role": "user", "content": "Hi from Claude Code"}]}
    out += [_post(client, anthropic, message, {"anthropic-version": "2023-06-01"}),
            _post(client, anthropic, {**message, "stream": True})]
    return out
