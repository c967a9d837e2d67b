"""The text of an HTML page as a reader sees it (roughly the DOM's `innerText`): no tags, no
head, scripts or styles; entities resolved; white space folded except in `<pre>`; blocks on
lines of their own, paragraphs and headings apart by a blank line, table cells by tabs.
The stdlib's html.parser reads the markup, so no dependency is needed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .text import decode_text

__all__ = ["html_text"]

HIDDEN = frozenset({"head", "title", "script", "style", "template", "noscript"})
LINE = frozenset({
    "address", "article", "aside", "caption", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav",
    "ol", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul"})
PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"})
SPACE = re.compile(r"[ \t\r\n\f]+")


def html_text(data: bytes) -> str:
    """The page's text, its lines without trailing spaces."""
    reader = _Reader()
    reader.feed(decode_text(data))
    reader.close()
    return "\n".join(line.rstrip(" ") for line in "".join(reader.out).split("\n")).strip("\n")


class _Reader(HTMLParser):
    """Collects text, holding back line breaks until text follows (so breaks never pile
    up: the larger of two adjacent requests wins, as innerText's break counts do)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pending = 0  # line breaks owed before the next text
        self.hidden = self.pre = self.cells = 0
        self.after_pre = False  # HTML drops a newline right after <pre>

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self._write("\n", raw=True)
        elif tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self._write("\t", raw=True)
            self.cells += 1
        self._edge(tag, +1)
        self.after_pre = tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        self._edge(tag, -1)

    def _edge(self, tag: str, step: int) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden + step)
        if tag == "pre":
            self.pre = max(0, self.pre + step)
        breaks = 2 if tag in PARAGRAPH else 1 if tag in LINE else 0
        self.pending = max(self.pending, breaks)

    def handle_data(self, data: str) -> None:
        if self.after_pre and data.startswith("\n"):
            data = data[1:]
        self.after_pre = False
        if not self.hidden:
            self._write(data if self.pre else SPACE.sub(" ", data), raw=bool(self.pre))

    def _write(self, text: str, raw: bool) -> None:
        at_line_start = not self.out or self.out[-1].endswith("\n")
        if not raw and (self.pending or at_line_start):
            text = text.lstrip(" ")
        if not text:
            return
        if self.pending and self.out:
            self.out.append("\n" * self.pending)
        self.pending = 0
        self.out.append(text)
