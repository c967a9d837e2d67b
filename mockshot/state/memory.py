"""`MemoryStore`: the state of one process, each operation atomic under one lock.

The lock is for the threads around a mock (a test reading the journal while a served mock
writes it); on the event loop no operation ever waits. Bounded wherever a load test could
grow it: ordinals and prompt-cache entries are LRU-capped, the journal is a ring.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict, deque
from typing import Any

from .journal import UPDATABLE, JournalEntry
from .store import (
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


class MemoryStore(Store):
    def __init__(self, initial_cash: float = 100.0, initial_voucher: float = 0.0,
                 journal_size: int = 1000, lru_size: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._initial = (initial_cash, initial_voucher)
        self._lru_size = lru_size
        self._journal_size = journal_size
        self._balances: dict[str, Balance] = {}
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
            if begin.require_balance and self._account(begin.account).available <= 0:
                return Begun(refused=QUOTA)
            nth = self._calls.get(begin.operation, 0) + 1
            taken = next((c for c in begin.candidates if self._holds(c, nth)), None)
            if taken is None and begin.strict:
                return Begun(refused=UNMATCHED, nth=nth)
            self._calls[begin.operation] = nth
            found = Begun(nth=nth, prefix_hits=self._hits(begin.account, begin.prefixes))
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

    async def settle(self, entry: JournalEntry, charge: Charge | None = None) -> int:
        with self._lock:
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

    async def update(self, entry_id: int, **facts: Any) -> None:
        unknown = set(facts) - UPDATABLE
        if unknown:
            raise ValueError(f"journal entries cannot update {', '.join(sorted(unknown))}")
        with self._lock:
            entry = self._by_id.get(entry_id)
            if entry is not None:
                for name, value in facts.items():
                    setattr(entry, name, value)

    # -- accounts ------------------------------------------------------------------------
    def _account(self, account: str) -> Balance:
        found = self._balances.get(account)
        if found is None:
            found = self._balances[account] = Balance(*self._initial)
        return found

    def _charge(self, account: str, amount: float) -> Balance:
        self._balances[account] = charged = self._account(account).charged(amount)
        return charged

    async def balance(self, account: str) -> Balance:
        with self._lock:
            found = self._account(account)
            return Balance(found.cash, found.voucher)

    async def set_balance(self, account: str, cash: float, voucher: float = 0.0) -> Balance:
        with self._lock:
            self._balances[account] = Balance(cash, voucher)
            return Balance(cash, voucher)

    async def debit(self, account: str, amount: float) -> Balance:
        with self._lock:
            charged = self._charge(account, amount)
            return Balance(charged.cash, charged.voucher)

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
        with self._lock:  # copies: what a reader holds never changes under it
            return [copy.copy(entry) for entry in self._journal]

    async def reset(self, keep_accounts: bool = False) -> None:
        with self._lock:
            if not keep_accounts:
                self._balances = {}
            self._forget()
