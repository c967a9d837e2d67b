"""The checks `POST /v1/batches` makes on its body before it looks at the input file.

The spec's schema first (required fields, the one endpoint, metadata values of at most 512
characters), then what it cannot say (reference §11.1): `completion_window` as a number of
hours or days (`12h`, `24h`, `1d`, `3d`) from 12 hours to 7 days, and `metadata` of at
most 16 pairs with keys of at most 64 characters. The service's texts for these are not
captured; they are 400 `invalid_request_error` (Mock defaults 8) saying what to send.
"""

from __future__ import annotations

import re

from ...errors import invalid_request
from ...mock import Mock

__all__ = ["MAX_WINDOW", "MIN_WINDOW", "check_create", "window_seconds"]

WINDOW = re.compile(r"([1-9][0-9]{0,5})([hd])")
UNIT = {"h": 3600, "d": 86400}
MIN_WINDOW, MAX_WINDOW = 12 * 3600, 7 * 86400
MAX_PAIRS, MAX_KEY = 16, 64


def window_seconds(window: str) -> int:
    """`24h` → 86400; the 400 for a window outside 12h-7d or not written as hours/days."""
    match = WINDOW.fullmatch(window)
    if match is None:
        raise invalid_request(f"completion_window must be a number of hours or days such as "
                              f"24h or 1d, not {window!r}")
    seconds = int(match.group(1)) * UNIT[match.group(2)]
    if not MIN_WINDOW <= seconds <= MAX_WINDOW:
        raise invalid_request(f"completion_window must be from 12h to 7d, not {window}")
    return seconds


def check_metadata(metadata: object) -> None:
    if not isinstance(metadata, dict):
        return  # the schema has refused anything but an object; null is no metadata
    if len(metadata) > MAX_PAIRS:
        raise invalid_request(f"metadata may hold at most {MAX_PAIRS} key-value pairs, "
                              f"not {len(metadata)}")
    for key in metadata:
        if len(key) > MAX_KEY:
            raise invalid_request(f"metadata keys may be at most {MAX_KEY} characters; "
                                  f"{key[:80]!r} has {len(key)}")


def check_create(mock: Mock, body: dict) -> int:
    """Check a create body; the completion window in seconds."""
    if body.get("metadata") is None:
        body = {k: v for k, v in body.items() if k != "metadata"}
    mock.spec.validator("post", "/v1/batches").check(body)
    check_metadata(body.get("metadata"))
    return window_seconds(body["completion_window"])
