"""What purpose `file-extract` accepts: the service's list of formats (reference §10.3), each
with the types sniffing may give its bytes, and how the mock reads it.

A file is taken when its extension is on the list and its bytes sniff as that format can
(random bytes named `.txt` sniff as `application/octet-stream` and are refused, as the
service refuses random bytes with `不支持的文件类型`). A file without an extension is taken
when its bytes name themselves — PDF, text, HTML or an image — as a PDF sent with the
filename `upload` was, in a public capture (§10.4). The list is the documented one plus
`.jpg`, which the docs leave out beside `.jpeg`, `.jfif` and `.pjpeg`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FORMATS", "Format", "format_of"]

TEXT = frozenset({"text/plain", "text/html", "text/xml"})
ZIP = frozenset({"application/zip"})
UNSNIFFABLE = frozenset({"application/octet-stream"})  # formats Go's table has no rule for


@dataclass(frozen=True, slots=True)
class Format:
    """A supported format: the reader extraction uses and the sniffed types it may have."""

    reader: str  # "text", "html", "pdf", "docx", "xlsx", "pptx" or "seeded"
    sniffed: frozenset[str]


# (extensions, reader, the media types their bytes may sniff as)
ROWS: tuple[tuple[str, str, frozenset[str]], ...] = (
    (".txt .md .csv .json .log .yaml .yml .ini .conf", "text", TEXT),
    (".go .h .c .cpp .cxx .cc .cs .java .js .css .jsp .php .py .py3 .asp .ts .tsx", "text", TEXT),
    (".html", "html", TEXT),
    (".pdf", "pdf", frozenset({"application/pdf"})),
    (".docx", "docx", ZIP),
    (".xlsx", "xlsx", ZIP),
    (".pptx", "pptx", ZIP),
    (".epub", "seeded", ZIP),
    (".doc .xls .ppt .mobi .tif .tiff .avif", "seeded", UNSNIFFABLE),
    (".jpeg .jpg .jfif .pjpeg .pjp", "seeded", frozenset({"image/jpeg"})),
    (".png .apng", "seeded", frozenset({"image/png"})),
    (".bmp .dib", "seeded", frozenset({"image/bmp"})),
    (".gif", "seeded", frozenset({"image/gif"})),
    (".webp", "seeded", frozenset({"image/webp"})),
    (".ico", "seeded", frozenset({"image/x-icon"})),
    (".svgz", "seeded", frozenset({"application/x-gzip"})),
    (".svg .xbm", "seeded", TEXT),
    (".dot", "seeded", TEXT | UNSNIFFABLE),  # a Graphviz graph or a Word template
)
FORMATS = {extension: Format(reader, sniffed) for extensions, reader, sniffed in ROWS
           for extension in extensions.split()}


def format_of(filename: str, media_type: str) -> Format | None:
    """How file-extract reads `filename` whose bytes sniff as `media_type` (no parameters),
    or None when the service does not take it."""
    stem, dot, extension = filename.rpartition(".")
    if dot and stem:
        found = FORMATS.get("." + extension.lower())
        return found if found is not None and media_type in found.sniffed else None
    if media_type == "application/pdf":
        return FORMATS[".pdf"]
    if media_type == "text/html":
        return FORMATS[".html"]
    if media_type in TEXT:
        return FORMATS[".txt"]
    return Format("seeded", frozenset({media_type})) if media_type.startswith("image/") else None
