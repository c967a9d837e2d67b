"""The body of `GET /v1/files/{id}/content` for a file-extract file, byte for byte.

The service writes it with Go's encoding/json (reference §10.4): keys in alphabetical order
(content, file_type, filename, title, type), no spaces, non-ASCII as UTF-8, and `&`, `<`,
`>`, U+2028 and U+2029 escaped as `\\u0026`, `\\u003c`, `\\u003e`, `\\u2028`, `\\u2029`.
orjson already escapes control characters as Go 1.22+ does (`\\b`, `\\f`, `\\u001f`), so the
HTML-safe escapes are the only difference left to make.
"""

from __future__ import annotations

import re

import orjson

__all__ = ["content_body"]

GO_ESCAPES = {b"&": b"\\u0026", b"<": b"\\u003c", b">": b"\\u003e",
              "\u2028".encode(): b"\\u2028", "\u2029".encode(): b"\\u2029"}
HTML_UNSAFE = re.compile("|".join(re.escape(k.decode()) for k in GO_ESCAPES).encode())
SURROGATE = re.compile("[\ud800-\udfff]")


def content_body(content: str, file_type: str, filename: str, title: str = "") -> bytes:
    """`{"content":...,"file_type":...,"filename":...,"title":...,"type":"file"}`."""
    body = orjson.dumps({"content": _valid(content), "file_type": file_type,
                         "filename": _valid(filename), "title": _valid(title), "type": "file"})
    return HTML_UNSAFE.sub(lambda match: GO_ESCAPES[match.group()], body)


def _valid(text: str) -> str:
    """Lone surrogates (which no UTF-8 can carry) as U+FFFD, as Go writes invalid bytes."""
    return SURROGATE.sub("\ufffd", text)
