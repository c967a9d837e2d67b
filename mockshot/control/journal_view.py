"""The journal as the control API shows it: filters, masking, pages.

Pure functions over typed journal entries, so they work the same over any store's journal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import invalid_request
from ..operations import operation_names
from ..state.journal import JournalEntry

__all__ = ["FILTERS", "entry_detail", "entry_view", "journal_page"]

SHOWN = ("id", "operation", "account", "model", "status", "seed", "rule", "rule_use",
         "ordinal", "fault", "cost", "chunks_sent", "disconnected", "elapsed_ms", "at",
         "error", "retry_after", "served", "variants", "violation")
FILTERS = ("operation", "status", "model", "account", "rule", "unmatched")
PAGING = ("limit", "before", "after", "order")
ORDERS = ("oldest", "newest")


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


def entry_detail(entry: JournalEntry) -> dict:
    """The entry with what it answered: the reply's text (or a stream's frames, each with
    the moment it was due and whether it was sent), cut at the journal's bound."""
    shown = entry_view(entry)
    shown["surface"] = entry.surface
    shown["request_bytes"] = entry.request_bytes
    if entry.reply is not None:
        shown["reply"] = {"text": entry.reply.decode("utf-8", "replace"),
                          "bytes": entry.reply_bytes,
                          "truncated": len(entry.reply) < entry.reply_bytes}
    if entry.frames:
        sent = entry.chunks_sent if entry.chunks_sent is not None else len(entry.frames)
        kept = sum(len(frame) for frame in entry.frames)
        shown["frames"] = [{"at_ms": at, "data": frame.decode("utf-8", "replace"),
                            "sent": index < sent}
                           for index, (at, frame) in enumerate(zip(entry.frame_ms,
                                                                   entry.frames,
                                                                   strict=True))]
        shown["frames_truncated"] = kept < entry.reply_bytes
    return shown


def _flag(name: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise invalid_request(f"query parameter {name} must be true or false, got {value!r}")


def _whole(name: str, value: str, least: int = 1) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) < least:
        raise invalid_request(f"query parameter {name} must be a whole number of at least "
                              f"{least}, got {value[:40]!r}")
    return int(value)


def _status_test(value: str) -> Callable[[JournalEntry], bool]:
    if not re.fullmatch(r"[1-5](\d\d|xx)", value.lower()):
        raise invalid_request(f"query parameter status must be a status code like 429 or a "
                              f"class like 4xx, got {value!r}")
    if value.isdigit():
        wanted = int(value)
        return lambda entry: entry.status == wanted
    low, high = int(value[0]) * 100, int(value[0]) * 100 + 99  # a class: 4xx is 400-499
    return lambda entry: low <= entry.status <= high


def journal_tests(query: dict[str, str]) -> list[Callable[[JournalEntry], bool]]:
    """One test per filter in the query; a 400 for an unknown or malformed one."""
    for name in query:
        if name not in FILTERS and name not in PAGING:
            raise invalid_request(f"unknown query parameter {name[:40]!r}; the journal "
                                  f"filters are {', '.join(FILTERS)} and it pages with "
                                  f"{', '.join(PAGING)}")
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
    """The calls that pass every filter, at most `limit` (default 100) of them: the newest
    ones oldest first (`order=oldest`, the default; with `after`, the first ones after it),
    or newest first (`order=newest`, what a console pages through). `before` / `after`
    (entry ids) bound the page, so a reader
    walks 10,000 entries a page at a time; `total` counts every entry that passed the
    filters and `has_more` says whether the page left some out in its direction."""
    tests = journal_tests(query)
    limit = _whole("limit", query.get("limit", "100"))
    order = query.get("order", "oldest")
    if order not in ORDERS:
        raise invalid_request(f"query parameter order must be oldest or newest, got "
                              f"{order[:40]!r}")
    found = [e for e in entries if all(test(e) for test in tests)]
    window = found
    if "before" in query:
        before = _whole("before", query["before"], 0)
        window = [e for e in window if e.id < before]
    if "after" in query:
        after = _whole("after", query["after"], 0)
        window = [e for e in window if e.id > after]
    if order == "newest":
        page = window[::-1][:limit]
    else:  # walking forward from `after` starts at it; otherwise the newest are shown
        page = window[:limit] if "after" in query else window[-limit:]
    return {"object": "list", "data": [entry_view(e) for e in page], "total": len(found),
            "has_more": len(window) > len(page),
            "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None,
            "latest_id": entries[-1].id if entries else None}
