"""Write the captures in recordings/mockshot-self/ by recording mockshot itself.

There is no network access to the real service where this project is built, so the
captures it ships are recorded from a second mockshot standing in for it (faults on:
a stream cut, an error frame, a malformed frame, a 429 with Retry-After), and say so in
their description. They are what the project's CI replays byte for byte and runs
`mockshot diff` on; recordings of the real service, made the same way with
`mockshot record --upstream https://api.moonshot.ai --out DIR`, belong beside them.

    .venv/bin/python recordings/make_recordings.py

Contents are pinned by seed; the waits are measured, so each run writes other delays.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mockshot import Mock, ServedMock, Settings, __version__, create_app, http_client
from mockshot.recording import Options, use_cassette

OUT = Path(__file__).resolve().parent / "mockshot-self"
SOURCE = f"mockshot {__version__} itself, NOT the real Moonshot service (a stand-in capture)"
HEADERS = {"Authorization": "Bearer sk-capture", "X-Mockshot-Seed": "2026",
           "X-Mockshot-Pacing": "ttft_ms=120,tokens_per_second=400"}
UPSTREAM_RULES = {"scenario": "stand-in-faults", "rules": [
    {"match": {"contains": "weather", "tool_result": False},
     "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}},
    {"match": {"contains": "cut", "stream": True},
     "reply": {"fault": {"kind": "stream_cut", "after": 4}}},
    {"match": {"contains": "overload", "stream": True},
     "reply": {"fault": {"kind": "error_frame", "after": 3}}},
    {"match": {"contains": "garble", "stream": True},
     "reply": {"fault": {"kind": "malformed_frame", "after": 3}}},
    {"match": {"contains": "busy"}, "times": 1,
     "reply": {"error": {"type": "rate_limit_reached_error", "retry_after": 1}}},
]}
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


def chat(text: str, **extra: object) -> dict:
    return {"model": "kimi-k2.6", "messages": [{"role": "user", "content": text}], **extra}


def app_session(client) -> None:
    post = lambda body: client.post("/v1/chat/completions", headers=HEADERS, json=body)  # noqa: E731
    post(chat("Hello"))
    post(chat("Write a haiku about the sea", stream=True,
              stream_options={"include_usage": True}))
    post({"model": "moonshot-v1-8k", "stream": True, "max_tokens": 60,
          "messages": [{"role": "system", "content": "You are Kimi."},
                       {"role": "user", "content": "Say hi"}]})
    ask = chat("What is the weather in Paris?", tools=[WEATHER], thinking={"type": "disabled"})
    message = post(ask).json()["choices"][0]["message"]
    result = {"role": "tool", "tool_call_id": message["tool_calls"][0]["id"],
              "content": json.dumps({"sky": "clear", "celsius": 21})}
    post({**ask, "stream": True, "messages": [*ask["messages"], message, result]})


def fault_session(client) -> None:
    post = lambda body: client.post("/v1/chat/completions", headers=HEADERS, json=body)  # noqa: E731
    for text in ("Tell a long story, then cut", "overload me", "garble this"):
        post(chat(text, stream=True, max_tokens=80))
    post(chat("busy?"))
    post(chat("busy?"))  # the retry after Retry-After


def anthropic_session(client) -> None:
    body = {"model": "kimi-k2.6", "max_tokens": 120,
            "messages": [{"role": "user", "content": "Hi from an Anthropic client"}]}
    headers = {**HEADERS, "anthropic-version": "2023-06-01"}
    client.post("/anthropic/v1/messages", headers=headers, json=body)
    client.post("/anthropic/v1/messages", headers=headers, json={**body, "stream": True})


def record(upstream: ServedMock, name: str, session) -> None:
    mock = Mock(Settings(clock="virtual", log_level="warning"))
    use_cassette(mock, OUT / f"{name}.yaml", "record", upstream=upstream.url,
                 options=Options(source=SOURCE))
    with http_client(create_app(mock=mock)) as client:
        session(client)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    settings = Settings(port=0, log_level="warning", prompt_cache=False)
    with ServedMock(settings) as upstream:
        upstream.mock.scenarios.load_sync(UPSTREAM_RULES)
        for name, session in (("app-session", app_session), ("faults", fault_session),
                              ("anthropic", anthropic_session)):
            upstream.mock.reset()
            record(upstream, name, session)
    print(f"wrote {', '.join(sorted(p.name for p in OUT.iterdir()))} to {OUT}")


if __name__ == "__main__":
    main()
