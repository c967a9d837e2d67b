"""`ms://<file_id>` in a request body: the account's files it names, looked up before the
request is parsed (the store is awaited here, so the engine's media checks stay pure).

Any string of the body that starts with `ms://` counts, whatever the surface's shape (an
OpenAI `image_url`, an Anthropic image `source.url`); the body's bytes are searched first,
so a body without one costs a single `in`.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...incoming import Incoming
from ...state.store import Store

__all__ = ["referenced_files"]

MS = b"ms://"
MOST = 64  # distinct files one request may reference; more are left unresolved (404)


async def referenced_files(store: Store, incoming: Incoming) -> None:
    """Set `incoming.files` to the referenced files this account has (id → purpose)."""
    if incoming.raw is None or MS not in incoming.raw:
        return
    found: dict[str, str] = {}
    for file_id in sorted(set(_references(incoming.body)))[:MOST]:
        record = await store.file(incoming.account, file_id)
        if record is not None:
            found[file_id] = record.purpose
    incoming.files = found


def _references(value: object) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith("ms://"):
            yield value[5:]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)
