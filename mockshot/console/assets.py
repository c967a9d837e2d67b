"""The console's page and assets, shipped in the package (no CDN: it works offline).

Read once, on first use, and served with an ETag, so a reload costs a 304; the page
itself holds no data (everything it shows comes from the control API, with the same
admin-token rule), which is why the control API serves it without a token.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse, Response

from ..errors import APIError

if TYPE_CHECKING:
    from ..control.api import Call

__all__ = ["console_asset", "console_page", "console_redirect"]

MEDIA = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
PAGE = "index.html"


@cache
def asset(name: str) -> tuple[bytes, str, str] | None:
    """The asset's bytes, media type and ETag; None for a name the console does not ship."""
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix not in MEDIA or "/" in name or name.startswith("."):
        return None
    found = resources.files("mockshot.console").joinpath("static", name)
    if not found.is_file():
        return None
    body = found.read_bytes()
    return body, MEDIA[suffix], '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def served(call: Call, name: str) -> Response:
    found = asset(name)
    if found is None:
        raise APIError(404, "resource_not_found_error", f"the console has no asset "
                                                         f"{name[:60]!r}")
    body, media, etag = found
    headers = {"ETag": etag, "Cache-Control": "no-cache",
               "X-Content-Type-Options": "nosniff"}
    if call.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


async def console_page(call: Call) -> Response:
    return served(call, PAGE)


async def console_asset(call: Call) -> Response:
    return served(call, call.params["asset"])


async def console_redirect(call: Call) -> Response:
    return RedirectResponse("/_mockshot/", status_code=308)
