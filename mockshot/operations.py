"""Operation names: the route (`POST /v1/chat/completions`) and the neutral name rules,
filters and reports use (`chat` for both chat surfaces, `models`, `balance`, `files`, ...).
"""

from __future__ import annotations

__all__ = ["NEUTRAL", "neutral_operation", "operation_names"]

NEUTRAL = {
    "GET /v1/models": "models",
    "GET /v1/users/me/balance": "balance",
    "POST /v1/tokenizers/estimate-token-count": "estimate",
    "POST /anthropic/v1/messages/count_tokens": "estimate",
}


def neutral_operation(name: str) -> str:
    """`GET /v1/files/{file_id}` → `files`: the operation names rules and the journal use."""
    if name.endswith(("/chat/completions", "/v1/messages")):
        return "chat"
    return NEUTRAL.get(name) or name.partition(" ")[2].removeprefix("/v1/").split("/")[0]


def operation_names(operation: str) -> set[str]:
    """What an `operation` filter may say: the route, its path, or its neutral name."""
    return {operation, operation.partition(" ")[2], neutral_operation(operation)}
