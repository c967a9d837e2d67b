"""Render engine completions the way Moonshot's OpenAI-compatible surface sends them.

Compact JSON, keys in the real order: `{"id","object","created","model","choices","usage"}`;
`message` as `role, content, reasoning_content?, tool_calls?`; `usage` with `cached_tokens`
(top level and in `prompt_tokens_details`) only on a cache hit and
`completion_tokens_details.reasoning_tokens` only for thinking replies (reference §1, §2).
"""

from __future__ import annotations

import orjson

from .engine import Choice, Completion, ToolCall, Usage

__all__ = ["completion_body", "usage_body"]


def usage_body(usage: Usage) -> dict:
    body: dict = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_tokens:
        body["cached_tokens"] = usage.cached_tokens
    if usage.reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    if usage.cached_tokens:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    return body


def tool_call_body(call: ToolCall, index: int) -> dict:
    return {
        "index": index,
        "id": call.id,
        "type": call.type,
        "function": {"name": call.name, "arguments": call.arguments},
    }


def message_body(choice: Choice) -> dict:
    message: dict = {"role": "assistant", "content": "".join(choice.content)}
    if choice.reasoning is not None:
        message["reasoning_content"] = "".join(choice.reasoning)
    if choice.tool_calls:
        message["tool_calls"] = [tool_call_body(c, i) for i, c in enumerate(choice.tool_calls)]
    return message


def completion_body(completion: Completion) -> bytes:
    return orjson.dumps(
        {
            "id": completion.id,
            "object": "chat.completion",
            "created": completion.created,
            "model": completion.model,
            "choices": [
                {"index": c.index, "message": message_body(c), "finish_reason": c.finish_reason}
                for c in completion.choices
            ],
            "usage": usage_body(completion.usage),
        }
    )
