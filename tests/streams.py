"""Reading an OpenAI-framed SSE stream in tests: its events, its chunks, and what the
deltas add up to (to compare a stream with the same call answered whole)."""

from __future__ import annotations

import json
import re
from typing import Any

FRAME = re.compile(rb"data: ([^\n]*)\n\n")
CHUNK_KEYS = ["id", "object", "created", "model", "choices", "system_fingerprint"]



def frames(body: bytes) -> list[bytes]:
    """The payload of every `data:` event, after checking the events cover every byte."""
    found = list(FRAME.finditer(body))
    assert b"".join(m.group(0) for m in found) == body, "bytes outside `data: ...\\n\\n` events"
    return [m.group(1) for m in found]


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def chunks(body: bytes) -> list[dict]:
    """The chunks of a complete stream: compact JSON events, then exactly one [DONE]."""
    payloads = frames(body)
    assert payloads[-1] == b"[DONE]" and payloads.count(b"[DONE]") == 1
    out = []
    for payload in payloads[:-1]:
        chunk = json.loads(payload)
        assert payload == compact(chunk), f"not compact JSON: {payload[:80]!r}"
        out.append(chunk)
    return out


def accumulate(stream: list[dict]) -> dict:
    """What the deltas add up to, per choice (message, finish_reason, the finish chunk's
    usage), and the top-level usage of an `include_usage` chunk."""
    choices: dict[int, dict] = {}
    usage = None
    for chunk in stream:
        if not chunk["choices"]:
            usage = chunk["usage"]
            continue
        for choice in chunk["choices"]:
            state = choices.setdefault(choice["index"], {"message": {}, "finish_reason": None,
                                                         "usage": None})
            message = state["message"]
            for key, value in choice["delta"].items():
                if key == "tool_calls":
                    calls = message.setdefault("tool_calls", [])
                    for part in value:
                        if part["index"] == len(calls):  # the call's first delta
                            calls.append({"index": part["index"], "id": part["id"],
                                          "type": part["type"],
                                          "function": dict(part["function"])})
                        else:
                            calls[part["index"]]["function"]["arguments"] += \
                                part["function"]["arguments"]
                elif key == "role":
                    message["role"] = value
                else:
                    message[key] = message.get(key, "") + value
            if choice["finish_reason"] is not None:
                state["finish_reason"] = choice["finish_reason"]
                state["usage"] = choice.get("usage")
    return {"choices": [choices[i] for i in sorted(choices)], "usage": usage}


