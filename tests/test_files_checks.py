"""What POST /v1/files takes, per purpose, with the service's texts; and the file_type it names."""

from __future__ import annotations

import pytest

from mockshot.errors import APIError
from mockshot.resources.files.checks import check_purpose, check_quota, check_upload
from mockshot.resources.files.formats import format_of
from mockshot.resources.files.upload import Upload

PNG = b"\x89PNG\r\n\x1a\n" + bytes(20)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(8)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04\x14\x00\x06\x00"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8)
RANDOM = bytes(range(256))
TEXT = "第一行\nsecond line\n".encode()
ACCEPTED = ("only `file-extract`, `batch`, `batch_output`, `lambda`, `image` and `video` "
            "accepted")


def upload(filename: str, head: bytes, purpose: str | None = "file-extract") -> Upload:
    return Upload(filename, purpose, len(head), head, "0" * 64, None)


def refusal(item: Upload) -> tuple[int, str, str]:
    with pytest.raises(APIError) as caught:
        check_upload(item)
    return caught.value.status, caught.value.type, caught.value.message


@pytest.mark.parametrize(("purpose", "message"), [
    ("vision", f"Invalid purpose: vision, {ACCEPTED}"),  # the Files log's capture
    ("File-Extract", f"Invalid purpose: File-Extract, {ACCEPTED}"),
    (None, f"Invalid purpose: , {ACCEPTED}"),
])
def test_an_unknown_purpose_gets_the_real_message(purpose, message):
    assert refusal(upload("a.txt", TEXT, purpose)) == (400, "invalid_request_error", message)


@pytest.mark.parametrize("purpose", ["file-extract", "batch", "batch_output", "lambda", "image",
                                     "video"])
def test_each_listed_purpose_is_accepted(purpose):
    assert check_purpose(purpose) == purpose


@pytest.mark.parametrize(("filename", "head", "file_type"), [
    ("results.jsonl", RANDOM, "application/octet-stream"),
    ("anything.bin", PNG, "image/png"),
])
@pytest.mark.parametrize("purpose", ["batch_output", "lambda"])
def test_batch_output_and_lambda_files_are_kept_as_they_are(purpose, filename, head, file_type):
    assert check_upload(upload(filename, head, purpose)) == file_type


@pytest.mark.parametrize("filename", ["requests.jsonl", "REQUESTS.JSONL", "a.b.jsonl"])
def test_a_batch_file_named_jsonl_is_accepted(filename):
    assert check_upload(upload(filename, b'{"custom_id":"1"}\n', "batch")) == "text/plain"


@pytest.mark.parametrize("filename", ["requests.json", "jsonl", "requests.jsonl.txt"])
def test_a_batch_file_not_named_jsonl_is_refused(filename):
    assert refusal(upload(filename, b"{}\n", "batch"))[2] == (
        f"Invalid request: a file with purpose batch must be a .jsonl file, not {filename!r}")


@pytest.mark.parametrize(("purpose", "head", "message"), [
    ("image", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
     "Invalid request: unsupported image format: text/plain; charset=utf-8"),
    ("image", MP4, "Invalid request: unsupported image format: video/mp4"),
    ("image", PDF, "Invalid request: unsupported image format: application/pdf"),
    ("video", PNG, "Invalid request: unsupported video format: image/png"),
    ("video", b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
     "Invalid request: unsupported video format: application/octet-stream"),
])
def test_image_and_video_files_are_judged_by_their_bytes(purpose, head, message):
    """The declared name says png; the sniffed bytes decide, with chat's own message."""
    assert refusal(upload("real.png", head, purpose))[2] == message


@pytest.mark.parametrize(("purpose", "head", "file_type"), [
    ("image", PNG, "image/png"),
    ("image", b"\xff\xd8\xff\xe0", "image/jpeg"),
    ("video", MP4, "video/mp4"),
    ("video", b"\x1a\x45\xdf\xa3\x01", "video/webm"),
])
def test_images_and_videos_get_their_sniffed_file_type(purpose, head, file_type):
    assert check_upload(upload("whatever.dat", head, purpose)) == file_type


@pytest.mark.parametrize(("filename", "head", "file_type"), [
    ("notes.txt", TEXT, "text/plain"),
    ("我是一个文件.txt", TEXT, "text/plain"),
    ("guide.md", b"# Title\n", "text/plain"),
    ("data.JSON", b'{"a": 1}', "text/plain"),
    ("page.html", b"<!DOCTYPE html><html>", "text/html"),
    ("feed.html", b"<?xml version='1.0'?>", "text/xml"),
    ("main.go", b"package main\n", "text/plain"),
    ("paper.pdf", PDF, "application/pdf"),
    ("deck.pptx", ZIP, "application/zip"),
    ("report.docx", ZIP, "application/zip"),
    ("old.doc", OLE, "application/octet-stream"),
    ("photo.jpg", b"\xff\xd8\xff\xe0", "image/jpeg"),
    ("logo.svg", b"<svg/>", "text/plain"),
    ("upload", PDF, "application/pdf"),  # a public capture: a PDF named `upload`
    ("README", b"plain words", "text/plain"),
])
def test_file_extract_takes_the_listed_formats(filename, head, file_type):
    assert check_upload(upload(filename, head)) == file_type


@pytest.mark.parametrize(("filename", "head"), [
    ("random.bin", RANDOM),  # the Files log's case: random bytes
    ("random", RANDOM),
    ("random.txt", RANDOM),  # text by name only
    ("fake.pdf", TEXT),
    ("fake.docx", PDF),
    ("archive.zip", ZIP),
    ("song.mp3", b"ID3\x03\x00"),
    ("script.rs", b"fn main() {}"),  # not on the list
    ("photo.png", b"\xff\xd8\xff\xe0"),  # a JPEG named .png
])
def test_file_extract_refuses_what_the_service_does_not_take(filename, head):
    assert refusal(upload(filename, head)) == (400, "invalid_request_error", "不支持的文件类型")


@pytest.mark.parametrize(("filename", "media", "reader"), [
    ("a.pdf", "application/pdf", "pdf"), ("a.docx", "application/zip", "docx"),
    ("a.xlsx", "application/zip", "xlsx"), ("a.pptx", "application/zip", "pptx"),
    ("a.html", "text/html", "html"), ("a.csv", "text/plain", "text"),
    ("a.epub", "application/zip", "seeded"), ("a.ppt", "application/octet-stream", "seeded"),
    ("upload", "text/html", "html"), ("scan", "image/png", "seeded"),
])
def test_each_format_has_its_reader(filename, media, reader):
    assert format_of(filename, media).reader == reader


def test_the_1001st_file_gets_the_real_message():
    check_quota(999, 0, 1)
    with pytest.raises(APIError) as caught:
        check_quota(1000, 0, 1)
    assert caught.value.message == (
        "The number of files you have uploaded exceeded the max file count 1000, please delete "
        "previous uploaded files")


def test_more_than_10_gib_in_all_is_refused():
    check_quota(1, 10 * 1024**3 - 5, 5)
    with pytest.raises(APIError) as caught:
        check_quota(1, 10 * 1024**3 - 5, 6)
    assert (caught.value.status, caught.value.type) == (400, "invalid_request_error")
