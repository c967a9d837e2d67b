"""What the store knows of an account: its money, its tier's limits, and its usage windows.

The windows are sliding, on the mock's clock: a minute for requests (RPM) and tokens
(TPM), a day for tokens (TPD), plus the calls in flight (concurrency, an open stream
counting until it ends). A refused call takes nothing from any window, and the wait a
refusal reports is exact: when the oldest entry that blocks the call leaves its window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["AccountState", "LimitHit", "Limits", "Plan", "Windows"]

MINUTE, DAY = 60.0, 86400.0


@dataclass(frozen=True, slots=True)
class Limits:
    """One tier's limits; None: unlimited."""

    concurrency: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    tpd: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {"concurrency": self.concurrency, "rpm": self.rpm, "tpm": self.tpm,
                "tpd": self.tpd}


@dataclass(frozen=True, slots=True)
class Plan:
    """How an account starts: cash and voucher (USD) and its tier (None: no limits)."""

    cash: float
    voucher: float = 0.0
    tier: int | None = None


DEFAULT_PLAN = Plan(1000.0)


@dataclass(frozen=True, slots=True)
class LimitHit:
    """A limit that refuses a call: which, its value, where the account stands, and the
    seconds (on the mock's clock) until the call would be admitted."""

    dimension: str  # concurrency | rpm | tpm | tpd
    limit: int
    current: int
    retry_after: float


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account as the control API shows it."""

    cash: float
    voucher: float
    tier: int | None
    limits: Limits | None
    usage: dict[str, int]


class Windows:
    """One account's usage, as sliding windows of (time, amount)."""

    __slots__ = ("day", "day_sum", "inflight", "minute", "minute_sum", "requests")

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.minute: deque[tuple[float, int]] = deque()
        self.day: deque[tuple[float, int]] = deque()
        self.minute_sum = self.day_sum = self.inflight = 0

    def _expire(self, now: float) -> None:
        while self.requests and self.requests[0] <= now - MINUTE:
            self.requests.popleft()
        while self.minute and self.minute[0][0] <= now - MINUTE:
            self.minute_sum -= self.minute.popleft()[1]
        while self.day and self.day[0][0] <= now - DAY:
            self.day_sum -= self.day.popleft()[1]

    def admit(self, limits: Limits, now: float, tokens: int) -> LimitHit | None:
        """The first limit this call would break, checked in the service's order."""
        self._expire(now)
        if limits.concurrency is not None and self.inflight >= limits.concurrency:
            return LimitHit("concurrency", limits.concurrency, self.inflight, 1.0)
        if limits.rpm is not None and len(self.requests) >= limits.rpm:
            wait = self.requests[len(self.requests) - limits.rpm] + MINUTE - now
            return LimitHit("rpm", limits.rpm, len(self.requests), wait)
        hit = _tokens_hit("tpm", limits.tpm, self.minute, self.minute_sum, tokens, now, MINUTE)
        return hit or _tokens_hit("tpd", limits.tpd, self.day, self.day_sum, tokens, now, DAY)

    def take(self, now: float, tokens: int, hold: bool) -> None:
        self.requests.append(now)
        self.minute.append((now, tokens))
        self.day.append((now, tokens))
        self.minute_sum += tokens
        self.day_sum += tokens
        self.inflight += hold

    def release(self) -> None:
        self.inflight = max(self.inflight - 1, 0)

    def usage(self, now: float) -> dict[str, int]:
        self._expire(now)
        return {"concurrency": self.inflight, "rpm": len(self.requests),
                "tpm": self.minute_sum, "tpd": self.day_sum}


def _tokens_hit(dimension: str, limit: int | None, window: deque[tuple[float, int]],
                used: int, tokens: int, now: float, span: float) -> LimitHit | None:
    """A token window's refusal: the wait is until enough of the oldest entries leave it
    for this call to fit (a whole window, when the call alone is over the limit)."""
    if limit is None or used + tokens <= limit:
        return None
    if tokens > limit:
        return LimitHit(dimension, limit, used + tokens, span)
    left = used
    for at, amount in window:
        left -= amount
        if left + tokens <= limit:
            return LimitHit(dimension, limit, used + tokens, at + span - now)
    return LimitHit(dimension, limit, used + tokens, span)  # unreachable: tokens <= limit
