"""The /content body of a file-extract file is the bytes Go's encoding/json writes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockshot.resources.files.content import content_body

SHORT = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def go_string(text: str) -> str:
    """Go's appendString with escapeHTML, character by character (Go 1.22+)."""
    out = []
    for ch in text:
        if ch in SHORT:
            out.append(SHORT[ch])
        elif ord(ch) < 0x20 or ch in "<>&\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def test_the_captured_body_comes_out_byte_for_byte():
    """The Java SDK's recorded example (reference §10.4)."""
    assert content_body("文件内容1\n\n文件内容2", "text/plain", "我是一个文件.txt") == (
        '{"content":"文件内容1\\n\\n文件内容2","file_type":"text/plain",'
        '"filename":"我是一个文件.txt","title":"","type":"file"}').encode()


def test_markup_characters_are_escaped_as_go_escapes_them():
    body = content_body("a & b <c> \u2028", "text/html", "x&y.html")
    assert body == (b'{"content":"a \\u0026 b \\u003cc\\u003e \\u2028","file_type":"text/html",'
                    b'"filename":"x\\u0026y.html","title":"","type":"file"}')
    assert json.loads(body)["content"] == "a & b <c> \u2028"


@pytest.mark.parametrize(("text", "written"), [("\ud800x", '"\ufffdx"'), ("\x7f", '"\x7f"'),
                                               ("\x00\x1f", '"\\u0000\\u001f"')])
def test_edge_characters_are_written_as_go_writes_them(text, written):
    assert content_body(text, "t", "f").startswith(f'{{"content":{written},'.encode())


@given(content=st.text(), filename=st.text(max_size=40), title=st.text(max_size=10))
def test_any_text_is_written_as_go_writes_it(content, filename, title):
    expected = (f'{{"content":{go_string(content)},"file_type":"text/plain",'
                f'"filename":{go_string(filename)},"title":{go_string(title)},"type":"file"}}')
    assert content_body(content, "text/plain", filename, title) == expected.encode()
