"""The store: all mutable state, behind a narrow interface of atomic, awaitable operations.

Handlers never read-modify-write state; they call one operation. The hot path is coarse
on purpose, so each step can become one transaction or one script on a shared store:

- `begin` admits a call and decides it in one step: the balance check, the call's
  ordinal among its operation (`nth`), taking the first scripted rule whose remaining
  conditions hold (uses left, scenario state, `nth`) and moving its scenario's state,
  the ordinal among identical calls, and the prompt-cache hits;
- `settle` ends it: the debit, the prompt prefixes to remember, the journal entry;
- `update` adds what a stream learns later (chunks sent, a hang-up) to its entry.

Files and batches (state/records.py) are records beside these, and their bytes are in the
store's blob area, `store.blobs` (state/blobs.py): records never hold file bytes.

Rules are kept as documents with a version; each mock compiles them locally when the
version moves (`begin` refuses a stale version, so no call is decided on old rules).
Every operation is awaitable so a store on the network never blocks the event loop;
`sync` runs one from plain code (tests, the Python scripting API).

`MemoryStore` (state/memory.py) is the reference implementation; tests/test_store.py is
the contract every implementation passes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .accounts import AccountState, LimitHit
from .blobs import Blobs
from .failures import StoreError
from .journal import JournalEntry
from .records import RecordStore

__all__ = [
    "KEEP",
    "LIMITED",
    "QUOTA",
    "START_STATE",
    "UNMATCHED",
    "Balance",
    "Begin",
    "Begun",
    "Candidate",
    "Charge",
    "Progress",
    "RuleSet",
    "Store",
    "StoreError",
    "run_sync",
]

T = TypeVar("T")


QUOTA = "quota"  # Begun.refused: the account's available balance is not positive
UNMATCHED = "unmatched"  # Begun.refused: strict mode and no rule was taken
LIMITED = "limited"  # Begun.refused: a tier limit (Begun.limit says which)
KEEP: Any = object()  # set_account: leave this part as it is
START_STATE = "started"  # every scenario's state until a rule moves it


@dataclass(slots=True)
class Balance:
    """An account's money, USD. Charges take the voucher first, then cash (which may go
    negative: arrears). Inference is refused while `available` is not positive."""

    cash: float
    voucher: float = 0.0

    @property
    def available(self) -> float:
        return self.voucher + max(self.cash, 0.0)

    def charged(self, amount: float) -> Balance:
        from_voucher = min(self.voucher, amount)
        return Balance(self.cash - (amount - from_voucher), self.voucher - from_voucher)

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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule whose match holds for the call except for what only the store knows."""

    name: str
    scenario: str
    times: int | None = None
    state: str | None = None  # the scenario state the rule requires
    nth: tuple[int, ...] = ()  # the operation ordinals the rule answers
    then_state: str | None = None


@dataclass(slots=True)
class Begin:
    """What `begin` needs to admit and decide one call."""

    operation: str  # the neutral operation: chat, models, balance, estimate, ...
    account: str
    rules_version: int
    candidates: tuple[Candidate, ...] = ()
    strict: bool = False  # no rule taken → refused (nothing counted)
    require_balance: bool = False  # inference: refused while the balance is not positive
    limited: bool = False  # inference: the account's tier limits apply (and it is in flight)
    tokens: int = 0  # what the call charges the token windows (prompt + completion budget)
    now: float = 0.0  # the mock's clock, for the windows
    fingerprint: bytes | None = None  # count this call among identical ones (an ordinal)
    prefixes: tuple[bytes, ...] = ()  # prompt-cache keys to look up


@dataclass(slots=True)
class Begun:
    stale: bool = False  # the rules changed since `rules_version`: reload, begin again
    refused: str | None = None  # QUOTA, LIMITED or UNMATCHED; nothing was counted
    limit: LimitHit | None = None  # the limit that refused it (LIMITED)
    held: bool = False  # the call counts as in flight until `settle` or `release`
    nth: int = 0  # this call's ordinal among calls of its operation (1-based)
    rule: str | None = None  # the rule taken, if any
    use: int | None = None  # its use index (0-based)
    ordinal: int | None = None  # identical calls before this one (with a fingerprint)
    prefix_hits: int = 0  # leading prompt prefixes the account sent before


