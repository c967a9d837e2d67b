"""(f) extraction: ms per page of file-extract's text for the sample PDF and DOCX in
fixtures/documents/, and for 100-page documents written the same way (so per-call overhead
does not pass for per-page cost)."""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from common import ROOT, Row, section

DOCUMENTS = ROOT / "fixtures" / "documents"
LINES_PER_PAGE = 40  # a page of the 100-page documents: 40 lines of about 12 words
WORDS = ("the", "mock", "extracts", "text", "from", "every", "page", "of", "the", "documents",
         "users", "upload")


def load_maker():
    """fixtures/make_documents.py, the writer of the samples, by file path."""
    spec = importlib.util.spec_from_file_location("make_documents",
                                                  ROOT / "fixtures" / "make_documents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def big_pdf(maker, pages: int) -> bytes:
    lines = [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(12))
             for i in range(LINES_PER_PAGE)]
    return maker.pdf([[f"Page {n + 1}", *lines] for n in range(pages)])


def big_docx(maker, pages: int) -> bytes:
    """A Word body of `pages` x 40 paragraphs, in the sample's package."""
    paragraph = "<w:p>" + maker._w(" ".join(WORDS)) + "</w:p>"
    body = paragraph * (pages * LINES_PER_PAGE)
    return maker.office({
        "[Content_Types].xml": maker._types(
            {"word/document.xml": "officedocument.wordprocessingml.document.main"}),
        "_rels/.rels": maker._rels({"rId1": ("officeDocument", "word/document.xml")}),
        "word/document.xml": f'<w:document xmlns:w="{maker.WORD}"><w:body>{body}</w:body>'
                             "</w:document>"})


def ms_per_call(read: Callable[[], object], runs: int) -> float:
    """Median ms of `runs` calls (after one untimed call)."""
    read()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        read()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


FIRST_PDF = """import time
t = time.perf_counter()
from mockshot.resources.files.extraction import extract
extract(open({path!r}, "rb").read(), "report.pdf")
print((time.perf_counter() - t) * 1000)
"""


def first_pdf_ms() -> float:
    """A fresh process's first PDF, which pays for importing pypdf (imported lazily)."""
    out = subprocess.run([sys.executable, "-c", FIRST_PDF.format(path=str(DOCUMENTS /
                                                                        "report.pdf"))],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return float(out)


def bench_extraction(args: argparse.Namespace) -> list[Row]:
    """(f): how long GET /v1/files/{id}/content spends reading a document, per page."""
    from mockshot.resources.files.extraction import extract

    section("(f) extraction: ms per page, median of 20 (PDF via pypdf, DOCX via zipfile)")
    maker = load_maker()
    cases = [("sample PDF (fixtures/documents/report.pdf)", "report.pdf",
              (DOCUMENTS / "report.pdf").read_bytes(), 3, 20),
             ("sample DOCX (fixtures/documents/proposal.docx)", "proposal.docx",
              (DOCUMENTS / "proposal.docx").read_bytes(), 1, 20),
             ("100-page PDF, 40 lines a page", "big.pdf", big_pdf(maker, 100), 100, 5),
             ("100-page DOCX, 40 paragraphs a page", "big.docx", big_docx(maker, 100), 100, 5)]
    rows = []
    print("| document | pages | ms per document | ms per page |\n|---|---:|---:|---:|")
    for label, name, data, pages, runs in cases:
        ms = ms_per_call(lambda data=data, name=name: extract(data, name), runs)
        print(f"| {label} | {pages} | {ms:.2f} | {ms / pages:.3f} |")
        rows.append(Row(f"extraction, {label}, ms per page", f"{ms / pages:.3f}", "—", "—",
                        "—", "—"))
    print(f"\nA fresh process's first PDF (imports pypdf): {first_pdf_ms():.0f} ms")
    return rows
