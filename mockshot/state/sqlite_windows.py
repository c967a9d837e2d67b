"""Tier limits on SQLite: the same sliding windows as `accounts.Windows`, as rows.

Each admitted call is a row (account, time, tokens); a window is the rows newer than its
span, pruned as calls come (a day's rows only while a TPD limit applies). Runs inside the
caller's write transaction, so admission across worker processes is exact.
"""

from __future__ import annotations

import sqlite3

from .accounts import DAY, MINUTE, LimitHit, Limits

__all__ = ["admit", "take", "usage"]


def _prune(db: sqlite3.Connection, account: str, limits: Limits, now: float) -> None:
    horizon = DAY if limits.tpd is not None else MINUTE
    db.execute("DELETE FROM requests WHERE account = ? AND at <= ?", (account, now - horizon))


def _tokens_hit(db: sqlite3.Connection, dimension: str, limit: int | None, account: str,
                since: float, span: float, tokens: int, now: float) -> LimitHit | None:
    if limit is None:
        return None
    used = db.execute("SELECT coalesce(sum(tokens), 0) FROM requests WHERE account = ? "
                      "AND at > ?", (account, since)).fetchone()[0]
    if used + tokens <= limit:
        return None
    if tokens > limit:
        return LimitHit(dimension, limit, used + tokens, span)
    left = used
    for at, amount in db.execute("SELECT at, tokens FROM requests WHERE account = ? AND "
                                 "at > ? ORDER BY at", (account, since)):
        left -= amount
        if left + tokens <= limit:
            return LimitHit(dimension, limit, used + tokens, at + span - now)
    return LimitHit(dimension, limit, used + tokens, span)


def admit(db: sqlite3.Connection, account: str, limits: Limits, now: float, tokens: int,
          inflight: int) -> LimitHit | None:
    """The first limit the call would break (concurrency, RPM, TPM, TPD), or None."""
    _prune(db, account, limits, now)
    if limits.concurrency is not None and inflight >= limits.concurrency:
        return LimitHit("concurrency", limits.concurrency, inflight, 1.0)
    minute = now - MINUTE
    if limits.rpm is not None:
        count = db.execute("SELECT count(*) FROM requests WHERE account = ? AND at > ?",
                           (account, minute)).fetchone()[0]
        if count >= limits.rpm:
            oldest = db.execute("SELECT at FROM requests WHERE account = ? AND at > ? "
                                "ORDER BY at LIMIT 1 OFFSET ?",
                                (account, minute, count - limits.rpm)).fetchone()[0]
            return LimitHit("rpm", limits.rpm, count, oldest + MINUTE - now)
    return (_tokens_hit(db, "tpm", limits.tpm, account, minute, MINUTE, tokens, now)
            or _tokens_hit(db, "tpd", limits.tpd, account, now - DAY, DAY, tokens, now))


def take(db: sqlite3.Connection, account: str, now: float, tokens: int) -> None:
    db.execute("INSERT INTO requests VALUES (?, ?, ?)", (account, now, tokens))
    db.execute("UPDATE accounts SET inflight = inflight + 1 WHERE account = ?", (account,))


def usage(db: sqlite3.Connection, account: str, now: float, inflight: int) -> dict[str, int]:
    def tokens(since: float) -> tuple[int, int]:
        return db.execute("SELECT count(*), coalesce(sum(tokens), 0) FROM requests WHERE "
                          "account = ? AND at > ?", (account, since)).fetchone()

    requests, minute_tokens = tokens(now - MINUTE)
    return {"concurrency": inflight, "rpm": requests, "tpm": minute_tokens,
            "tpd": tokens(now - DAY)[1]}
