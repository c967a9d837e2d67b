"""Plain text from bytes in whatever encoding a user's editor saved them.

UTF-8 first (with or without a BOM), UTF-16 when a BOM says so. Bytes that are not UTF-8
are most often GBK/GB18030 for this service's users, which is read when the high bytes pair
up as GB2312's common characters do; anything else is read as Windows-1252, the usual
Western legacy encoding (GB18030 would also accept most Latin-1 text, as nonsense hanzi).
Bytes no encoding explains become U+FFFD rather than an error.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_text"]

PAIR = re.compile(rb"[\x81-\xfe][\x40-\xfe]")


def decode_text(data: bytes) -> str:
    """The text of `data`, its byte-order mark removed."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _looks_chinese(data):
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", "replace")


def _looks_chinese(data: bytes) -> bool:
    """Most GBK characters in use (GB2312's) have both bytes at 0xA1 or above; accented
    Latin letters are followed by ASCII."""
    pairs = PAIR.findall(data)
    return bool(pairs) and sum(pair[1] >= 0xA1 for pair in pairs) * 2 > len(pairs)