@dataclass(frozen=True, slots=True)
class Charge:
    """What a served call costs the account and leaves behind."""

    account: str
    amount: float = 0.0
    prefixes: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rule documents in order, their version, and whether a document asked for
    strict mode."""

    version: int
    documents: tuple[dict[str, Any], ...] = ()
    strict: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the scripted rules got: uses per rule, state per scenario."""

    uses: dict[str, int] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)


class Store(RecordStore):
    """The interface every store implements. A missing method fails at construction.
    The file and batch operations are inherited from `RecordStore`."""

    blobs: Blobs  # where the bytes of its files are

    # -- the hot path --------------------------------------------------------------------
    @abstractmethod
    async def begin(self, begin: Begin) -> Begun: ...

    @abstractmethod
    async def settle(self, entry: JournalEntry, charge: Charge | None = None,
                     release: str | None = None) -> int:
        """Apply `charge`, end `release`'s call in flight (a held call that is not a
        stream), and append `entry` to the journal; the entry's id."""

    @abstractmethod
    async def release(self, account: str) -> None:
        """A held call ended later than its settle (a stream closed)."""

    @abstractmethod
    async def update(self, entry_id: int, release: str | None = None, **facts: Any) -> None:
        """Later facts of a journal entry (ignored once the entry has left the journal);
        with `release`, that account's call in flight ends in the same step (a stream
        closing: one step, not two)."""

    # -- accounts ------------------------------------------------------------------------
    @abstractmethod
    async def balance(self, account: str) -> Balance: ...

    @abstractmethod
    async def set_balance(self, account: str, cash: float, voucher: float = 0.0) -> Balance: ...

    @abstractmethod
    async def debit(self, account: str, amount: float) -> Balance: ...

    @abstractmethod
    async def account(self, account: str, now: float) -> AccountState:
        """The account's money, tier, limits and usage windows at `now`."""

    @abstractmethod
    async def set_account(self, account: str, cash: float = KEEP, voucher: float = KEEP,
                          tier: int | None = KEEP) -> AccountState:
        """Set any of an account's cash, voucher and tier (None: no limits)."""

    # -- rules ---------------------------------------------------------------------------
    @abstractmethod
    async def rules(self) -> RuleSet: ...

    @abstractmethod
    async def put_rules(self, documents: list[dict[str, Any]], strict: bool = False) -> int:
        """Add rule documents, replacing by name (a replaced rule keeps its place and its
        uses); all or nothing. The new version."""

    @abstractmethod
    async def remove_rule(self, name: str) -> bool: ...

    @abstractmethod
    async def clear_rules(self) -> None:
        """Forget every rule, its uses and strict mode."""

    @abstractmethod
    async def progress(self) -> Progress: ...

    # -- the journal and reset -----------------------------------------------------------
    @abstractmethod
    async def journal(self) -> list[JournalEntry]:
        """The kept entries, oldest first."""

    @abstractmethod
    async def reset(self, keep_accounts: bool = False) -> None:
        """Forget progress: journal, call counts, ordinals, rule uses, scenario states,
        prompt cache, and accounts unless kept (with their files, batches and blobs).
        Rules stay."""

    def sync(self, operation: Awaitable[T]) -> T:
        """Run one operation from plain (non-async) code."""
        return run_sync(operation)


def run_sync(operation: Awaitable[T]) -> T:
    """Complete an awaitable that never suspends (every in-memory operation), without an
    event loop; a store whose operations wait on I/O must override `Store.sync`."""
    step = operation.__await__()
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise RuntimeError("this store operation waits on I/O; the store must provide sync()")
