"""Content sniffing names data as Go's http.DetectContentType does (cases from Go's own tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockshot.engine.sniff import media_type, sniff


@pytest.mark.parametrize(("data", "mime"), [
    (b"", "text/plain; charset=utf-8"),
    (b"\x01\x02\x03", "application/octet-stream"),
    (b"<HtMl><bOdY>blah blah blah</body></html>", "text/html; charset=utf-8"),
    (b"<HTML></HTML>", "text/html; charset=utf-8"),
    (b"   <!DOCTYPE HTML>...", "text/html; charset=utf-8"),
    (b"\r\n<html>...", "text/html; charset=utf-8"),
    (b"<p>para</p>", "text/html; charset=utf-8"),
    (b"<pre>not a tag name Go knows", "text/plain; charset=utf-8"),
    (b"<html", "text/plain; charset=utf-8"),  # a tag needs a space or > after it
    ("This is not HTML. It has ☃ though.".encode(), "text/plain; charset=utf-8"),
    (b"\n<?xml!", "text/xml; charset=utf-8"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "text/plain; charset=utf-8"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"\x00\x00\x02\x00", "image/x-icon"),
    (b"BM...", "image/bmp"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a...", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP", "image/webp"),
    (b"\x89PNG\x0d\x0a\x1a\x0a", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"MThd\x00\x00\x00\x06\x00\x01", "audio/midi"),
    (b"ID3\x03\x00\x00\x00\x00\x0f", "audio/mpeg"),
    (b"RIFFb\xb8\x00\x00WAVEfmt \x12\x00\x00\x00\x06", "audio/wave"),
    (b"FORM\x00\x00\x00\x00AIFFCOMM\x00\x00\x00\x12\x00\x01\x00\x00", "audio/aiff"),
    (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x7e\x46", "application/ogg"),
    (b"owow\x00", "application/octet-stream"),
    (b"oggS\x00", "application/octet-stream"),
    (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<\x06t\xbfmdat", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "application/octet-stream"),  # QuickTime
    ("RIFF,O\n\x00AVI LISTÀ".encode(), "video/avi"),
    (b"\x1a\x45\xdf\xa3\x01", "video/webm"),
    (b"\x00\x01\x00\x00\x00\x17\x01\x00\x00\x04\x01\x60\x4f", "font/ttf"),
    (b"OTTO\x00\x0e\x00\x80", "font/otf"),
    (b"wOFF\x00\x01\x00\x00", "font/woff"),
    (b"wOF2\x00\x01\x00\x00", "font/woff2"),
    (b"\x00asm\x01\x00", "application/wasm"),
    (b"Rar!\x1a\x07\x00", "application/x-rar-compressed"),
    (b"Rar!\x1a\x07\x01\x00", "application/x-rar-compressed"),
    (b"Rar \x1a\x07\x00", "application/octet-stream"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"PK\x03\x04\x14\x00", "application/zip"),
    (b"\x1f\x8b\x08\x00", "application/x-gzip"),
    (b"\xfe\xff\x00h", "text/plain; charset=utf-16be"),
    (b"\xff\xfeh\x00", "text/plain; charset=utf-16le"),
    (b"\xef\xbb\xbfhi", "text/plain; charset=utf-8"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/octet-stream"),  # .doc: Go has no rule
    (b"col\x0bumn", "application/octet-stream"),  # a vertical tab is binary to Go
    (b"page\x0cbreak \x1b[0m", "text/plain; charset=utf-8"),  # form feed and ESC are text
])
def test_data_is_named_as_go_names_it(data, mime):
    assert sniff(data) == mime


def test_only_the_first_512_bytes_count():
    assert sniff(b"a" * 512 + b"\x00") == "text/plain; charset=utf-8"
    assert sniff(b"a" * 511 + b"\x00") == "application/octet-stream"


@pytest.mark.parametrize(("data", "mime"), [
    (b"plain words", "text/plain"),
    (b"%PDF-1.4", "application/pdf"),
    (b"\x01", "application/octet-stream"),
])
def test_the_media_type_drops_the_parameters(data, mime):
    assert media_type(data) == mime


@given(st.binary(max_size=600))
def test_sniffing_always_names_a_type(data):
    assert "/" in sniff(data)
