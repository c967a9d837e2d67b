"""Image and video parts of chat messages: what each model accepts (reference §14, §7.2).

Vision models take base64 data URLs (`data:image/png;base64,...`) and, for kimi-k2.5 and
later, `ms://<file_id>` references to uploaded files. http(s) URLs are refused (the service
does not fetch them), as are data URLs whose MIME type is not an image (or video) and
parts sent to a model without vision. Each part costs the model's fixed token price.

The engine knows no store: the caller looks the referenced files up first (the account's
only) and passes what it found as `files`, file id → purpose. An id not there is the 404
any unknown file id gets; a file of the wrong purpose (a PDF as an image) is a 400.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Mapping

from ..errors import APIError, invalid_request
from .catalog import ModelSpec
from .sniff import sniff

__all__ = ["NO_FILES", "check_media", "file_not_found", "sniff"]

DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,(.*)$", re.S)
IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/bmp"}
)
VIDEO_TYPES = frozenset({"video/mp4", "video/mpeg", "video/quicktime", "video/webm",
                         "video/x-msvideo", "video/x-matroska"})

NO_FILES: Mapping[str, str] = {}
MS = "ms://"


def file_not_found(file_id: str) -> APIError:
    """404 for a file id the account does not have, in the words the service uses for an
    unknown model (its text for files is not captured)."""
    return APIError(404, "resource_not_found_error",
                    f"Not found the file {file_id} or Permission denied")


def _url(part: dict, kind: str) -> object:
    value = part.get(kind)
    return value if isinstance(value, str) else (value if isinstance(value, dict) else {}).get(
        "url", "")


def _check_data_url(url: str, kind: str) -> None:
    match = DATA_URL.match(url)
    if match is None:
        raise invalid_request(f"unsupported {kind} url")
    payload = match.group(4)
    try:
        data = binascii.a2b_base64(payload) if match.group(3) else payload.encode()
    except binascii.Error:
        raise invalid_request(f"the {kind} data URL is not valid base64") from None
    mime = sniff(data)
    if mime not in (IMAGE_TYPES if kind == "image" else VIDEO_TYPES):
        raise invalid_request(f"unsupported {kind} format: {mime}")


def _check_file(file_id: str, kind: str, files: Mapping[str, str]) -> None:
    purpose = files.get(file_id)
    if purpose is None:
        raise file_not_found(file_id)
    if purpose != kind:
        raise invalid_request(f"file {file_id} was uploaded with purpose {purpose}; "
                              f"a {kind}_url ms:// reference needs a file of purpose {kind}")


def _check_part(part: dict, model: ModelSpec, files: Mapping[str, str]) -> None:
    kind = "image" if part.get("type") == "image_url" else "video"
    supported = model.supports_image_in if kind == "image" else model.supports_video_in
    if not supported:
        raise invalid_request(f"model {model.id} does not support {kind} input")
    url = _url(part, f"{kind}_url")
    if not isinstance(url, str):
        raise invalid_request(f"unsupported {kind} url")
    if url.startswith(MS):
        _check_file(url[len(MS):], kind, files)
    elif url.startswith(("http://", "https://")):
        raise invalid_request(f"unsupported {kind} url")
    else:
        _check_data_url(url, kind)


def check_media(messages: list[dict], model: ModelSpec,
                files: Mapping[str, str] = NO_FILES) -> None:
    """Raise the real error for the first image/video part `model` cannot take; `files`
    are the referenced files the account has (id → purpose)."""
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if part.get("type") in ("image_url", "video_url"):
                _check_part(part, model, files)
