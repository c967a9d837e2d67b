"""One token counter for usage, the estimate endpoint, the context check and billing.

Kimi's tokenizer is a tiktoken BPE whose pre-tokenizer splits Han characters one by one,
letter runs (with one leading space) as words, digits in groups of up to three, and
punctuation runs. `ApproxTokenizer` follows those same splits and charges each one what a
160k-entry vocabulary usually charges: a Han/kana/hangul character 1, a word of up to 8
letters 1 (longer words 1 per 8 letters), a digit group 1, a punctuation run 1 per 2
characters, a stray whitespace run 1. Where tiktoken is installed and a Kimi
`tiktoken.model` file is configured, `TiktokenTokenizer` gives exact counts instead.

Both can also split text into *pieces*: consecutive strings whose counts add up to the
count of the whole. The engine cuts replies to a token budget and streams them by pieces,
so `max_completion_tokens` is honoured to the token and stream and non-stream agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Protocol

__all__ = [
    "ApproxTokenizer",
    "PromptCost",
    "TiktokenTokenizer",
    "Tokenizer",
    "head_pieces",
    "load_tokenizer",
]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_SPLIT = re.compile(
    rf"([{_CJK}])"  # 1: one Han / kana / hangul character
    rf"|( ?[^\W\d_{_CJK}]+)"  # 2: a word with its leading space
    r"|(\d{1,3})"  # 3: up to three digits
    r"|( ?(?:[^\w\s]|_)+)"  # 4: a punctuation run (underscores too) with its leading space
    r"|(\s+)"  # 5: whitespace that no word claimed
)
WORD_LETTERS = 8  # letters one word-token covers
PER_MESSAGE = 4  # <|im_role|> role <|im_middle|> … <|im_end|>
REPLY_PRIMER = 3  # <|im_assistant|> assistant <|im_middle|> that the reply follows


class Tokenizer(Protocol):
    """What every part of mockshot needs from a tokenizer."""

    def count(self, text: str) -> int: ...

    def count_upto(self, text: str, most: int) -> int:
        """`count(text)` when it is at most `most`; otherwise any number above `most`,
        found without counting all of a text far past it."""
        ...

    def pieces(self, text: str) -> list[str]: ...


def _cost(kind: int, length: int) -> int:
    """Tokens of one split; `length` excludes the leading space a word or run carries."""
    if kind == 2:
        return (length - 1) // WORD_LETTERS + 1 if length > 1 else 1
    if kind == 4:
        return (length + 1) // 2
    return 1


_LONG_WORD = re.compile(rf"[^\W\d_{_CJK}]{{{WORD_LETTERS + 1},}}")
_LONG_PUNCT = re.compile(r"(?:[^\w\s]|_){3,}")
CACHED_TEXT = 4096  # texts up to this length are counted once (system prompts repeat)


@lru_cache(maxsize=8192)
def _count_cached(text: str) -> int:
    return _count(text)


def _count(text: str) -> int:
    """Every split costs 1; long words and punctuation runs cost more (three C-level
    regex passes instead of a Python loop over every match)."""
    total = len(_SPLIT.findall(text))
    for word in _LONG_WORD.findall(text):
        total += (len(word) - 1) // WORD_LETTERS
    for run in _LONG_PUNCT.findall(text):
        total += (len(run) + 1) // 2 - 1
    return total


class ApproxTokenizer:
    """A deterministic approximation of Kimi's tokenizer (see the module docstring)."""

    exact_pieces = True

    def count(self, text: str) -> int:
        return _count_cached(text) if len(text) <= CACHED_TEXT else _count(text)

    def count_upto(self, text: str, most: int) -> int:
        """Every split costs at least one token and spans at least one character, so a
        text no longer than `most` is counted whole; a longer one is first asked for its
        split past `most` (C-level, stopping there: 60 ms for a 30 MB message, which
        whole takes 3 s to count)."""
        if len(text) <= most:
            return self.count(text)
        if next(islice(_SPLIT.finditer(text), most, None), None) is not None:
            return most + 1
        return self.count(text)

    def pieces(self, text: str) -> list[str]:
        """Split into one-token pieces (a long word becomes several)."""
        out: list[str] = []
        for match in _SPLIT.finditer(text):
            kind, piece = match.lastindex or 5, match.group()
            step = WORD_LETTERS if kind == 2 else 2 if kind == 4 else 0
            head = 1 if piece[0] == " " and kind in (2, 4) else 0
            if step and _cost(kind, len(piece) - head) > 1:
                out.append(piece[: step + head])
                rest = piece[step + head :]
                out.extend(rest[i : i + step] for i in range(0, len(rest), step))
            else:
                out.append(piece)
        return out


