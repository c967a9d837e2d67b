"""The store: all mutable state, behind a narrow interface of atomic operations.

Handlers never read-modify-write state themselves; they call one operation (debit a
balance, take the next ordinal of a call, look up a cached prompt prefix, append to the
journal). That is what lets the in-memory store here be swapped for a shared one (SQLite
for several workers, Redis for several hosts) without touching the handlers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Balance", "MemoryStore", "Store"]


@dataclass(slots=True)
class Balance:
    """An account's money, USD. Charges take the voucher first, then cash (which may go
    negative: arrears). Inference is refused while `available` is not positive."""

    cash: float
    voucher: float = 0.0

    @property
    def available(self) -> float:
        return self.voucher + max(self.cash, 0.0)

    def body(self) -> dict:
        return {
            "code": 0,
            "data": {
                "available_balance": round(self.available, 5),
                "voucher_balance": round(self.voucher, 5),
                "cash_balance": round(self.cash, 5),
            },
            "scode": "0x0",
            "status": True,
        }


class Store:
    """The interface every store implements (the in-memory one is the reference)."""

    def balance(self, account: str) -> Balance: ...

    def set_balance(self, account: str, cash: float, voucher: float = 0.0) -> Balance: ...

    def debit(self, account: str, amount: float) -> Balance: ...

    def next_ordinal(self, fingerprint: bytes) -> int: ...

    def prefix_hits(self, account: str, prefixes: list[bytes]) -> int: ...

    def remember_prefixes(self, account: str, prefixes: list[bytes]) -> None: ...

    def journal_append(self, entry: dict) -> None: ...

    def journal(self) -> list[dict]: ...

    def reset(self, keep_accounts: bool = False) -> None: ...

    def count_call(self, operation: str) -> int: ...

    def take_rule(self, name: str, times: int | None) -> int | None: ...

    def rule_uses(self, name: str) -> int: ...

    def scenario_state(self, scenario: str) -> str: ...

    def set_scenario_state(self, scenario: str, state: str) -> None: ...

    def rules(self) -> list: ...

    def add_rules(self, rules: list) -> None: ...

    def remove_rule(self, name: str) -> bool: ...

    def clear_rules(self) -> None: ...

    def strict(self) -> bool: ...

    def set_strict(self, strict: bool) -> None: ...


class MemoryStore(Store):
    """State in this process's memory, each operation under one lock.

    Bounded everywhere a load test could grow it: ordinals and prompt-cache entries are
    LRU-capped, the journal is a ring.
    """

    def __init__(
        self,
        initial_cash: float = 100.0,
        initial_voucher: float = 0.0,
        journal_size: int = 1000,
        lru_size: int = 100_000,
    ) -> None:
        self._lock = threading.Lock()
        self._initial = (initial_cash, initial_voucher)
        self._lru_size = lru_size
        self._journal_size = journal_size
        self.reset()

    def reset(self, keep_accounts: bool = False) -> None:
        with self._lock:
            if not keep_accounts or not hasattr(self, "_balances"):
                self._balances: dict[str, Balance] = {}
            self._ordinals: OrderedDict[bytes, int] = OrderedDict()
            self._calls: dict[str, int] = {}
            self._rule_uses: dict[str, int] = {}
            self._states: dict[str, str] = {}
            if not hasattr(self, "_rules"):
                self._rules: dict[str, Any] = {}
                self._strict = False
            self._prefixes: OrderedDict[bytes, None] = OrderedDict()
            self._journal: deque[dict] = deque(maxlen=self._journal_size)

    def _account(self, account: str) -> Balance:
        found = self._balances.get(account)
        if found is None:
            found = self._balances[account] = Balance(*self._initial)
        return found

    def balance(self, account: str) -> Balance:
        with self._lock:
            found = self._account(account)
            return Balance(found.cash, found.voucher)

    def set_balance(self, account: str, cash: float, voucher: float = 0.0) -> Balance:
        with self._lock:
            self._balances[account] = Balance(cash, voucher)
            return Balance(cash, voucher)

    def debit(self, account: str, amount: float) -> Balance:
        with self._lock:
            found = self._account(account)
            from_voucher = min(found.voucher, amount)
            found.voucher -= from_voucher
            found.cash -= amount - from_voucher
            return Balance(found.cash, found.voucher)

    def next_ordinal(self, fingerprint: bytes) -> int:
        """How many identical calls came before this one (0 for the first)."""
        with self._lock:
            ordinal = self._ordinals.pop(fingerprint, -1) + 1
            self._ordinals[fingerprint] = ordinal
            if len(self._ordinals) > self._lru_size:
                self._ordinals.popitem(last=False)
            return ordinal

    def prefix_hits(self, account: str, prefixes: list[bytes]) -> int:
        """How many leading prefixes of this prompt the account sent before (no change)."""
        hits = 0
        with self._lock:
            for digest in prefixes:
                if account.encode() + b"\0" + digest not in self._prefixes:
                    break
                hits += 1
        return hits

    def remember_prefixes(self, account: str, prefixes: list[bytes]) -> None:
        """Record a served prompt's prefixes (a refused call records nothing)."""
        with self._lock:
            for digest in prefixes:
                key = account.encode() + b"\0" + digest
                self._prefixes[key] = None
                self._prefixes.move_to_end(key)
            while len(self._prefixes) > self._lru_size:
                self._prefixes.popitem(last=False)

    def count_call(self, operation: str) -> int:
        """This call's ordinal among calls of `operation` since the last reset (1-based)."""
        with self._lock:
            self._calls[operation] = count = self._calls.get(operation, 0) + 1
            return count

    def take_rule(self, name: str, times: int | None) -> int | None:
        """Use a rule once: its use index (0-based), or None when `times` is spent."""
        with self._lock:
            used = self._rule_uses.get(name, 0)
            if times is not None and used >= times:
                return None
            self._rule_uses[name] = used + 1
            return used

    def rule_uses(self, name: str) -> int:
        with self._lock:
            return self._rule_uses.get(name, 0)

    def scenario_state(self, scenario: str) -> str:
        with self._lock:
            return self._states.get(scenario, "started")

    def set_scenario_state(self, scenario: str, state: str) -> None:
        with self._lock:
            self._states[scenario] = state

    def rules(self) -> list:
        with self._lock:
            return list(self._rules.values())

    def add_rules(self, rules: list) -> None:
        """Add (or replace, by name) rules; all or nothing."""
        with self._lock:
            for rule in rules:
                self._rules[rule.name] = rule  # a rule replaced by name keeps its place

    def remove_rule(self, name: str) -> bool:
        with self._lock:
            self._rule_uses.pop(name, None)
            return self._rules.pop(name, None) is not None

    def clear_rules(self) -> None:
        with self._lock:
            self._rules = {}
            self._rule_uses = {}
            self._strict = False

    def strict(self) -> bool:
        """Whether a loaded scenario document asked for strict mode."""
        with self._lock:
            return self._strict

    def set_strict(self, strict: bool) -> None:
        with self._lock:
            self._strict = strict

    def journal_append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._journal.append(entry)

    def journal(self) -> list[dict]:
        with self._lock:
            return list(self._journal)
