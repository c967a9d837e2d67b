"""The journal as the control API shows it: filters, masking, pages.

Pure functions over typed journal entries, so they work the same over any store's journal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import invalid_request
from ..operations import operation_names
from ..state.journal import JournalEntry

__all__ = ["FILTERS", "journal_page"]

SHOWN = ("id", "operation", "account", "model", "status", "seed", "rule", "rule_use",
         "ordinal", "fault", "cost", "chunks_sent", "disconnected", "elapsed_ms", "at",
         "error", "retry_after", "served", "variants", "violation")
FILTERS = ("operation", "status", "model", "account", "rule", "limit", "unmatched")


def mask(key: str | None) -> str | None:
    return key[:6] + "…" if key else key


def entry_view(entry: JournalEntry) -> dict:
    """The entry as the API shows it: the key masked, the body embedded as sent (or its
    marked cut), `seed` the value that replays the call as `X-Mockshot-Seed`."""
    shown = {key: getattr(entry, key) for key in SHOWN}
    shown["account"] = mask(entry.account)
    shown["unmatched"] = entry.unmatched
    shown["request"] = entry.shown_request()
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


def _status_test(value: str) -> Callable[[JournalEntry], bool]:
    if not re.fullmatch(r"[1-5](\d\d|xx)", value.lower()):
        raise invalid_request(f"query parameter status must be a status code like 429 or a "
                              f"class like 4xx, got {value!r}")
    return lambda entry: re.fullmatch(value.lower().replace("x", r"\d"),
                                      str(entry.status)) is not None


def journal_tests(query: dict[str, str]) -> list[Callable[[JournalEntry], bool]]:
    """One test per filter in the query; a 400 for an unknown or malformed one."""
    for name in query:
        if name not in FILTERS:
            raise invalid_request(f"unknown query parameter {name!r}; the journal filters "
                                  f"are {', '.join(FILTERS)}")
    tests: list[Callable[[JournalEntry], bool]] = []
    if "operation" in query:
        tests.append(lambda e: query["operation"] in operation_names(e.operation))
    if "status" in query:
        tests.append(_status_test(query["status"]))
    for key in ("model", "account", "rule"):
        if key in query:
            tests.append(lambda e, key=key: getattr(e, key) == query[key])
    if "unmatched" in query:
        wanted = _flag("unmatched", query["unmatched"])
        tests.append(lambda e: e.unmatched == wanted)
    return tests


def journal_page(entries: list[JournalEntry], query: dict[str, str]) -> dict:
    """The calls that pass every filter, newest last, at most `limit` (default 100)."""
    tests = journal_tests(query)
    limit = _limit(query.get("limit", "100"))
    found = [e for e in entries if all(test(e) for test in tests)]
    return {"object": "list", "data": [entry_view(e) for e in found[-limit:]]}
