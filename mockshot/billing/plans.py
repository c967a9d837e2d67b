"""Accounts and tiers from settings: which account each key bills, how each account starts,
and each tier's limits.

Every key is its own account unless the config file's `accounts` groups keys:

    [[accounts]]
    id = "team-a"
    keys = ["sk-a1", "sk-a2"]
    balance = 5.0
    voucher = 1.0
    tier = 1

An account's tier turns its limits on (`--tier N` gives every account one); with none,
nothing throttles. The tier table is data (data/billing.json); `tiers` rows override it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..settings import Settings, SettingsError
from ..state.accounts import Limits, Plan

__all__ = ["Accounts", "billing_data", "load_accounts", "load_tiers"]

LIMIT_KEYS = ("concurrency", "rpm", "tpm", "tpd")
ACCOUNT_KEYS = {"id", "keys", "balance", "voucher", "tier"}


@cache
def billing_data() -> dict[str, Any]:
    return json.loads(resources.files("mockshot").joinpath("data/billing.json").read_text())


@dataclass(frozen=True, slots=True)
class Accounts:
    """Who bills what: key → account id (a key alone is its own account), each account's
    starting plan, the default plan, and the tier table."""

    owners: dict[str, str]
    plans: dict[str, Plan]
    default: Plan
    tiers: dict[int, Limits]

    def of(self, key: str) -> str:
        return self.owners.get(key, key)


def _limit(row: dict, name: str, where: str) -> int | None:
    value = row.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise SettingsError(f"{where}: {name} must be a whole number of at least 1, or null")
    return value


def load_tiers(overrides: tuple[dict, ...] = ()) -> dict[int, Limits]:
    """The tier table: the data file's rows, then the config's `tiers` rows by `tier`."""
    rows = {row["tier"]: row for row in billing_data()["tiers"]}
    for index, row in enumerate(overrides):
        tier = row.get("tier")
        if isinstance(tier, bool) or not isinstance(tier, int) or tier < 0:
            raise SettingsError(f"setting tiers[{index}]: tier must be a whole number >= 0")
        rows[tier] = {**rows.get(tier, {}), **row}
    return {tier: Limits(*(_limit(row, name, f"setting tiers (tier {tier})")
                           for name in LIMIT_KEYS)) for tier, row in rows.items()}


def _plan(row: dict, default: Plan, where: str, tiers: dict[int, Limits]) -> Plan:
    values = {"cash": row.get("balance", default.cash),
              "voucher": row.get("voucher", default.voucher),
              "tier": row.get("tier", default.tier)}
    for name in ("cash", "voucher"):
        if isinstance(values[name], bool) or not isinstance(values[name], int | float):
            raise SettingsError(f"{where}: {name if name == 'voucher' else 'balance'} "
                                "must be a number of USD")
    if values["voucher"] < 0:
        raise SettingsError(f"{where}: voucher must not be negative")
    _check_tier(values["tier"], tiers, where)
    return Plan(float(values["cash"]), float(values["voucher"]), values["tier"])


def _check_tier(tier: object, tiers: dict[int, Limits], where: str) -> None:
    if tier is not None and tier not in tiers:
        known = ", ".join(str(t) for t in sorted(tiers))
        raise SettingsError(f"{where}: tier {tier!r} is not in the tier table ({known})")


def load_accounts(settings: Settings) -> Accounts:
    """Accounts from settings; a SettingsError naming the entry for each mistake."""
    tiers = load_tiers(settings.tiers)
    _check_tier(settings.tier, tiers, "setting tier")
    default = Plan(settings.balance, settings.voucher, settings.tier)
    owners: dict[str, str] = {}
    plans: dict[str, Plan] = {}
    for index, row in enumerate(settings.accounts):
        where = f"setting accounts[{index}]"
        unknown = sorted(set(row) - ACCOUNT_KEYS)
        if unknown:
            raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)}")
        ident, keys = row.get("id"), row.get("keys", [])
        if not isinstance(ident, str) or not ident:
            raise SettingsError(f"{where}: id must be a non-empty string")
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            raise SettingsError(f"{where}: keys must be a list of API keys")
        for key in keys:
            if owners.setdefault(key, ident) != ident:
                raise SettingsError(f"{where}: key {key[:6]}… already belongs to account "
                                    f"{owners[key]!r}")
        plans[ident] = _plan(row, default, where, tiers)
    return Accounts(owners, plans, default, tiers)
