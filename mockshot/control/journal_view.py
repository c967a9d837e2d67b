"""The journal as the control API shows it: filters, masking, pages.

Pure functions over journal entries (dicts the road writes), so they work the same over
any store's journal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import invalid_request
from ..road import neutral_operation

__all__ = ["FILTERS", "journal_page"]

SHOWN = ("operation", "account", "model", "status", "seed", "rule", "rule_use", "ordinal",
         "fault", "chunks_sent", "disconnected", "elapsed_ms", "at", "request")
FILTERS = ("operation", "status", "model", "account", "rule", "limit", "unmatched")


def mask(key: str | None) -> str | None:
    return key[:6] + "…" if key else key


def operation_names(operation: str) -> set[str]:
    """What an `operation` filter may say: the route, or its neutral name (`chat`, ...)."""
    return {operation, operation.partition(" ")[2], neutral_operation(operation)}


def unmatched(entry: dict) -> bool:
    """A chat call that reached the rules, found none matching, while rules existed (the
    chat road records it as it decides)."""
    return bool(entry.get("unmatched"))


def entry_view(entry: dict) -> dict:
    shown = {key: entry.get(key) for key in SHOWN}
    shown["account"] = mask(entry.get("account"))
    shown["unmatched"] = unmatched(entry)
    return shown


def _flag(name: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise invalid_request(f"query parameter {name} must be true or false, got {value!r}")


def _limit(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise invalid_request(f"query parameter limit must be a whole number of at least 1, "
                              f"got {value!r}")
    return int(value)


def _status_test(value: str) -> Callable[[dict], bool]:
    if not re.fullmatch(r"[1-5](\d\d|xx)", value.lower()):
        raise invalid_request(f"query parameter status must be a status code like 429 or a "
                              f"class like 4xx, got {value!r}")
    return lambda entry: re.fullmatch(value.lower().replace("x", r"\d"),
                                      str(entry.get("status"))) is not None


def journal_tests(query: dict[str, str]) -> list[Callable[[dict], bool]]:
    """One test per filter in the query; a 400 for an unknown or malformed one."""
    for name in query:
        if name not in FILTERS:
            raise invalid_request(f"unknown query parameter {name!r}; the journal filters "
                                  f"are {', '.join(FILTERS)}")
    tests: list[Callable[[dict], bool]] = []
    if "operation" in query:
        tests.append(lambda e: query["operation"] in operation_names(e.get("operation", "")))
    if "status" in query:
        tests.append(_status_test(query["status"]))
    for key in ("model", "account", "rule"):
        if key in query:
            tests.append(lambda e, key=key: e.get(key) == query[key])
    if "unmatched" in query:
        wanted = _flag("unmatched", query["unmatched"])
        tests.append(lambda e: unmatched(e) == wanted)
    return tests


def journal_page(entries: list[dict], query: dict[str, str]) -> dict:
    """The calls that pass every filter, newest last, at most `limit` (default 100)."""
    tests = journal_tests(query)
    limit = _limit(query.get("limit", "100"))
    found = [e for e in entries if all(test(e) for test in tests)]
    return {"object": "list", "data": [entry_view(e) for e in found[-limit:]]}
