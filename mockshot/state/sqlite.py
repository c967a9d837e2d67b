"""`SQLiteStore`: the state in `DIR/state.db`, surviving restarts and shared by workers.

Every operation is one transaction (writes take the lock first, `BEGIN IMMEDIATE`), so the
store's atomic steps stay atomic across processes: `begin` admits, counts and takes a
rule for exactly one caller at a time, and a debit is never lost. Operations run on one
thread per store (SQLite's connections are not shared between threads), so the event loop
never waits on the disk. The rules of the memory store are followed exactly; this module
only says how each one reads and writes rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import sqlite_windows as windows
from .accounts import DEFAULT_PLAN, AccountState, Limits, Plan
from .blobs import Blobs
from .journal import UPDATABLE, JournalEntry
from .sqlite_files import FilesInSQLite
from .sqlite_schema import open_state
from .store import (
    KEEP,
    LIMITED,
    QUOTA,
    START_STATE,
    UNMATCHED,
    Balance,
    Begin,
    Begun,
    Candidate,
    Charge,
    Progress,
    RuleSet,
    Store,
    StoreError,
)

__all__ = ["SQLiteStore"]

T = TypeVar("T")
REQUEST = frozenset({"request"})  # kept in its own column, as the bytes sent
Db = sqlite3.Connection


def _meta(db: Db, key: str) -> str:
    return db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]


def _set_meta(db: Db, key: str, value: object) -> None:
    db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(value), key))


def _bump(db: Db, key: str) -> int:
    value = int(_meta(db, key)) + 1
    _set_meta(db, key, value)
    return value


class SQLiteStore(FilesInSQLite, Store):
    """Accounts, rules and the journal here; files and batches in `FilesInSQLite`, their
    bytes in `DIR/files/`. `recover` (the one process that opens the state first) sweeps
    what a killed server left half-done; workers opening it beside others do not."""

    def __init__(self, directory: str | Path, plan: Plan = DEFAULT_PLAN,
                 plans: Mapping[str, Plan] | None = None,
                 tiers: Mapping[int, Limits] | None = None, journal_size: int = 1000,
                 lru_size: int = 100_000, recover: bool = True) -> None:
        self.directory = Path(directory)
        self._db = open_state(self.directory)
        self._init_records(Blobs(self.directory / "files", durable=True), recover)
        self._plan, self._plans, self._tiers = plan, dict(plans or {}), dict(tiers or {})
        self._journal_size, self._lru_size = journal_size, lru_size
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mockshot-sqlite")

    # -- running operations -----------------------------------------------------------
    def _transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn` in one write transaction: committed whole, or rolled back whole (a commit
        that fails, as on a full disk, rolls back too); a disk that refuses is a
        StoreError, which the road answers with a clean 500."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db, *args)
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise StoreError(f"the state in {self.directory} cannot be written: {exc}") from None
        return result

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, fn, *args)

    def sync(self, operation: Awaitable[T]) -> T:
        async def run() -> T:
            return await operation

        return asyncio.run(run())

    def close(self) -> None:
        self._thread.submit(self._db.close).result()
        self._thread.shutdown()

    # -- accounts ------------------------------------------------------------------------
    def _ensure(self, db: Db, account: str) -> tuple[float, float, int | None, int]:
        plan = self._plans.get(account, self._plan)
        db.execute("INSERT OR IGNORE INTO accounts VALUES (?, ?, ?, ?, 0)",
                   (account, plan.cash, plan.voucher, plan.tier))
        return db.execute("SELECT cash, voucher, tier, inflight FROM accounts WHERE "
                          "account = ?", (account,)).fetchone()

    def _charge(self, db: Db, account: str, amount: float) -> Balance:
        cash, voucher, _, _ = self._ensure(db, account)
        charged = Balance(cash, voucher).charged(amount)
        db.execute("UPDATE accounts SET cash = ?, voucher = ? WHERE account = ?",
                   (charged.cash, charged.voucher, account))
        return charged

    async def balance(self, account: str) -> Balance:
        def read(db: Db) -> Balance:
            cash, voucher, _, _ = self._ensure(db, account)
            return Balance(cash, voucher)

        return await self._run(read)

    async def set_balance(self, account: str, cash: float, voucher: float = 0.0) -> Balance:
        await self.set_account(account, cash, voucher)
        return Balance(cash, voucher)

    async def debit(self, account: str, amount: float) -> Balance:
        return await self._run(self._charge, account, amount)

    def _state(self, db: Db, account: str, now: float | None) -> AccountState:
        cash, voucher, tier, inflight = self._ensure(db, account)
        limits = self._tiers.get(tier) if tier is not None else None
        usage = windows.usage(db, account, now, inflight) if now is not None else {}
        return AccountState(cash, voucher, tier, limits, usage)

    async def account(self, account: str, now: float) -> AccountState:
        return await self._run(self._state, account, now)

    async def set_account(self, account: str, cash: float = KEEP, voucher: float = KEEP,
                          tier: int | None = KEEP) -> AccountState:
        def write(db: Db) -> AccountState:
            old_cash, old_voucher, old_tier, _ = self._ensure(db, account)
            db.execute("UPDATE accounts SET cash = ?, voucher = ?, tier = ? WHERE account = ?",
                       (old_cash if cash is KEEP else cash,
                        old_voucher if voucher is KEEP else voucher,
                        old_tier if tier is KEEP else tier, account))
            return self._state(db, account, None)

        return await self._run(write)

    # -- the hot path --------------------------------------------------------------------
    async def begin(self, begin: Begin) -> Begun:
        return await self._run(self._begin, begin)

    def _begin(self, db: Db, begin: Begin) -> Begun:
        if begin.rules_version != int(_meta(db, "rules_version")):
            return Begun(stale=True)
        cash, voucher, tier, inflight = self._ensure(db, begin.account)
        if begin.require_balance and Balance(cash, voucher).available <= 0:
            return Begun(refused=QUOTA)
        limits = self._tiers.get(tier) if begin.limited and tier is not None else None
        if limits is not None and (hit := windows.admit(db, begin.account, limits, begin.now,
                                                         begin.tokens, inflight)):
            return Begun(refused=LIMITED, limit=hit)
        found = db.execute("SELECT n FROM calls WHERE operation = ?", (begin.operation,))
        nth = (found.fetchone() or (0,))[0] + 1
        taken = next((c for c in begin.candidates if self._holds(db, c, nth)), None)
        if taken is None and begin.strict:
            return Begun(refused=UNMATCHED, nth=nth)
        db.execute("INSERT OR REPLACE INTO calls VALUES (?, ?)", (begin.operation, nth))
        begun = Begun(nth=nth, prefix_hits=self._hits(db, begin.account, begin.prefixes))
        if limits is not None:
            windows.take(db, begin.account, begin.now, begin.tokens)
            begun.held = True
        if taken is not None:
            begun.rule, begun.use = taken.name, self._take(db, taken)
        elif begin.fingerprint is not None:
            begun.ordinal = self._next_ordinal(db, begin.fingerprint)
        return begun

    @staticmethod
    def _uses(db: Db, name: str) -> int:
        return (db.execute("SELECT n FROM uses WHERE rule = ?", (name,)).fetchone() or (0,))[0]

    def _holds(self, db: Db, candidate: Candidate, nth: int) -> bool:
        if candidate.nth and nth not in candidate.nth:
            return False
        if candidate.state is not None:
            found = db.execute("SELECT state FROM states WHERE scenario = ?",
                               (candidate.scenario,)).fetchone()
            if (found[0] if found else START_STATE) != candidate.state:
                return False
        return candidate.times is None or self._uses(db, candidate.name) < candidate.times

    def _take(self, db: Db, candidate: Candidate) -> int:
        use = self._uses(db, candidate.name)
        db.execute("INSERT OR REPLACE INTO uses VALUES (?, ?)", (candidate.name, use + 1))
        if candidate.then_state:
            db.execute("INSERT OR REPLACE INTO states VALUES (?, ?)",
                       (candidate.scenario, candidate.then_state))
        return use

    def _next_ordinal(self, db: Db, fingerprint: bytes) -> int:
        found = db.execute("SELECT n FROM ordinals WHERE fingerprint = ?", (fingerprint,))
        ordinal = (found.fetchone() or (-1,))[0] + 1
        db.execute("INSERT OR REPLACE INTO ordinals VALUES (?, ?, ?)",
                   (fingerprint, ordinal, _bump(db, "seq")))
        self._cap(db, "ordinals")
        return ordinal

    def _cap(self, db: Db, table: str) -> None:
        """LRU bounds, as the memory store keeps them: the least recently used go."""
        excess = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - self._lru_size
        if excess > 0:
            db.execute(f"DELETE FROM {table} WHERE seq IN (SELECT seq FROM {table} "
                       "ORDER BY seq LIMIT ?)", (excess,))

    @staticmethod
    def _hits(db: Db, account: str, prefixes: tuple[bytes, ...]) -> int:
        hits, owner = 0, account.encode() + b"\0"
        for digest in prefixes:
            if db.execute("SELECT 1 FROM prefixes WHERE key = ?", (owner + digest,)) \
                    .fetchone() is None:
                break
            hits += 1
        return hits

    async def settle(self, entry: JournalEntry, charge: Charge | None = None,
                     release: str | None = None) -> int:
        return await self._run(self._settle, entry, charge, release)

    def _settle(self, db: Db, entry: JournalEntry, charge: Charge | None,
                release: str | None) -> int:
        if release is not None:
            self._release(db, release)
        if charge is not None:
            if charge.amount:
                self._charge(db, charge.account, charge.amount)
            owner = charge.account.encode() + b"\0"
            for digest in charge.prefixes:
                db.execute("INSERT OR REPLACE INTO prefixes VALUES (?, ?)",
                           (owner + digest, _bump(db, "seq")))
            self._cap(db, "prefixes")
        entry.id = _bump(db, "journal_id")
        db.execute("INSERT INTO journal VALUES (?, ?, ?)",
                   (entry.id, json.dumps(entry.portable(REQUEST)), entry.request))
        db.execute("DELETE FROM journal WHERE id <= ?", (entry.id - self._journal_size,))
        return entry.id

    @staticmethod
    def _release(db: Db, account: str) -> None:
        db.execute("UPDATE accounts SET inflight = max(inflight - 1, 0) WHERE account = ?",
                   (account,))

    async def release(self, account: str) -> None:
        await self._run(self._release, account)

    async def update(self, entry_id: int, release: str | None = None, **facts: Any) -> None:
        unknown = set(facts) - UPDATABLE
        if unknown:
            raise ValueError(f"journal entries cannot update {', '.join(sorted(unknown))}")

        def write(db: Db) -> None:
            if release is not None:
                self._release(db, release)
            found = db.execute("SELECT entry FROM journal WHERE id = ?", (entry_id,)).fetchone()
            if found is not None:
                db.execute("UPDATE journal SET entry = ? WHERE id = ?",
                           (json.dumps({**json.loads(found[0]), **facts}), entry_id))

        await self._run(write)

    # -- rules ---------------------------------------------------------------------------
    async def rules(self) -> RuleSet:
        def read(db: Db) -> RuleSet:
            documents = tuple(json.loads(row[0]) for row in db.execute(
                "SELECT document FROM rules ORDER BY position"))
            return RuleSet(int(_meta(db, "rules_version")), documents,
                           _meta(db, "strict") == "1")

        return await self._run(read)

    async def put_rules(self, documents: list[dict[str, Any]], strict: bool = False) -> int:
        def write(db: Db) -> int:
            for document in documents:
                found = db.execute("SELECT position FROM rules WHERE name = ?",
                                   (document["name"],)).fetchone()
                position = found[0] if found else db.execute(
                    "SELECT coalesce(max(position), 0) + 1 FROM rules").fetchone()[0]
                db.execute("INSERT OR REPLACE INTO rules VALUES (?, ?, ?)",
                           (document["name"], position, json.dumps(document)))
            if strict:
                _set_meta(db, "strict", 1)
            return _bump(db, "rules_version")

        return await self._run(write)

    async def remove_rule(self, name: str) -> bool:
        def write(db: Db) -> bool:
            db.execute("DELETE FROM uses WHERE rule = ?", (name,))
            removed = db.execute("DELETE FROM rules WHERE name = ?", (name,)).rowcount > 0
            if removed:
                _bump(db, "rules_version")
            return removed

        return await self._run(write)

    async def clear_rules(self) -> None:
        def write(db: Db) -> None:
            db.execute("DELETE FROM rules")
            db.execute("DELETE FROM uses")
            _set_meta(db, "strict", 0)
            _bump(db, "rules_version")

        await self._run(write)

    async def progress(self) -> Progress:
        def read(db: Db) -> Progress:
            return Progress(dict(db.execute("SELECT rule, n FROM uses").fetchall()),
                            dict(db.execute("SELECT scenario, state FROM states").fetchall()))

        return await self._run(read)

    # -- the journal and reset -----------------------------------------------------------
    async def journal(self) -> list[JournalEntry]:
        def read(db: Db) -> list[JournalEntry]:
            return [JournalEntry.from_fields(json.loads(entry), request=request)
                    for entry, request in
                    db.execute("SELECT entry, request FROM journal ORDER BY id")]

        return await self._run(read)

    async def reset(self, keep_accounts: bool = False) -> None:
        def write(db: Db) -> None:
            for table in ("calls", "ordinals", "prefixes", "uses", "states", "journal",
                          "requests"):
                db.execute(f"DELETE FROM {table}")
            if keep_accounts:
                db.execute("UPDATE accounts SET inflight = 0")
            else:
                db.execute("DELETE FROM accounts")
                self._forget_records(db)

        await self._run(write)
