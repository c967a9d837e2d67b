"""`RedisStore`: the state in a Redis server, shared by every mockshot host that names it.

Each operation is one Lua script (state/redis_scripts.py), so it is atomic on the server
and costs one round trip: a chat request is `begin` and `settle`, two. Operations are
awaited on the caller's event loop with redis-py's asyncio client (state/redis_link.py),
so no loop ever waits on the network; `sync` runs one from plain code on the link's own
loop. The rules of the memory store are followed exactly; this module only says what
each operation sends and how its answer reads back.

What each host keeps for itself: its configuration (plans, tiers, the journal's size:
every host sharing a store must be started with the same), its test partitions, and the
bytes of files (state/blobs.py: in `--state-dir`'s `files/` when given, which hosts
share by mounting one directory, else in a temporary directory of the process's own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import orjson

from .accounts import DEFAULT_PLAN, AccountState, LimitHit, Limits, Plan
from .blobs import Blobs
from .journal import UPDATABLE, JournalEntry
from .redis_files import BATCHES, FILES, FilesInRedis
from .redis_link import Link
from .redis_scripts import (
    ACCOUNT,
    BEGIN,
    CHARGE,
    CLOCK,
    RELEASE,
    RESET,
    RULES,
    SETTLE,
    UPDATE,
)
from .redis_time import RedisTime
from .store import (
    KEEP,
    LIMITED,
    QUOTA,
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

__all__ = ["RedisStore"]

T = TypeVar("T")
PREFIX = "mockshot:"
NOT_IN_ENTRY = frozenset({"request", "id"})  # the request is its own field; the id its key
SCRIPTS = (BEGIN, SETTLE, UPDATE, RELEASE, ACCOUNT, CHARGE, RULES, RESET, CLOCK, FILES, BATCHES)


def _opt(value: str | None) -> str:
    """An optional text for a script: '' for None, else '=' before it."""
    return "" if value is None else "=" + value


def _candidate(candidate: Candidate) -> tuple[str, ...]:
    nth = "," + ",".join(map(str, candidate.nth)) + "," if candidate.nth else ""
    times = "" if candidate.times is None else str(candidate.times)
    return (candidate.name, candidate.scenario, times, _opt(candidate.state), nth,
            _opt(candidate.then_state))


def _tiers(tiers: Mapping[int, Limits]) -> bytes:
    """Every tier's limits for the begin script, -1 for none."""
    def value(limit: int | None) -> int:
        return -1 if limit is None else limit

    return orjson.dumps({str(tier): [value(limits.concurrency), value(limits.rpm),
                                     value(limits.tpm), value(limits.tpd)]
                         for tier, limits in tiers.items()})


def _begun(found: list) -> Begun:
    kind = found[0]
    if kind == b"stale":
        return Begun(stale=True)
    if kind == b"quota":
        return Begun(refused=QUOTA)
    if kind == b"limited":
        dimension, limit, current, wait = found[2:6]
        return Begun(refused=LIMITED, limit=LimitHit(dimension.decode(), limit, current,
                                                     float(wait)))
    if kind == b"unmatched":
        return Begun(refused=UNMATCHED, nth=found[2])
    _, _, nth, held, rule, use, ordinal, hits = found
    return Begun(nth=nth, held=bool(held), rule=rule.decode() if rule else None,
                 use=use if rule else None, ordinal=ordinal if ordinal >= 0 else None,
                 prefix_hits=hits)


def _entry_json(entry: JournalEntry) -> bytes:
    return orjson.dumps(entry.portable(NOT_IN_ENTRY))


def _entries(flat: list[bytes]) -> dict[int, dict[str, Any]]:
    """The journal hash (`id`, `id:r`, `id:fact` fields) as entries by id."""
    found: dict[int, dict[str, Any]] = {}
    for index in range(0, len(flat), 2):
        name, value = flat[index].decode(), flat[index + 1]
        head, _, fact = name.partition(":")
        entry = found.setdefault(int(head), {})
        if not fact:
            entry.update({k: v for k, v in orjson.loads(value).items() if k not in entry})
        elif fact == "r":
            entry["request"] = value
        else:
            entry[fact] = orjson.loads(value)
    return found


