"""Ready-made openai SDK clients for a mock, and the virtual-time retry they use.

On a virtual clock the SDK's own retry wait (`Retry-After`, or its exponential backoff)
moves the mock's clock instead of sleeping, so a test of retry behaviour takes no real
time and the journal shows the waits the SDK chose — what the resilience assertions read.
The SDK computes the wait (`_calculate_retry_timeout`); only the sleep is replaced.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..state.clock import Clock

__all__ = ["openai_client"]


def _openai() -> Any:
    try:
        import openai
    except ImportError:  # pragma: no cover - the message is the point
        raise RuntimeError("mockshot's ready-made clients need the openai SDK: "
                           "pip install openai") from None
    return openai


@lru_cache(maxsize=4)
def _on_clock(base: type) -> type:
    """`base` (OpenAI or AsyncOpenAI) whose retries wait on its `_mockshot_clock` (made
    once per class: a class per client would cost every test its creation)."""

    def wait(client: Any, retries_taken: int, max_retries: int, options: Any,
             response: Any) -> None:
        headers = response.headers if response is not None else None
        client._mockshot_clock.advance(client._calculate_retry_timeout(
            max_retries - retries_taken, options, headers))

    if base.__name__ == "AsyncOpenAI":
        async def _sleep_for_retry(self, *, retries_taken, max_retries, options, response):
            wait(self, retries_taken, max_retries, options, response)
    else:
        def _sleep_for_retry(self, *, retries_taken, max_retries, options, response):
            wait(self, retries_taken, max_retries, options, response)

    return type(base.__name__, (base,), {"_sleep_for_retry": _sleep_for_retry,
                                         "__module__": __name__})


def openai_client(http_client: Any, base_url: str, api_key: str, clock: Clock,
                  asynchronous: bool = False, **options: Any) -> Any:
    """An `openai.OpenAI` (or `AsyncOpenAI`) over `http_client`, retrying on `clock`."""
    openai = _openai()
    base = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    if not getattr(clock, "virtual", False) or not hasattr(base, "_calculate_retry_timeout"):
        return base(api_key=api_key, base_url=base_url, http_client=http_client, **options)
    client = _on_clock(base)(api_key=api_key, base_url=base_url, http_client=http_client,
                             **options)
    client._mockshot_clock = clock
    return client
