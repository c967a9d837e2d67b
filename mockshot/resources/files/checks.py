"""The checks `POST /v1/files` makes once the body is read, with the service's texts.

Purposes (reference §10.2): the six the real message lists. `batch_output` is the purpose of
the files the batch system writes, but the service's own validation lists it as accepted,
so a client may upload with it too (and `lambda`); such files are kept and served as they
are. Then per purpose: a `batch` file must be `.jsonl`; an `image` or `video` file must sniff
as one chat can take (the same types and message as a data URL in chat); a `file-extract`
file must be a supported format (`formats.py`), else the service's `不支持的文件类型`.
The FileObject's `file_type` is the sniffed media type without parameters: `image/png`,
`application/pdf`, `application/zip` for a .pptx, `text/plain` for a .txt (§10.1, §10.4).
"""

from __future__ import annotations

from ...engine.media import IMAGE_TYPES, VIDEO_TYPES
from ...engine.sniff import media_type, sniff
from ...errors import APIError, invalid_request
from .formats import format_of
from .upload import Upload

__all__ = ["MAX_FILES", "MAX_TOTAL_BYTES", "PURPOSES", "check_purpose", "check_quota",
           "check_upload"]

PURPOSES = ("file-extract", "batch", "batch_output", "lambda", "image", "video")
MAX_FILES = 1000
MAX_TOTAL_BYTES = 10 * 1024**3  # "10 GB" per account (§10.2)
UNSUPPORTED = "不支持的文件类型"


def check_purpose(purpose: str | None) -> str:
    """The purpose, or the real 400 listing the accepted ones. A body without a purpose
    field gets the same text with nothing after the colon, as a Go handler reading an
    absent form value as "" writes it (the real answer to that case is not captured)."""
    if purpose in PURPOSES:
        return purpose
    listed = ", ".join(f"`{p}`" for p in PURPOSES[:-1]) + f" and `{PURPOSES[-1]}`"
    raise invalid_request(f"Invalid purpose: {purpose or ''}, only {listed} accepted",
                          prefixed=False)


def check_upload(upload: Upload) -> str:
    """Raise the service's 400 for a file its purpose cannot take; else its `file_type`."""
    purpose = check_purpose(upload.purpose)
    file_type = media_type(upload.head)
    if purpose == "batch" and not upload.filename.lower().endswith(".jsonl"):
        raise invalid_request(
            f"a file with purpose batch must be a .jsonl file, not {upload.filename!r}")
    if purpose in ("image", "video"):
        accepted = IMAGE_TYPES if purpose == "image" else VIDEO_TYPES
        if file_type not in accepted:
            raise invalid_request(f"unsupported {purpose} format: {sniff(upload.head)}")
    if purpose == "file-extract" and format_of(upload.filename, file_type) is None:
        raise APIError(400, "invalid_request_error", UNSUPPORTED)
    return file_type


def check_quota(files: int, total_bytes: int, size: int) -> None:
    """Raise the 400 for an account that already holds `files` files of `total_bytes`
    and would add one of `size` bytes: 1,000 files (the real text) or 10 GB (text unknown,
    written in the same words)."""
    if files >= MAX_FILES:
        raise invalid_request(
            f"The number of files you have uploaded exceeded the max file count {MAX_FILES}, "
            "please delete previous uploaded files", prefixed=False)
    if total_bytes + size > MAX_TOTAL_BYTES:
        raise invalid_request(
            "The size of files you have uploaded exceeded the max total size 10GB, "
            "please delete previous uploaded files", prefixed=False)