class TiktokenTokenizer:
    """Exact counts from Kimi's published `tiktoken.model` (needs the tiktoken package)."""

    exact_pieces = False
    PATTERN = "|".join(
        [
            r"[\p{Han}]+",
            r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*"
            r"[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+"
            r"[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            r"\p{N}{1,3}",
            r" ?[^\s\p{L}\p{N}]+[\r\n]*",
            r"\s*[\r\n]+",
            r"\s+(?!\S)",
            r"\s+",
        ]
    )

    def __init__(self, model_file: str | Path) -> None:
        try:
            import tiktoken
            from tiktoken.load import load_tiktoken_bpe
        except ImportError as exc:
            raise RuntimeError(
                "tokenizer_model is set but tiktoken is not installed: pip install tiktoken"
            ) from exc
        ranks = load_tiktoken_bpe(str(model_file))
        self._encoding = tiktoken.Encoding(
            name="kimi", pat_str=self.PATTERN, mergeable_ranks=ranks, special_tokens={}
        )

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))

    def count_upto(self, text: str, most: int) -> int:
        """A token is at least one UTF-8 byte; a long text is first counted on a prefix
        (16 characters a token), whose count past `most` settles it."""
        if len(text) * 4 <= most:
            return self.count(text)
        prefix = text[: 16 * (most + 2)]
        counted = self.count(prefix)
        if counted > most + 1 or len(prefix) == len(text):
            return counted
        return self.count(text)

    def pieces(self, text: str) -> list[str]:
        """Token by token, holding back bytes until they decode as whole characters."""
        out, pending = [], b""
        for token in self._encoding.encode_ordinary(text):
            pending += self._encoding.decode_single_token_bytes(token)
            try:
                out.append(pending.decode("utf-8"))
                pending = b""
            except UnicodeDecodeError:
                continue
        return out


HEAD_MARGIN = 8  # pieces at a prefix's end that may differ from the whole text's


def head_pieces(tokenizer: Tokenizer, text: str, most: int) -> list[str]:
    """The pieces of `text`, or its first `most + 1` when it has more (enough for a
    caller to see it must cut at `most`), split from a prefix growing twofold: a reply
    cut at 50 tokens does not split the 300,000 characters after them. Only the last
    pieces of a prefix can differ from the whole text's, so a margin of them is dropped."""
    size = 4 * (most + HEAD_MARGIN + 1)
    while size < len(text):
        head = tokenizer.pieces(text[:size])
        if len(head) > most + HEAD_MARGIN:
            return head[: most + 1]
        size *= 2
    return tokenizer.pieces(text)


def _web_search_tokens(message: dict) -> int:
    """A `$web_search` tool result carries the search results the service injects into
    the prompt; its receipt's `usage.total_tokens` says how many (reference §4.3)."""
    if message.get("role") != "tool" or message.get("name") != "$web_search":
        return 0
    try:
        tokens = json.loads(message.get("content") or "")["usage"]["total_tokens"]
    except (ValueError, KeyError, TypeError, RecursionError):  # any text a client sends
        return 0
    if isinstance(tokens, bool) or not isinstance(tokens, int | float) or not 0 <= tokens < 2**63:
        return 0  # also NaN, infinity, negatives: no receipt the service would write
    return int(tokens)


def load_tokenizer(model_file: str | None) -> Tokenizer:
    return TiktokenTokenizer(model_file) if model_file else ApproxTokenizer()


class PromptCost:
    """Prompt tokens of a chat request: message texts plus the chat template's overhead."""

    def __init__(self, tokenizer: Tokenizer, image_tokens: int, video_tokens: int) -> None:
        self.tokenizer = tokenizer
        self.image_tokens = image_tokens
        self.video_tokens = video_tokens

    def messages(self, messages: Iterable[dict], keep_reasoning: bool = False) -> int:
        return REPLY_PRIMER + sum(self.per_message(messages, keep_reasoning))

    def per_message(self, messages: Iterable[dict], keep_reasoning: bool = False,
                    most: int | None = None) -> list[int]:
        """Each message's tokens with its template overhead (prefix sums give cache hits).
        With `most`, counting stops once the running total passes it: such a call is
        refused anyway, and a 30 MB message then costs what the window is worth."""
        if most is None:
            return [PER_MESSAGE + self.message(m, keep_reasoning) for m in messages]
        out, left = [], most - REPLY_PRIMER
        for message in messages:
            cost = PER_MESSAGE + self.message(message, keep_reasoning, left)
            out.append(cost)
            left -= cost
            if left < 0:
                break
        return out

    def _counter(self, left: int | None) -> Callable[[str], int]:
        """`count`, or a count that spends from `left` tokens and stops past them."""
        if left is None:
            return self.tokenizer.count
        budget = [left]

        def count(text: str) -> int:
            spent = self.tokenizer.count_upto(text, max(budget[0], 0))
            budget[0] -= spent
            return spent

        return count

    def message(self, message: dict, keep_reasoning: bool, left: int | None = None) -> int:
        count = self._counter(left)
        total = self.content(message.get("content"), count)
        if name := message.get("name"):
            total += count(name)
        if keep_reasoning and (reasoning := message.get("reasoning_content")):
            total += count(reasoning)
        total += _web_search_tokens(message)
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += 2 + count(function.get("name", "")) + count(function.get("arguments", ""))
        return total

    def content(self, content: object, count: Callable[[str], int] | None = None) -> int:
        count = count or self.tokenizer.count
        if isinstance(content, str):
            return count(content)
        total = 0
        for part in content or ():
            kind = part.get("type")
            if kind == "text":
                total += count(part.get("text", ""))
            elif kind == "image_url":
                total += self.image_tokens
            elif kind == "video_url":
                total += self.video_tokens
        return total

    def tools(self, tools: list[dict] | None, most: int | None = None) -> int:
        """Tool definitions are rendered into the prompt as JSON."""
        if not tools:
            return 0
        import orjson

        return self._counter(most)(orjson.dumps(tools).decode()) + 2 * len(tools)
