"""The `/v1/files` endpoints: upload, list, retrieve, delete and content (reference §10).

An account sees only its own files: another account's id, an unknown one and a deleted
one are the same 404 (`Not found the file <id> or Permission denied`, the words of the
service's unknown-model error, since its text for files is not captured), so no caller can
learn that an id exists elsewhere. `/content` answers a file-extract file's kept JSON body
and the raw JSONL of batch, batch_output files; images, videos and lambda files have no
content to give (400, Mock defaults 8). Bodies are streamed from the blob area.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

from starlette.responses import Response

from ...engine.media import file_not_found
from ...errors import invalid_request
from ...http import json_response
from ...incoming import Incoming
from ...mock import Mock
from ...state.records import FileRecord, content_key
from .intake import keep_upload
from .objects import file_deleted, file_list, file_object

__all__ = ["delete_file", "file_content", "list_files", "retrieve_file", "upload_file"]

RAW_PURPOSES = ("batch", "batch_output")
JSON_MEDIA = b"application/json; charset=utf-8"
JSONL_MEDIA = b"application/jsonl; charset=utf-8"
MAX_PAGE = 10_000


def body_of(record: FileRecord) -> dict:
    return file_object(record.id, record.bytes, record.created_at, record.filename,
                       record.purpose, record.file_type)


async def upload_file(mock: Mock, incoming: Incoming) -> Response:
    return json_response(body_of(await keep_upload(mock, incoming)))


async def owned(mock: Mock, incoming: Incoming) -> FileRecord:
    """The path's file, if it is this account's; else the 404."""
    file_id = incoming.path_params["file_id"]
    found = await mock.store.file(incoming.account, file_id)
    if found is None:
        raise file_not_found(file_id)
    return found


async def retrieve_file(mock: Mock, incoming: Incoming) -> Response:
    return json_response(body_of(await owned(mock, incoming)))


async def delete_file(mock: Mock, incoming: Incoming) -> Response:
    file_id = incoming.path_params["file_id"]
    if await mock.store.delete_file(incoming.account, file_id) is None:
        raise file_not_found(file_id)
    return json_response(file_deleted(file_id))


async def list_files(mock: Mock, incoming: Incoming) -> Response:
    """Newest first unless `order=asc`; `after` a file id, `limit` 1-10,000 (as the openai
    SDK pages them: the next page starts after the last id while `has_more`)."""
    query = parse_qs(incoming.query)
    order = _one(query, "order") or "desc"
    if order not in ("asc", "desc"):
        raise invalid_request(f"order must be asc or desc, not {order!r}")
    limit = page_limit(_one(query, "limit"), MAX_PAGE, MAX_PAGE)
    files = await mock.store.files(incoming.account)
    if order == "desc":
        files.reverse()
    after = _one(query, "after")
    if after:
        ids = [f.id for f in files]
        files = files[ids.index(after) + 1:] if after in ids else []
    return json_response(file_list([body_of(f) for f in files[:limit]], len(files) > limit))


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def page_limit(raw: str | None, default: int, most: int) -> int:
    """A `limit` query parameter: a whole number from 1 to `most`, else the 400."""
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise invalid_request(f"limit must be a whole number from 1 to {most}, not {raw!r}")
    return int(raw)


async def file_content(mock: Mock, incoming: Incoming) -> Response:
    record = await owned(mock, incoming)
    if record.content:
        key, media = content_key(record.id), JSON_MEDIA
    elif record.purpose in RAW_PURPOSES:
        key, media = record.id, JSONL_MEDIA
    else:
        raise invalid_request(f"file {record.id} has purpose {record.purpose}, which has no "
                              "content to retrieve; content is served for file-extract, "
                              "batch and batch_output files")
    return BlobReply(*mock.store.blobs.reader(key), media)


class BlobReply:
    """A blob sent as it is read from disk, with its length (opened before the reply is
    returned, so a delete meanwhile does not cut it short)."""

    __slots__ = ("chunks", "media", "size")
    status_code = 200

    def __init__(self, size: int, chunks: Iterator[bytes], media: bytes) -> None:
        self.size, self.chunks, self.media = size, chunks, media

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", self.media),
                                (b"content-length", b"%d" % self.size)]})
        for piece in self.chunks:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
