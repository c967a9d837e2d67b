"""What a served call costs, USD: tokens at the (routed) model's list prices, the cached
part of the prompt at its cache-hit price, builtin tool calls at their per-call price, and
batch lines at the batch discount (reference §9, §4.3)."""

from __future__ import annotations

from ..engine.completion import ChatCall, Completion
from .plans import billing_data

__all__ = ["BATCH", "LIVE", "cost"]

LIVE = 1.0


BATCH = float(billing_data()["batch_price_factor"])  # a batch line's share of list (60%)


def cost(call: ChatCall, completion: Completion, factor: float = LIVE) -> float:
    """The call's price: tokens times `factor` (LIVE, or BATCH for batch lines), plus
    its builtin tool calls (a `$web_search` receipt: the search already ran)."""
    price = (call.billed_model or call.model).price
    usage = completion.usage
    hit = price.get("input_cache_hit")
    cached = usage.cached_tokens if hit is not None else 0
    tokens = (
        (usage.prompt_tokens - cached) * (price.get("input") or 0.0)
        + cached * (hit or 0.0)
        + usage.completion_tokens * (price.get("output") or 0.0)
    ) / 1_000_000
    return tokens * factor + _tool_calls(completion)


TOOL_CALL_PRICES: dict[str, float] = billing_data()["tool_call_prices"]


def _tool_calls(completion: Completion) -> float:
    total = 0.0
    for choice in completion.choices:
        for call in choice.tool_calls:
            if call.type == "builtin_function":
                total += TOOL_CALL_PRICES.get(call.name, 0.0)
    return total
