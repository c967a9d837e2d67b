"""What a reader raises when a file cannot be read; `extract` turns it into the service's
500 `server_error` `Failed to extract file: <reason>` (reference §7.1, §10.3)."""

from __future__ import annotations

__all__ = ["ExtractionError"]


class ExtractionError(Exception):
    """The reason a supported file could not be read (its text goes into the message)."""
