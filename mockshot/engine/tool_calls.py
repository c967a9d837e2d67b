"""Tool calls the seeded model makes: which tools, with what arguments, under which ids.

An agent-friendly model: when the conversation ends with the user's turn it calls one tool
(sometimes several in parallel) with arguments generated to satisfy each tool's JSON
Schema; when it ends with tool results it answers in text, so an agent loop always
terminates. `tool_choice` narrows that: "none" never calls, "required" always calls, the
object form calls the named function. The builtin `$web_search` answers with a receipt
(search id and the tokens the search results will add to the next prompt).
"""

from __future__ import annotations

import json
import random

from .schema_values import json_text
from .tokens import Tokenizer

__all__ = [
    "TOOL_CALL_OVERHEAD",
    "call_id",
    "is_builtin",
    "parameters",
    "place",
    "plan_tool_calls",
    "should_call",
    "tool_arguments",
    "tool_call_tokens",
]

TOOL_CALL_OVERHEAD = 3  # <|tool_call_begin|> … <|tool_call_argument_begin|> … <|tool_call_end|>
PARALLEL_CHANCE = 0.25
WEB_SEARCH = "$web_search"


def tool_call_tokens(call, tokenizer: Tokenizer) -> int:
    return TOOL_CALL_OVERHEAD + tokenizer.count(call.name) + tokenizer.count(call.arguments)


def should_call(tools: list[dict], tool_choice: object, messages: list[dict]) -> bool:
    if not tools or tool_choice == "none":
        return False
    if tool_choice == "required" or isinstance(tool_choice, dict):
        return True
    last = messages[-1] if messages else {}
    return last.get("role") == "user" and not _returned_media(messages)


def _returned_media(messages: list[dict]) -> bool:
    """A user turn of images only, right after tool results, is those results' payload
    (the Anthropic surface sends tool-returned images that way): still the tools' turn."""
    content = messages[-1].get("content")
    return (len(messages) > 1 and messages[-2].get("role") == "tool"
            and isinstance(content, list) and all(p.get("type") != "text" for p in content))


def _pick(tools: list[dict], tool_choice: object, rng: random.Random) -> list[dict]:
    if isinstance(tool_choice, dict):
        wanted = tool_choice["function"]["name"]
        return [t for t in tools if t["function"]["name"] == wanted][:1]
    if len(tools) > 1 and rng.random() < PARALLEL_CHANCE:
        return rng.sample(tools, 2 + int(rng.random() * min(2, len(tools) - 1)))
    return [tools[int(rng.random() * len(tools))]]


def is_builtin(tool: dict) -> bool:
    return tool.get("type") == "builtin_function" or tool["function"]["name"].startswith("$")


def parameters(tool: dict) -> dict:
    """The schema a tool's arguments follow (an object of anything when it gives none)."""
    return tool["function"].get("parameters") or {"type": "object"}


def tool_arguments(tool: dict, rng: random.Random, index: int = 0,
                   budget: int = 1 << 20) -> str:
    """Arguments that satisfy the tool's schema (a receipt for `$web_search`), within a
    reply of `budget` tokens; `index` is the tool's place in the request, for messages."""
    if is_builtin(tool):
        receipt = {"search_result": {"search_id": f"{rng.getrandbits(96):024x}"},
                   "usage": {"total_tokens": 1500 + int(rng.random() * 8000)}}
        return json.dumps(receipt, separators=(",", ":"))
    return json_text(parameters(tool), rng, f"tools[{index}].function.parameters", budget)


def call_id(name: str, index: int, style: str) -> str:
    """`get_weather_0` (kimi-k2.x) or `get_weather:0` (moonshot-v1)."""
    return f"{name}:{index}" if style == "colon" else f"{name}_{index}"


def place(tools: list[dict], tool: dict) -> int:
    """The tool's index in the request (for messages that name it)."""
    return next((i for i, offered in enumerate(tools) if offered is tool), 0)


def plan_tool_calls(tools: list[dict], tool_choice: object, rng: random.Random,
                    id_style: str, budget: int = 1 << 20) -> list[tuple[str, str, str, str]]:
    """(id, type, name, arguments) of each call this turn makes."""
    out = []
    for index, tool in enumerate(_pick(tools, tool_choice, rng)):
        name = tool["function"]["name"]
        kind = "builtin_function" if tool.get("type") == "builtin_function" else "function"
        arguments = tool_arguments(tool, rng, place(tools, tool), budget)
        out.append((call_id(name, index, id_style), kind, name, arguments))
    return out