class RedisStore(FilesInRedis, Store):
    """Accounts, rules and the journal here; files and batches in `FilesInRedis`, their
    bytes in `blobs` (a temporary directory of the process's own unless one is given)."""

    def __init__(self, url: str, plan: Plan = DEFAULT_PLAN,
                 plans: Mapping[str, Plan] | None = None,
                 tiers: Mapping[int, Limits] | None = None, journal_size: int = 1000,
                 lru_size: int = 100_000, blobs: Blobs | None = None,
                 prefix: str = PREFIX) -> None:
        self.link = Link(url)
        self.link.check(SCRIPTS)
        self.prefix = prefix
        self._keys = (prefix,)
        self.blobs = blobs or Blobs()
        self._plan, self._plans = plan, dict(plans or {})
        self._tiers = _tiers(tiers or {})
        self._limits = dict(tiers or {})
        self._journal_size, self._lru_size = journal_size, lru_size
        self._key, self._lru, self._journal = prefix.encode(), str(lru_size), str(journal_size)
        self.time: RedisTime | None = None  # the shared virtual clock, once asked for

    # -- running operations -----------------------------------------------------------
    async def _run(self, script: Any, *args: Any) -> Any:
        return await self.link.run(script, self._keys, *args)

    def sync(self, operation: Awaitable[T]) -> T:
        return self.link.sync(operation)

    def close(self) -> None:
        self.link.close()

    def shared_time(self, start: float) -> RedisTime:
        """The virtual clock's cell, kept in Redis for every host (made once)."""
        if self.time is None:
            self.time = RedisTime(self, start)
        return self.time

    def _plan_of(self, account: str) -> tuple[str, str, str]:
        plan = self._plans.get(account, self._plan)
        return repr(plan.cash), repr(plan.voucher), "" if plan.tier is None else str(plan.tier)

    # -- the hot path --------------------------------------------------------------------
    async def begin(self, begin: Begin) -> Begun:
        flags = "".join(flag for flag, on in (
            ("b", begin.require_balance), ("l", begin.limited), ("s", begin.strict),
            ("f", begin.fingerprint is not None), ("c", self.time is not None)) if on)
        time = self.time
        moves = time.moves if time is not None else 0
        if time is not None:
            await time.flush()
        texts = [str(begin.rules_version), begin.account, *self._plan_of(begin.account),
                 flags, str(begin.tokens), repr(begin.now), begin.operation,
                 begin.fingerprint.hex() if begin.fingerprint is not None else "", "",
                 self._lru, str(len(begin.prefixes)), *(p.hex() for p in begin.prefixes)]
        for candidate in begin.candidates:
            texts.extend(_candidate(candidate))
        found = await self.link.call(BEGIN, self._key, orjson.dumps(texts), self._tiers)
        if time is not None and len(found) > 1:
            time.seen(float(found[1]), moves)
        return _begun(found)

    async def settle(self, entry: JournalEntry, charge: Charge | None = None,
                     release: str | None = None) -> int:
        flags = ("r" if release is not None else "") + ("c" if charge is not None else "") + \
            ("q" if entry.request is not None else "")
        account = charge.account if charge is not None else ""
        prefixes = charge.prefixes if charge is not None else ()
        texts = [flags, release or "", account,
                 repr(charge.amount) if charge is not None else "0", *self._plan_of(account),
                 self._lru, self._journal, "", "", str(len(prefixes)),
                 *(p.hex() for p in prefixes)]
        entry.id = await self.link.call(SETTLE, self._key, orjson.dumps(texts),
                                        _entry_json(entry), entry.request or b"")
        return entry.id

    async def update(self, entry_id: int, release: str | None = None, **facts: Any) -> None:
        unknown = set(facts) - UPDATABLE
        if unknown:
            raise ValueError(f"journal entries cannot update {', '.join(sorted(unknown))}")
        pairs = [part for name, value in facts.items() for part in (name, orjson.dumps(value))]
        await self._run(UPDATE, entry_id, "" if release is None else "=" + release, *pairs)

    async def release(self, account: str) -> None:
        await self._run(RELEASE, account)

    # -- accounts ------------------------------------------------------------------------
    async def _account(self, account: str, now: float | None = None, cash: Any = KEEP,
                       voucher: Any = KEEP, tier: Any = KEEP) -> AccountState:
        found = await self._run(
            ACCOUNT, account, *self._plan_of(account), "n" if now is not None else "",
            repr(now), "" if cash is KEEP else repr(float(cash)),
            "" if voucher is KEEP else repr(float(voucher)),
            "" if tier is KEEP else "=" + ("" if tier is None else str(tier)))
        cash_text, voucher_text, tier_text, used = found
        tier_found = int(tier_text) if tier_text else None
        usage = dict(zip(("concurrency", "rpm", "tpm", "tpd"), used, strict=True)) \
            if used else {}
        limits = self._limits.get(tier_found) if tier_found is not None else None
        return AccountState(float(cash_text), float(voucher_text), tier_found, limits, usage)

    async def balance(self, account: str) -> Balance:
        found = await self._account(account)
        return Balance(found.cash, found.voucher)

    async def set_balance(self, account: str, cash: float, voucher: float = 0.0) -> Balance:
        await self._account(account, cash=cash, voucher=voucher)
        return Balance(cash, voucher)

    async def debit(self, account: str, amount: float) -> Balance:
        cash, voucher = await self._run(CHARGE, account, *self._plan_of(account),
                                        repr(float(amount)))
        return Balance(float(cash), float(voucher))

    async def account(self, account: str, now: float) -> AccountState:
        return await self._account(account, now)

    async def set_account(self, account: str, cash: float = KEEP, voucher: float = KEEP,
                          tier: int | None = KEEP) -> AccountState:
        return await self._account(account, cash=cash, voucher=voucher, tier=tier)

    # -- rules ---------------------------------------------------------------------------
    async def rules(self) -> RuleSet:
        version, strict, *documents = await self._run(RULES, "read")
        return RuleSet(int(version), tuple(orjson.loads(d) for d in documents),
                       strict == b"1")

    async def put_rules(self, documents: list[dict[str, Any]], strict: bool = False) -> int:
        pairs = [part for d in documents for part in (d["name"], orjson.dumps(d))]
        return await self._run(RULES, "put", "1" if strict else "0", *pairs)

    async def remove_rule(self, name: str) -> bool:
        return bool(await self._run(RULES, "remove", name))

    async def clear_rules(self) -> None:
        await self._run(RULES, "clear")

    async def progress(self) -> Progress:
        async def read() -> list:
            async with self.link.client().pipeline(transaction=True) as pipe:
                return await pipe.hgetall(self.prefix + "uses") \
                    .hgetall(self.prefix + "states").execute()

        uses, states = await self.link.ask(read())
        return Progress({k.decode(): int(v) for k, v in uses.items()},
                        {k.decode(): v.decode() for k, v in states.items()})

    # -- the journal and reset -----------------------------------------------------------
    async def journal(self) -> list[JournalEntry]:
        flat = await self.link.ask(self.link.client().execute_command(
            "HGETALL", self.prefix + "journal"))
        if isinstance(flat, dict):
            flat = [part for pair in flat.items() for part in pair]
        found = _entries(flat)
        kept = sorted(i for i, data in found.items() if "operation" in data)
        entries = []
        for entry_id in kept[-self._journal_size:]:
            entries.append(JournalEntry.from_fields(found[entry_id], id=entry_id))
        return entries

    async def reset(self, keep_accounts: bool = False) -> None:
        await self._run(RESET, "1" if keep_accounts else "0")
        if not keep_accounts:
            self.blobs.clear()
