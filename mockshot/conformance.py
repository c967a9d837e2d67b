"""The conformance variations: legal ways the real service's OpenAI-compatible stream
varies, which a robust client must survive. Each is named, so a client test that breaks
says which one did; `all` (conformance mode) draws, per call and seeded, which apply.

Selected by the `variants` setting (`--variants NAME`, `MOCKSHOT_VARIANTS=a,b`, the pytest
marker's `variants=[...]`) or per call by `X-Mockshot-Variant: a,b` (`none` for none).
A variation that cannot apply to a reply (no tool calls, n = 1, ...) leaves it alone;
the journal entry and the `X-Mockshot-Variants` response header name those that applied.
Rendered by surfaces/variants.py.
"""

from __future__ import annotations

__all__ = ["ALL", "VARIANTS", "check_variants"]

ALL = "all"
VARIANTS: dict[str, str] = {
    "indexless_tool_calls": "tool-call deltas without `index`: every call's first delta in one "
                            "delta, argument fragments matched by position (seen from "
                            "kimi-k2.5, reference §2.4)",
    "split_escapes": "tool-call arguments with JSON escapes (\\uXXXX for non-ASCII), each "
                     "argument fragment cut inside an escape",
    "empty_deltas": "chunks whose delta is {} or {\"content\": \"\"} between the real ones",
    "empty_reasoning": "reasoning_content where none is expected and missing where it is: a "
                       "reply that did not reason sends one empty reasoning_content delta, a "
                       "thinking reply with empty reasoning sends none",
    "usage_in_choice_only": "no choices:[] usage chunk even with include_usage: usage only "
                            "inside the finish chunk's choice",
    "empty_content_with_tool_calls": "content: \"\" beside the tool calls in each call's first "
                                     "delta",
    "interleaved_choices": "n > 1: deltas of several choices in one chunk, in seeded order",
    "long_first_gap": "a 20-40 s wait (on the mock's clock) before the first token",
}


def check_variants(names: tuple[str, ...]) -> str | None:
    """What is wrong with a list of variation names (None: nothing)."""
    unknown = [n for n in names if n not in VARIANTS and n not in (ALL, "none")]
    if unknown:
        return (f"unknown conformance variant(s) {', '.join(map(repr, unknown))}; one of "
                f"{', '.join(VARIANTS)}, or all")
    return None
