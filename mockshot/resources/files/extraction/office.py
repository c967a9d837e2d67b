"""The text of Word, Excel and PowerPoint files (Office Open XML): a zip of XML parts, read
with zipfile and ElementTree, so no dependency is needed. Parts are read in the order the
document lists them (sheets, slides), and no part may unpack to more than 64 MiB."""

from __future__ import annotations

import io
import posixpath
import zipfile
from xml.etree import ElementTree

from .failure import ExtractionError

__all__ = ["docx_text", "pptx_text", "xlsx_text"]

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
PART_LIMIT = 64 << 20


def docx_text(data: bytes) -> str:
    """Paragraphs on their own lines; a table row per line, its cells apart by tabs."""
    body = _part(_zip(data), "word/document.xml").find(f"{W}body")
    lines: list[str] = []
    for block in body if body is not None else ():
        if block.tag == f"{W}tbl":
            lines.extend("\t".join(" ".join(_runs(p) for p in cell.iter(f"{W}p"))
                                   for cell in row.findall(f"{W}tc"))
                         for row in block.iter(f"{W}tr"))
        elif block.tag == f"{W}p":
            lines.append(_runs(block))
    return "\n".join(lines)


def _runs(paragraph: ElementTree.Element) -> str:
    """A Word paragraph's text: its w:t pieces, tabs and breaks (deleted text left out)."""
    out = []
    for node in paragraph.iter():
        if node.tag == f"{W}t":
            out.append(node.text or "")
        elif node.tag == f"{W}tab":
            out.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            out.append("\n")
    return "".join(out)


def xlsx_text(data: bytes) -> str:
    """Each sheet's rows as lines of tab-separated cells; sheets apart by a blank line."""
    book = _zip(data)
    shared = _shared_strings(book)
    sheets = _listed_parts(book, "xl/workbook.xml", f"{S}sheets/{S}sheet")
    return "\n\n".join(_sheet_text(_part(book, name), shared) for name in sheets)


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    table = _part(book, "xl/sharedStrings.xml")
    return ["".join(t.text or "" for t in item.iter(f"{S}t")) for item in table.iter(f"{S}si")]


def _sheet_text(sheet: ElementTree.Element, shared: list[str]) -> str:
    rows = []
    for row in sheet.iter(f"{S}row"):
        cells: dict[int, str] = {}
        for cell in row.iter(f"{S}c"):
            cells[_column(cell.get("r", ""), len(cells))] = _cell_value(cell, shared)
        rows.append("\t".join(cells.get(i, "") for i in range(max(cells, default=-1) + 1)))
    return "\n".join(rows)


def _column(reference: str, fallback: int) -> int:
    """`C7` → 2; a cell without a reference follows the one before it."""
    letters = reference.rstrip("0123456789")
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1 if letters else fallback


def _cell_value(cell: ElementTree.Element, shared: list[str]) -> str:
    kind, value = cell.get("t"), cell.findtext(f"{S}v") or ""
    if kind == "s":
        return shared[int(value)] if value.isdigit() and int(value) < len(shared) else ""
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{S}t"))
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    return value


def pptx_text(data: bytes) -> str:
    """Each slide's paragraphs as lines; slides apart by a blank line."""
    deck = _zip(data)
    slides = _listed_parts(deck, "ppt/presentation.xml", f"{P}sldIdLst/{P}sldId")
    return "\n\n".join("\n".join("".join(t.text or "" for t in p.iter(f"{A}t"))
                                 for p in _part(deck, name).iter(f"{A}p"))
                       for name in slides)


def _listed_parts(package: zipfile.ZipFile, main: str, path: str) -> list[str]:
    """The parts `main` lists at `path`, in its order, through its relationships."""
    folder, _, file = main.rpartition("/")
    rels = _part(package, f"{folder}/_rels/{file}.rels")
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{REL}Relationship")}
    names = []
    for entry in _part(package, main).findall(path):
        target = targets.get(entry.get(f"{R}id"), "")
        where = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
        names.append(posixpath.normpath(where))
    return names


def _zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ExtractionError(f"invalid Office file: {exc}") from None


def _part(package: zipfile.ZipFile, name: str) -> ElementTree.Element:
    """One XML part, parsed; a missing, oversized, DTD-bearing or broken part is an error."""
    try:
        with package.open(name) as member:
            raw = member.read(PART_LIMIT + 1)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExtractionError(f"invalid Office file: {exc}") from None
    if len(raw) > PART_LIMIT:
        raise ExtractionError(f"invalid Office file: {name} is over {PART_LIMIT >> 20} MiB")
    if b"<!DOCTYPE" in raw:  # Office never writes one; entity tricks need one
        raise ExtractionError(f"invalid Office file: {name} declares a DTD")
    try:
        return ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise ExtractionError(f"invalid Office file: {name}: {exc}") from None
