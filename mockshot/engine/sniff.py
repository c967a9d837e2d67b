"""Content sniffing exactly as Go's `http.DetectContentType` does it.

The real service reports the type it sniffs from a file's first 512 bytes, never the type a
client declares: an SVG data URL comes back as `text/plain; charset=utf-8` (reference §7.2),
an uploaded .pptx as `application/zip` (§10.4). Go implements the WHATWG mimesniff
algorithm with a fixed table; this is that table, in Go's order (the first match wins, the
text check comes last), so every file gets the name the service would give it.
"""

from __future__ import annotations

__all__ = ["SNIFF_LEN", "media_type", "sniff"]

SNIFF_LEN = 512  # Go looks at no more than this many bytes
WHITESPACE = b"\t\n\x0c\r "
HTML = "text/html; charset=utf-8"
HTML_TAGS = (b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT", b"<IFRAME", b"<H1", b"<DIV",
             b"<FONT", b"<TABLE", b"<A", b"<STYLE", b"<TITLE", b"<B", b"<BODY", b"<BR", b"<P",
             b"<!--")
# (pattern, mask, type): data[i] & mask[i] == pattern[i] for every i; exact when mask is None.
SIGNATURES: tuple[tuple[bytes, bytes | None, str], ...] = (
    (b"%PDF-", None, "application/pdf"),
    (b"%!PS-Adobe-", None, "application/postscript"),
    (b"\xfe\xff\x00\x00", b"\xff\xff\x00\x00", "text/plain; charset=utf-16be"),
    (b"\xff\xfe\x00\x00", b"\xff\xff\x00\x00", "text/plain; charset=utf-16le"),
    (b"\xef\xbb\xbf\x00", b"\xff\xff\xff\x00", "text/plain; charset=utf-8"),
    (b"\x00\x00\x01\x00", None, "image/x-icon"),
    (b"\x00\x00\x02\x00", None, "image/x-icon"),
    (b"BM", None, "image/bmp"),
    (b"GIF87a", None, "image/gif"),
    (b"GIF89a", None, "image/gif"),
    (b"RIFF\0\0\0\0WEBPVP", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff\xff\xff", "image/webp"),
    (b"\x89PNG\r\n\x1a\n", None, "image/png"),
    (b"\xff\xd8\xff", None, "image/jpeg"),
    (b".snd", None, "audio/basic"),
    (b"FORM\0\0\0\0AIFF", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff", "audio/aiff"),
    (b"ID3", None, "audio/mpeg"),
    (b"OggS\x00", None, "application/ogg"),
    (b"MThd\x00\x00\x00\x06", None, "audio/midi"),
    (b"RIFF\0\0\0\0AVI ", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff", "video/avi"),
    (b"RIFF\0\0\0\0WAVE", b"\xff\xff\xff\xff\0\0\0\0\xff\xff\xff\xff", "audio/wave"),
    (None, None, "video/mp4"),  # mp4 goes here in Go's order: see _is_mp4
    (b"\x1a\x45\xdf\xa3", None, "video/webm"),
    (bytes(34) + b"LP", bytes(34) + b"\xff\xff", "application/vnd.ms-fontobject"),
    (b"\x00\x01\x00\x00", None, "font/ttf"),
    (b"OTTO", None, "font/otf"),
    (b"ttcf", None, "font/collection"),
    (b"wOFF", None, "font/woff"),
    (b"wOF2", None, "font/woff2"),
    (b"\x1f\x8b\x08", None, "application/x-gzip"),
    (b"PK\x03\x04", None, "application/zip"),
    (b"Rar!\x1a\x07\x00", None, "application/x-rar-compressed"),
    (b"Rar!\x1a\x07\x01\x00", None, "application/x-rar-compressed"),
    (b"\x00asm", None, "application/wasm"),
)
# Bytes that make data binary (Go's textSig): controls other than \t \n \x0c \r and ESC.
BINARY = frozenset([*range(0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def sniff(data: bytes) -> str:
    """The MIME type Go's http.DetectContentType gives `data`, parameters included."""
    data = data[:SNIFF_LEN]
    start = len(data) - len(data.lstrip(WHITESPACE))
    found = _markup(data[start:])
    if found:
        return found
    for pattern, mask, mime in SIGNATURES:
        if pattern is None:
            if _is_mp4(data):
                return mime
        elif _matches(data, pattern, mask):
            return mime
    if BINARY.isdisjoint(data[start:]):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def media_type(data: bytes) -> str:
    """The sniffed type without parameters (`text/plain`), as FileObjects name it."""
    return sniff(data).partition(";")[0]


def _markup(text: bytes) -> str | None:
    """HTML tags (case-insensitive, then a space or `>`) and `<?xml`, after whitespace."""
    for tag in HTML_TAGS:
        if len(text) > len(tag) and text[: len(tag)].upper() == tag and text[len(tag)] in b" >":
            return HTML
    return "text/xml; charset=utf-8" if text.startswith(b"<?xml") else None


def _matches(data: bytes, pattern: bytes, mask: bytes | None) -> bool:
    if mask is None:
        return data.startswith(pattern)
    if len(data) < len(pattern):
        return False
    return all(d & m == p for d, m, p in zip(data, mask, pattern, strict=False))


def _is_mp4(data: bytes) -> bool:
    """WHATWG's mp4 signature: an `ftyp` box whose brands include one starting `mp4`."""
    if len(data) < 12:
        return False
    box = int.from_bytes(data[:4], "big")
    if len(data) < box or box % 4 or data[4:8] != b"ftyp":
        return False
    return any(data[at:at + 3] == b"mp4" for at in range(8, box, 4) if at != 12)
