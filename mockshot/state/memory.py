"""`MemoryStore`: the state of one process, each operation atomic under one lock.

The lock is for the threads around a mock (a test reading the journal while a served mock
writes it); on the event loop no operation ever waits. Bounded wherever a load test could
grow it: ordinals and prompt-cache entries are LRU-capped, the journal is a ring.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .accounts import DEFAULT_PLAN, AccountState, Limits, Plan, Windows
from .blobs import Blobs
from .journal import UPDATABLE, JournalEntry
from .memory_files import FilesInMemory
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
)

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _Account:
    balance: Balance
    tier: int | None
    windows: Windows = field(default_factory=Windows)


class MemoryStore(FilesInMemory, Store):
    """Accounts, rules and the journal here; files and batches in `FilesInMemory`, their
    bytes in `blobs` (a temporary directory of its own unless one is given)."""

    def __init__(self, plan: Plan = DEFAULT_PLAN, plans: Mapping[str, Plan] | None = None,
                 tiers: Mapping[int, Limits] | None = None, journal_size: int = 1000,
                 lru_size: int = 100_000, blobs: Blobs | None = None) -> None:
        self._lock = threading.Lock()
        self._init_records(blobs)
        self._plan, self._plans, self._tiers = plan, dict(plans or {}), dict(tiers or {})
        self._lru_size = lru_size
        self._journal_size = journal_size
        self._accounts: dict[str, _Account] = {}
        self._rules: dict[str, dict[str, Any]] = {}
        self._version = 0
        self._strict = False
        self._next_id = 0
        self._forget()

    def _forget(self) -> None:
        self._calls: dict[str, int] = {}
        self._ordinals: OrderedDict[bytes, int] = OrderedDict()
        self._uses: dict[str, int] = {}
        self._states: dict[str, str] = {}
        self._prefixes: OrderedDict[bytes, None] = OrderedDict()
        self._journal: deque[JournalEntry] = deque(maxlen=self._journal_size)
        self._by_id: dict[int, JournalEntry] = {}

    # -- the hot path --------------------------------------------------------------------
    async def begin(self, begin: Begin) -> Begun:
        with self._lock:
            if begin.rules_version != self._version:
                return Begun(stale=True)
            account = self._account(begin.account)
            if begin.require_balance and account.balance.available <= 0:
                return Begun(refused=QUOTA)
            limits = self._tiers.get(account.tier) if begin.limited and \
                account.tier is not None else None
            if limits is not None and (hit := account.windows.admit(limits, begin.now,
                                                                      begin.tokens)):
                return Begun(refused=LIMITED, limit=hit)
            nth = self._calls.get(begin.operation, 0) + 1
            taken = next((c for c in begin.candidates if self._holds(c, nth)), None)
            if taken is None and begin.strict:
                return Begun(refused=UNMATCHED, nth=nth)
            self._calls[begin.operation] = nth
            found = Begun(nth=nth, prefix_hits=self._hits(begin.account, begin.prefixes))
            if limits is not None:  # windows are kept only while limits apply
                account.windows.take(begin.now, begin.tokens, True)
                found.held = True
            if taken is not None:
                found.rule, found.use = taken.name, self._take(taken)
            elif begin.fingerprint is not None:
                found.ordinal = self._next_ordinal(begin.fingerprint)
            return found

    def _holds(self, candidate: Candidate, nth: int) -> bool:
        if candidate.nth and nth not in candidate.nth:
            return False
        if candidate.state is not None and \
                self._states.get(candidate.scenario, START_STATE) != candidate.state:
            return False
        return candidate.times is None or self._uses.get(candidate.name, 0) < candidate.times

    def _take(self, candidate: Candidate) -> int:
        use = self._uses.get(candidate.name, 0)
        self._uses[candidate.name] = use + 1
        if candidate.then_state:
            self._states[candidate.scenario] = candidate.then_state
        return use

    def _next_ordinal(self, fingerprint: bytes) -> int:
        ordinal = self._ordinals.pop(fingerprint, -1) + 1
        self._ordinals[fingerprint] = ordinal
        if len(self._ordinals) > self._lru_size:
            self._ordinals.popitem(last=False)
        return ordinal

    def _hits(self, account: str, prefixes: tuple[bytes, ...]) -> int:
        if not prefixes:
            return 0
        hits, owner = 0, account.encode() + b"\0"
        for digest in prefixes:
            if owner + digest not in self._prefixes:
                break
            hits += 1
        return hits

    async def settle(self, entry: JournalEntry, charge: Charge | None = None,
                     release: str | None = None) -> int:
        with self._lock:
            if release is not None:
                self._account(release).windows.release()
            if charge is not None:
                if charge.amount:
                    self._charge(charge.account, charge.amount)
                self._remember(charge.account, charge.prefixes)
            self._next_id += 1
            entry.id = self._next_id
            if len(self._journal) == self._journal.maxlen:
                self._by_id.pop(self._journal[0].id, None)
            self._journal.append(entry)
            self._by_id[entry.id] = entry
            return entry.id

    def _remember(self, account: str, prefixes: tuple[bytes, ...]) -> None:
        owner = account.encode() + b"\0"
        for digest in prefixes:
            key = owner + digest
            self._prefixes[key] = None
            self._prefixes.move_to_end(key)
        while len(self._prefixes) > self._lru_size:
            self._prefixes.popitem(last=False)

    async def update(self, entry_id: int, release: str | None = None, **facts: Any) -> None:
        unknown = set(facts) - UPDATABLE
        if unknown:
            raise ValueError(f"journal entries cannot update {', '.join(sorted(unknown))}")
        with self._lock:
            if release is not None:
                self._account(release).windows.release()
            entry = self._by_id.get(entry_id)
            if entry is not None:  # copy on write: readers hold the journal's entries
                changed = copy.copy(entry)
                for name, value in facts.items():
                    setattr(changed, name, value)
                self._by_id[entry_id] = changed
                self._journal[entry_id - self._journal[0].id] = changed

    async def release(self, account: str) -> None:
        with self._lock:
            self._account(account).windows.release()

    # -- accounts ------------------------------------------------------------------------
    def _account(self, account: str) -> _Account:
        found = self._accounts.get(account)
        if found is None:
            plan = self._plans.get(account, self._plan)
            found = self._accounts[account] = _Account(Balance(plan.cash, plan.voucher),
                                                       plan.tier)
        return found

    def _charge(self, account: str, amount: float) -> Balance:
        found = self._account(account)
        found.balance = found.balance.charged(amount)
        return found.balance

    async def balance(self, account: str) -> Balance:
        with self._lock:
            found = self._account(account).balance
            return Balance(found.cash, found.voucher)

    async def set_balance(self, account: str, cash: float, voucher: float = 0.0) -> Balance:
        with self._lock:
            self._account(account).balance = Balance(cash, voucher)
            return Balance(cash, voucher)

    async def debit(self, account: str, amount: float) -> Balance:
        with self._lock:
            charged = self._charge(account, amount)
            return Balance(charged.cash, charged.voucher)

    async def account(self, account: str, now: float) -> AccountState:
        with self._lock:
            return self._state(self._account(account), now)

    async def set_account(self, account: str, cash: float = KEEP, voucher: float = KEEP,
                          tier: int | None = KEEP) -> AccountState:
        with self._lock:
            found = self._account(account)
            balance = found.balance
            found.balance = Balance(balance.cash if cash is KEEP else cash,
                                    balance.voucher if voucher is KEEP else voucher)
            if tier is not KEEP:
                found.tier = tier
            return self._state(found, None)

    def _state(self, found: _Account, now: float | None) -> AccountState:
        limits = self._tiers.get(found.tier) if found.tier is not None else None
        usage = found.windows.usage(now) if now is not None else {}
        return AccountState(found.balance.cash, found.balance.voucher, found.tier, limits,
                            usage)

    # -- rules ---------------------------------------------------------------------------
    async def rules(self) -> RuleSet:
        with self._lock:
            return RuleSet(self._version, tuple(self._rules.values()), self._strict)

    async def put_rules(self, documents: list[dict[str, Any]], strict: bool = False) -> int:
        with self._lock:
            for document in documents:
                self._rules[document["name"]] = document
            self._strict = self._strict or strict
            self._version += 1
            return self._version

    async def remove_rule(self, name: str) -> bool:
        with self._lock:
            self._uses.pop(name, None)
            removed = self._rules.pop(name, None) is not None
            self._version += removed
            return removed

    async def clear_rules(self) -> None:
        with self._lock:
            self._rules, self._uses, self._strict = {}, {}, False
            self._version += 1

    async def progress(self) -> Progress:
        with self._lock:
            return Progress(dict(self._uses), dict(self._states))

    # -- the journal and reset -----------------------------------------------------------
    async def journal(self) -> list[JournalEntry]:
        with self._lock:  # no copies: `update` replaces an entry, never changes it
            return list(self._journal)

    async def reset(self, keep_accounts: bool = False) -> None:
        with self._lock:
            if not keep_accounts:
                self._accounts = {}
                self._forget_records()
            else:  # money and tiers kept; usage windows start afresh
                for found in self._accounts.values():
                    found.windows = Windows()
            self._forget()
