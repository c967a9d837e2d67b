"""file-extract's text: each sample document in fixtures/ gives exactly this text."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mockshot.errors import APIError
from mockshot.resources.files.extraction import extract
from mockshot.resources.files.extraction.html import html_text
from mockshot.resources.files.extraction.text import decode_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DOCUMENTS = FIXTURES / "documents"


def text_of(name: str, seed: int = 0) -> str:
    return extract((DOCUMENTS / name).read_bytes(), name, seed=seed)


def failure(data: bytes, name: str) -> APIError:
    with pytest.raises(APIError) as caught:
        extract(data, name)
    return caught.value


EXPECTED = {
    "report.pdf": "Quarterly report\nUploads grew 42% over the quarter.\n"
                  "Most files were PDFs (61%) and Word documents (23%).\n\n"
                  "Extraction\nText is read from every page in order.\n"
                  "Tables & figures keep their captions: <Figure 1>.\n\n"
                  "Next steps\nBatch jobs answer each line with the chat engine.\n"
                  "Review on 2026-12-01.",
    "proposal.docx": "Proposal: files & batches\nThe mock extracts text from every upload.\n"
                     "Owner:\tLin\nLine one\nLine two\nKeep this.\nPhase\tWeeks\tStatus\n"
                     "Upload\t2\tdone\n中文段落\N{FULLWIDTH COLON}上传、提取、对话。\n\n"
                     "Ends with <angle> brackets.",
    "budget.xlsx": "model\tinput\toutput\tcached\nkimi-k2.6\t0.95\t4\tTRUE\n"
                   "moonshot-v1-8k\t0.2\t2\tFALSE\ntotal\t\t6\n\nPrices are USD per 1M tokens.",
    "roadmap.pptx": "Roadmap\nQ1: files & extraction\nQ2: batches\n\n"
                    "Done when\nEvery line is accounted for.",
    "article.html": "Release notes & changes\n\nUploads are streamed, never held whole.\n\n"
                    "PDF <3 pages>\nDOCX\nType\tReader\nPDF\tpypdf\n\n  code   keeps\n"
                    "  its spaces\n\nFirst line\nsecond line\n\n中文文本 © 2026",
    "notes-gbk.txt": "会议纪要\n上传文件后提取文本。\n",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_document_gives_its_text(name):
    assert text_of(name) == EXPECTED[name]


@pytest.mark.parametrize("name", ["meeting-notes.txt", "guide.md", "pricing.csv", "config.json",
                                  "schedule.yaml", "server.log", "retry.py"])
def test_text_formats_give_the_file_as_written(name):
    assert text_of(name) == (DOCUMENTS / name).read_text(encoding="utf-8")


def test_a_corrupt_pdf_is_the_real_500():
    error = failure((DOCUMENTS / "corrupt.pdf").read_bytes(), "corrupt.pdf")
    assert (error.status, error.type) == (500, "server_error")
    assert error.message.startswith("Failed to extract file: invalid PDF: ")


def zipped(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"PK\x03\x04 cut short", "broken.docx",
     "Failed to extract file: invalid Office file: File is not a zip file"),
    (zipped({"other.xml": b"<a/>"}), "empty.docx",
     "Failed to extract file: invalid Office file: \"There is no item named "
     "'word/document.xml' in the archive\""),
    (zipped({"word/document.xml": b"<document>"}), "cut.docx",
     "Failed to extract file: invalid Office file: word/document.xml: "
     "no element found: line 1, column 10"),
    (zipped({"word/document.xml": b'<!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>'}), "dtd.docx",
     "Failed to extract file: invalid Office file: word/document.xml declares a DTD"),
    (zipped({"xl/workbook.xml": b"<workbook/>"}), "norels.xlsx",
     "Failed to extract file: invalid Office file: \"There is no item named "
     "'xl/_rels/workbook.xml.rels' in the archive\""),
])
def test_a_broken_office_file_is_the_real_500(data, name, message):
    error = failure(data, name)
    assert (error.status, error.type, error.message) == (500, "server_error", message)


@pytest.mark.parametrize(("data", "name"), [(bytes(range(256)), "random.bin"),
                                            (b"\x00\x01binary", "notes.txt")])
def test_what_file_extract_does_not_take_is_its_400(data, name):
    error = failure(data, name)
    assert (error.status, error.message) == (400, "不支持的文件类型")


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
PNG = (FIXTURES / "images/pixel.png").read_bytes()


@pytest.mark.parametrize(("data", "name"), [(OLE, "old.doc"), (OLE, "deck.ppt"),
                                            (PNG, "pixel.png"), (PNG, "scan")])
def test_formats_not_parsed_get_seeded_prose_fixed_by_bytes_and_seed(data, name):
    text = extract(data, name, seed=1)
    assert text == extract(data, name, seed=1)
    assert text != extract(data, name, seed=2)
    assert text != extract(data + b"\0", name, seed=1)
    assert text.count("\n\n") >= 1 and text.endswith(".")


@pytest.mark.parametrize(("data", "text"), [
    ("plain café".encode(), "plain café"),
    (b"\xef\xbb\xbfwith a BOM", "with a BOM"),
    ("utf-16 文本".encode("utf-16"), "utf-16 文本"),
    ("会议纪要、提取文本".encode("gbk"), "会议纪要、提取文本"),
    ("résumé, café, naïve".encode("cp1252"), "résumé, café, naïve"),
    (b"broken \x81 byte", "broken \ufffd byte"),
])
def test_text_is_decoded_from_the_encoding_it_was_saved_in(data, text):
    assert decode_text(data) == text


@pytest.mark.parametrize(("html", "text"), [
    ("<p>a</p><p>b</p>", "a\n\nb"),
    ("<div>a</div><div>b</div>", "a\nb"),
    ("<ul>\n <li>one</li>\n <li>two</li>\n</ul>", "one\ntwo"),
    ("a<br><br>b", "a\n\nb"),
    ("<b>bold</b> and <i>italic</i>", "bold and italic"),
    ("x &lt;y&gt; &amp; &quot;z&quot;", 'x <y> & "z"'),
    ("<script>alert(1)</script><style>p{}</style>shown", "shown"),
    ("<title>T</title><body>body</body>", "body"),
    ("<p>unclosed <p>paragraphs", "unclosed\n\nparagraphs"),
])
def test_html_gives_the_text_a_reader_sees(html, text):
    assert html_text(html.encode()) == text


def test_the_committed_fixtures_are_what_the_script_makes():
    spec = importlib.util.spec_from_file_location("make_documents",
                                                  FIXTURES / "make_documents.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    assert maker.main(["--check"]) == 0


def test_pypdf_is_imported_only_when_a_pdf_is_read():
    probe = ("import sys, mockshot.resources.files.extraction as e; a = 'pypdf' in sys.modules; "
             "e.extract(b'plain', 'a.txt'); print(a, 'pypdf' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]
