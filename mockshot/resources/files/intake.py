"""Keeping an upload: the body streamed into a blob sink, checked, extracted, then made
visible and recorded — or nothing at all.

The order is what makes a refusal leave no trace: the bytes go to a temporary file
(`state/blobs.py`) as they arrive; the purpose and format are checked on what was read; a
file-extract file is extracted now, so a corrupt PDF is the service's 500 at upload and its
`/content` later is the kept body, never a second extraction; only then are the blobs
committed under a new file id and the record added, which checks the account's quotas in
the same step. Any failure before that discards the sink; a refused record removes the
blobs just committed. An acknowledged upload is therefore always whole.
"""

from __future__ import annotations

import asyncio

import orjson

from ...engine.seeding import derive_rng
from ...http import check_encoding
from ...incoming import Incoming
from ...mock import Mock
from ...state.blobs import BlobSink
from ...state.records import FileRecord, content_key
from .checks import MAX_FILES, MAX_TOTAL_BYTES, check_quota, check_upload
from .content import content_body
from .extraction import extract
from .ids import file_id
from .upload import Upload, read_upload

__all__ = ["keep_upload"]

ATTEMPTS = 16  # ids drawn before giving up (a clash needs the same second and counter)


async def keep_upload(mock: Mock, incoming: Incoming) -> FileRecord:
    """Read, check and keep the upload on the road; its record (or the service's error)."""
    blobs = mock.store.blobs
    headers = incoming.headers
    check_encoding(headers)  # a compressed body would read as a bad boundary: say what it is
    with blobs.sink() as sink:
        upload = await read_upload(incoming.receive, headers.get("content-type"), sink,
                                   content_length=headers.get("content-length"))
        _journal(incoming, upload)
        file_type = check_upload(upload)
        content = None
        if upload.purpose == "file-extract":
            content = await _extracted(sink, upload, file_type, incoming.seed)
        created_at = int(mock.clock.now())
        for attempt in range(ATTEMPTS):
            rng = derive_rng(incoming.seed, b"file-id", incoming.nth.to_bytes(8, "little"),
                             bytes([attempt]))
            record = FileRecord(file_id(rng, created_at), incoming.account, upload.size,
                                created_at, upload.filename, upload.purpose or "", file_type,
                                content is not None)
            if await _keep(mock, sink, record, content):
                return record
    raise RuntimeError(f"no free file id after {ATTEMPTS} draws")


def _journal(incoming: Incoming, upload: Upload) -> None:
    """What the journal shows of an upload: a short description, never the file."""
    incoming.body = {"purpose": upload.purpose, "filename": upload.filename,
                     "bytes": upload.size, "sha256": upload.sha256}
    incoming.raw = orjson.dumps(incoming.body)


async def _extracted(sink: BlobSink, upload: Upload, file_type: str, seed: int) -> bytes:
    """The `/content` body, extracted off the event loop (a long PDF takes a while); the
    document is read whole here, as its parsers need it."""
    data = sink.read_back()
    text = await asyncio.to_thread(extract, data, upload.filename, seed=seed)
    return content_body(text, file_type, upload.filename)


async def _keep(mock: Mock, sink: BlobSink, record: FileRecord, content: bytes | None) -> bool:
    """Commit the blobs under `record.id` and add the record; False if the id is taken.
    A quota refusal removes what was committed and raises the service's 400."""
    blobs = mock.store.blobs
    try:
        sink.commit(record.id)
    except FileExistsError:
        return False
    if content is not None:
        with blobs.sink() as second:
            second.write(content)
            second.commit(content_key(record.id))
    try:
        admission = await mock.store.add_file(record, MAX_FILES, MAX_TOTAL_BYTES)
    except BaseException:
        blobs.delete(record.id, content_key(record.id))
        raise
    if admission.added:
        return True
    blobs.delete(record.id, content_key(record.id))
    if admission.taken:  # its blob was free, so a record outlived its bytes: a bug
        raise RuntimeError(f"file {record.id} has a record but no bytes")
    check_quota(admission.files, admission.total_bytes, record.bytes)
    raise RuntimeError("add_file refused a file within its quotas")
