"""The text of a PDF, page by page, through pypdf (pure Python, no dependencies of its own;
imported only when a PDF is read, so `import mockshot` does not pay for it)."""

from __future__ import annotations

import io

from .failure import ExtractionError

__all__ = ["pdf_text"]


def pdf_text(data: bytes) -> str:
    """The text of every page, pages apart by a blank line."""
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is a dependency; a broken install
        raise ExtractionError("PDF extraction needs pypdf: pip install pypdf") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("the PDF is encrypted with a password")
        pages = [page.extract_text().strip("\n") for page in reader.pages]
    except ExtractionError:
        raise
    except Exception as exc:  # any failure of a parser on untrusted bytes is the file's
        raise ExtractionError(f"invalid PDF: {exc}") from None
    return "\n\n".join(pages)
