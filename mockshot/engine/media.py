"""Image and video parts of chat messages: what each model accepts (reference §14, §7.2).

Vision models take base64 data URLs (`data:image/png;base64,...`) and, for kimi-k2.5 and
later, `ms://<file_id>` references to uploaded files. http(s) URLs are refused (the service
does not fetch them), as are data URLs whose MIME type is not an image (or video) and
parts sent to a model without vision. Each part costs the model's fixed token price.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable

from ..errors import APIError, invalid_request
from .catalog import ModelSpec
from .sniff import sniff

__all__ = ["check_media", "sniff"]

DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,(.*)$", re.S)
IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/webp", "image/gif", "image/bmp"}
)
VIDEO_TYPES = frozenset({"video/mp4", "video/mpeg", "video/quicktime", "video/webm",
                         "video/x-msvideo", "video/x-matroska"})

FileLookup = Callable[[str, str], None]  # (account, file_id) → raises APIError if unknown


def _url(part: dict, kind: str) -> str:
    value = part.get(kind)
    return value if isinstance(value, str) else (value or {}).get("url", "")


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


def _check_part(part: dict, model: ModelSpec, account: str, lookup: FileLookup | None) -> None:
    kind = "image" if part.get("type") == "image_url" else "video"
    supported = model.supports_image_in if kind == "image" else model.supports_video_in
    if not supported:
        raise invalid_request(f"model {model.id} does not support {kind} input")
    url = _url(part, f"{kind}_url")
    if url.startswith("ms://"):
        if lookup is None:
            raise APIError(404, "resource_not_found_error", f"file {url[5:]} not found")
        lookup(account, url[5:])
    elif url.startswith(("http://", "https://")):
        raise invalid_request(f"unsupported {kind} url")
    else:
        _check_data_url(url, kind)


def check_media(messages: list[dict], model: ModelSpec, account: str,
                lookup: FileLookup | None = None) -> None:
    """Raise the real error for the first image/video part `model` cannot take."""
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if part.get("type") in ("image_url", "video_url"):
                _check_part(part, model, account, lookup)
