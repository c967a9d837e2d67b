"""The one store URL mockshot takes, `redis://HOST:PORT/DB`, read without importing redis
(settings check it at start-up; only a store that is used imports the client)."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["StoreURLError", "parse_url"]


class StoreURLError(ValueError):
    """A `--store` that is not `redis://HOST:PORT/DB`; the message says why."""


def parse_url(url: str) -> tuple[str, int, int]:
    """HOST, PORT and DB of `redis://HOST[:PORT][/DB]` (port 6379 and db 0 by default)."""
    usage = f"setting store: {url!r} is not a redis://HOST:PORT/DB URL"
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
        db = int(parts.path.strip("/") or 0)
    except ValueError:
        raise StoreURLError(f"{usage} (the port and the database are whole numbers)") from None
    if parts.scheme != "redis":
        raise StoreURLError(f"{usage} (Redis is the one shared store; --state-dir DIR keeps "
                            "the state in a SQLite file)")
    if not parts.hostname or parts.query or parts.fragment or db < 0 or \
            parts.username or parts.password:
        raise StoreURLError(f"{usage} (a host, an optional port and database number, "
                            "nothing else)")
    return parts.hostname, port, db
