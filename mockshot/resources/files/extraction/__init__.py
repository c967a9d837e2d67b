"""The text file-extract gives a file: really extracted for text, Markdown, CSV, JSON, logs,
YAML, code, HTML, PDF, Word, Excel and PowerPoint; seeded for the other supported formats.

`extract` picks the reader from the file's name and sniffed bytes (`formats.py`). A file the
service does not take is its 400 `不支持的文件类型`; a supported file that cannot be read
(a corrupt PDF, a broken zip) is its 500 `server_error` `Failed to extract file: <reason>`.
"""

from __future__ import annotations

from collections.abc import Callable

from ....engine.sniff import media_type
from ....errors import APIError
from ..checks import UNSUPPORTED
from ..formats import format_of
from .failure import ExtractionError
from .html import html_text
from .office import docx_text, pptx_text, xlsx_text
from .pdf import pdf_text
from .seeded import seeded_text
from .text import decode_text

__all__ = ["ExtractionError", "extract"]

READERS: dict[str, Callable[[bytes], str]] = {
    "text": decode_text, "html": html_text, "pdf": pdf_text, "docx": docx_text,
    "xlsx": xlsx_text, "pptx": pptx_text,
}


def extract(data: bytes, filename: str, *, seed: int = 0) -> str:
    """The text of the file `filename` holding `data`, or the service's error for it."""
    found = format_of(filename, media_type(data))
    if found is None:
        raise APIError(400, "invalid_request_error", UNSUPPORTED)
    if found.reader == "seeded":
        return seeded_text(data, seed)
    try:
        return READERS[found.reader](data)
    except ExtractionError as exc:
        raise APIError(500, "server_error", f"Failed to extract file: {exc}") from None
