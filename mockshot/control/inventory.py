"""What the mock holds, account by account, and how far each scenario got: the console's
accounts, files, batches and scenario panels read these.

The store has no list of accounts, and needs none: the accounts worth showing are the
ones calls used (the journal's) and the ones the configuration names. Each shows what the
public API would show its owner (the balance body, the FileObjects, the batch objects),
plus what only a mock can show: the tier's limits and usage windows, and every batch's
timeline — the moments its schedule reaches each state, past and future. Reading a batch
here answers the lines its schedule says are due, as any reader of a batch does.
The one-account and clock bodies live here too, so `/accounts/{key}` and `/clock` (in
api.py) show an account and the time exactly as these panels do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from ..http import json_response
from ..mock import Mock
from ..resources.batches.objects import batch_body, timeline
from ..resources.batches.progress import observe
from ..resources.files.handlers import body_of
from ..state.accounts import AccountState
from ..state.store import START_STATE, Balance
from .journal_view import mask

if TYPE_CHECKING:
    from .api import Call

__all__ = ["account_body", "clock_body", "clock_now", "list_accounts", "scenario_states"]

MOST_ACCOUNTS = 100  # the most recently active ones, when more have called
BATCHES_SHOWN = 100


def clock_body(mock: Mock) -> dict:
    return {"now": mock.clock.now(), "virtual": bool(getattr(mock.clock, "virtual", False))}


async def clock_now(mock: Mock) -> float:
    """The clock's time as the shared store has it (another host may have moved it)."""
    synced = getattr(mock.clock, "synced", None)
    return await synced() if synced is not None else mock.clock.now()


def account_body(mock: Mock, key: str, state: AccountState) -> dict:
    """The real balance body, plus what only a mock shows: which account the key bills,
    its tier, the tier's limits and the usage windows now."""
    balance = Balance(state.cash, state.voucher).body()
    return {**balance, "account": mock.accounts.of(key), "tier": state.tier,
            "limits": state.limits.as_dict() if state.limits else None, "usage": state.usage}


async def known_accounts(mock: Mock) -> list[str]:
    """The configured accounts, then the journal's, most recently active first."""
    configured = [*mock.accounts.plans, *(mock.accounts.of(k) for k in mock.settings.api_key)]
    active = [e.account for e in reversed(await mock.store.journal()) if e.account]
    return list(dict.fromkeys([*configured, *active]))[:MOST_ACCOUNTS]


async def account_view(mock: Mock, account: str, now: float) -> dict:
    state = await mock.store.account(account, now)
    files = await mock.store.files(account)
    batches, more = await mock.store.batches(account, None, BATCHES_SHOWN)
    shown = []
    for batch in batches:
        batch = await observe(mock, batch, now)
        shown.append({**batch_body(batch, now), "timeline": [
            {"status": status, "at": at, "reached": at <= now}
            for status, at in timeline(batch)]})
    return {**account_body(mock, account, state), "account": mask(account),
            "files": [body_of(record) for record in files],
            "batches": shown, "batches_has_more": more}


async def list_accounts(call: Call) -> Response:
    """Every known account with its balance, limits, windows, files and batches."""
    now = await clock_now(call.mock)
    views = [await account_view(call.mock, account, now)
             for account in await known_accounts(call.mock)]
    return json_response({"object": "list", "data": views, "now": now})


async def scenario_states(call: Call) -> Response:
    """Each scenario the rules name (or a call moved) and the state it is in."""
    progress = await call.mock.store.progress()
    named = [rule.scenario for rule in await call.mock.scenarios.refresh()]
    scenarios = dict.fromkeys([*named, *progress.states])
    return json_response({"object": "list", "data": [
        {"scenario": name, "state": progress.states.get(name, START_STATE),
         "rules": named.count(name)} for name in scenarios]})
