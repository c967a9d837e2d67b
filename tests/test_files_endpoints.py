"""The files endpoints through the openai SDK: upload, list, retrieve, content, delete; the
extracted text used in a chat; `ms://` references; accounts apart; every bad upload a 400
(or the real 500 for a corrupt PDF) that leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import openai
import pytest

from mockshot import http_client
from mockshot.resources.files.extraction import extract
from mockshot.state.records import FileRecord

from . import spec_check
from .conftest import KEY

DOCUMENTS = Path(__file__).resolve().parent.parent / "fixtures" / "documents"
PNG = (Path(__file__).resolve().parent.parent / "fixtures" / "images" / "pixel.png").read_bytes()
BOUNDARY = "mockshot-endpoint-test"


def other_client(app, key: str = "sk-someone-else") -> openai.OpenAI:
    inner = http_client(app, event_hooks={"response": [spec_check.hook]})
    return openai.OpenAI(api_key=key, base_url="http://mockshot.local/v1", http_client=inner,
                         max_retries=0)


def nothing_kept(mock) -> bool:
    """No file record for the test key, and no bytes in the blob area, not even temporary."""
    blobs = mock.store.blobs
    return (mock.store.sync(mock.store.files(KEY)) == [] and
            [p.name for p in blobs.root.iterdir() if p.is_file()] == [] and
            list((blobs.root / "tmp").iterdir()) == [])


def multipart(*parts: tuple[str, bytes, str | None]) -> bytes:
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"'
                                                     if filename is not None else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += value + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def post_raw(http, auth, body, content_type=f"multipart/form-data; boundary={BOUNDARY}"):
    return http.post("http://mockshot.local/v1/files", content=body,
                     headers={**auth, "Content-Type": content_type})


# --- the endpoints ---------------------------------------------------------------------------


def test_an_upload_is_listed_retrieved_read_and_deleted(client):
    kept = client.files.create(file=("notes.txt", b"a & b <c>\n"), purpose="file-extract")
    assert (kept.object, kept.status, kept.status_details, kept.file_type) == (
        "file", "ready", "", "text/plain")
    assert (kept.bytes, kept.filename, kept.purpose) == (10, "notes.txt", "file-extract")
    assert len(kept.id) == 20 and client.files.retrieve(kept.id) == kept
    assert [f.id for f in client.files.list()] == [kept.id]
    assert client.files.content(kept.id).content == (
        b'{"content":"a \\u0026 b \\u003cc\\u003e\\n","file_type":"text/plain",'
        b'"filename":"notes.txt","title":"","type":"file"}')
    deleted = client.files.delete(kept.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (kept.id, True, "file")
    with pytest.raises(openai.NotFoundError) as gone:
        client.files.retrieve(kept.id)
    assert gone.value.body == {"message": f"Not found the file {kept.id} or Permission denied",
                               "type": "resource_not_found_error"}
    assert client.files.list().data == []


@pytest.mark.parametrize("name", ["report.pdf", "proposal.docx", "pricing.csv",
                                  "article.html", "notes-gbk.txt"])
def test_the_content_is_the_text_really_extracted_at_upload(client, name):
    data = (DOCUMENTS / name).read_bytes()
    kept = client.files.create(file=(name, data), purpose="file-extract")
    body = json.loads(client.files.content(kept.id).text)
    assert body["content"] == extract(data, name) and body["filename"] == name
    assert body["file_type"] == kept.file_type and body["type"] == "file"


def test_the_extracted_text_carries_into_a_chat(client, mock):
    mock.on(contains="Uploads grew 42%").reply("The report says uploads grew 42%.")
    kept = client.files.create(file=("report.pdf", (DOCUMENTS / "report.pdf").read_bytes()),
                               purpose="file-extract")
    text = json.loads(client.files.content(kept.id).text)["content"]
    reply = client.chat.completions.create(model="kimi-k2.6", messages=[
        {"role": "system", "content": "Answer from the document."},
        {"role": "user", "content": f"{text}\n\nWhat grew?"}])
    assert reply.choices[0].message.content == "The report says uploads grew 42%."


def test_files_list_newest_first_and_pages_like_the_sdk_expects(client):
    ids = [client.files.create(file=(f"f{i}.txt", b"x"), purpose="file-extract").id
           for i in range(5)]
    page = client.files.list(limit=2)
    assert [f.id for f in page.data] == ids[::-1][:2] and page.has_more
    assert [f.id for f in client.files.list(limit=2)] == ids[::-1]  # the SDK follows pages
    assert [f.id for f in client.files.list(order="asc")] == ids


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "order=sideways"])
def test_a_bad_list_query_is_a_400(http, auth, query):
    answer = http.get(f"http://mockshot.local/v1/files?{query}", headers=auth)
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_request_error"


def test_images_and_videos_have_no_content_to_give(client):
    kept = client.files.create(file=("pixel.png", PNG), purpose="image")
    assert kept.file_type == "image/png"
    with pytest.raises(openai.BadRequestError, match="no content to retrieve"):
        client.files.content(kept.id)


def test_the_journal_keeps_a_short_description_of_an_upload_never_the_file(client, mock):
    data = b"secret " * 50_000
    client.files.create(file=("big.txt", data), purpose="file-extract")
    (entry,) = mock.journal()
    assert entry.body["bytes"] == len(data) and entry.body["filename"] == "big.txt"
    assert b"secret" not in entry.request and entry.request_bytes < 300


def test_async_and_served_clients_upload_and_read(async_client, served_client):
    async def upload() -> bytes:
        kept = await async_client.files.create(file=("a.md", b"# Title\n"),
                                               purpose="file-extract")
        return (await async_client.files.content(kept.id)).content

    assert json.loads(asyncio.run(upload()))["content"] == "# Title\n"
    kept = served_client.files.create(file=("b.md", b"# Served\n"), purpose="file-extract")
    assert json.loads(served_client.files.content(kept.id).text)["content"] == "# Served\n"
    served_client.files.delete(kept.id)


# --- accounts apart ------------------------------------------------------------------------


def test_another_account_never_sees_uses_or_deletes_a_file(client, app):
    kept = client.files.create(file=("pixel.png", PNG), purpose="image")
    other = other_client(app)
    assert other.files.list().data == []
    for attempt in (other.files.retrieve, other.files.delete, other.files.content):
        with pytest.raises(openai.NotFoundError, match="Not found the file"):
            attempt(kept.id)
    with pytest.raises(openai.NotFoundError, match=kept.id):
        other.chat.completions.create(model="kimi-k2.6", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": f"ms://{kept.id}"}}]}])
    assert client.files.retrieve(kept.id).id == kept.id


# --- ms:// in chat ---------------------------------------------------------------------------


def ask_about(file_id: str, kind: str = "image") -> list[dict]:
    return [{"role": "user", "content": [
        {"type": f"{kind}_url", f"{kind}_url": {"url": f"ms://{file_id}"}},
        {"type": "text", "text": "What is this?"}]}]


def test_an_uploaded_image_is_referenced_from_chat(client, mock):
    kept = client.files.create(file=("pixel.png", PNG), purpose="image")
    with_image = client.chat.completions.create(model="kimi-k2.6", messages=ask_about(kept.id))
    without = client.chat.completions.create(model="kimi-k2.6", messages=[
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}]}])
    assert with_image.usage.prompt_tokens - without.usage.prompt_tokens == \
        mock.catalog.get("kimi-k2.6").image_tokens


def test_a_reference_to_a_file_of_another_purpose_is_a_400(client):
    kept = client.files.create(file=("notes.txt", b"hello"), purpose="file-extract")
    with pytest.raises(openai.BadRequestError, match="purpose file-extract"):
        client.chat.completions.create(model="kimi-k2.6", messages=ask_about(kept.id))
    with pytest.raises(openai.BadRequestError, match="purpose file-extract"):
        client.chat.completions.create(model="kimi-k2.6", messages=ask_about(kept.id, "video"))


def test_a_deleted_file_is_no_longer_referenced(client):
    kept = client.files.create(file=("pixel.png", PNG), purpose="image")
    client.files.delete(kept.id)
    with pytest.raises(openai.NotFoundError, match=kept.id):
        client.chat.completions.create(model="kimi-k2.6", messages=ask_about(kept.id))


def test_token_estimation_resolves_references_too(http, auth, client):
    kept = client.files.create(file=("pixel.png", PNG), purpose="image")
    body = {"model": "kimi-k2.6", "messages": ask_about(kept.id)}
    assert http.post("http://mockshot.local/v1/tokenizers/estimate-token-count", json=body,
                     headers=auth).status_code == 200
    body["messages"] = ask_about("cu8missing0000000000")
    assert http.post("http://mockshot.local/v1/tokenizers/estimate-token-count", json=body,
                     headers=auth).status_code == 404


# --- bad uploads: the real error, and nothing kept ---------------------------------------------


BAD_UPLOADS = {
    "no file part": (multipart(("purpose", b"file-extract", None)), "no `file` part"),
    "two file parts": (multipart(("purpose", b"batch", None), ("file", b"{}", "a.jsonl"),
                                 ("file", b"{}", "b.jsonl")), "more than one `file` part"),
    "a filename of 10,000 characters": (
        multipart(("purpose", b"file-extract", None), ("file", b"x", "a" * 10_000 + ".txt")),
        "the filename is 10004 bytes long; at most 255 bytes"),
    "a filename of 100,000 characters": (
        multipart(("purpose", b"file-extract", None), ("file", b"x", "a" * 100_000 + ".txt")),
        "headers of a multipart part exceed"),
    "an empty file": (multipart(("purpose", b"file-extract", None), ("file", b"", "a.txt")),
                      "File size is zero"),
    "an unknown purpose": (multipart(("purpose", b"vision", None), ("file", b"x", "a.txt")),
                           "Invalid purpose: vision, only `file-extract`"),
    "no purpose": (multipart(("file", b"x", "a.txt")), "Invalid purpose: , only"),
    "a batch file that is not .jsonl": (
        multipart(("purpose", b"batch", None), ("file", b"{}", "a.json")), "must be a .jsonl"),
    "an image that is not one": (
        multipart(("purpose", b"image", None), ("file", b"hello", "a.png")),
        "unsupported image format: text/plain"),
    "a video that is not one": (
        multipart(("purpose", b"video", None), ("file", PNG, "a.mp4")),
        "unsupported video format: image/png"),
    "random bytes to extract": (
        multipart(("purpose", b"file-extract", None), ("file", bytes(range(256)), "a.bin")),
        "不支持的文件类型"),
    "a body cut before its end": (multipart(("purpose", b"batch", None),
                                            ("file", b"{}", "a.jsonl"))[:-20],
                                  "ended before its closing boundary"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_a_bad_upload_is_a_400_that_keeps_nothing(http, auth, mock, case):
    body, message = BAD_UPLOADS[case]
    answer = post_raw(http, auth, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert message in answer.json()["error"]["message"]
    assert nothing_kept(mock)


def test_a_wrong_boundary_is_a_400_that_keeps_nothing(http, auth, mock):
    body = multipart(("purpose", b"file-extract", None), ("file", b"x", "a.txt"))
    answer = post_raw(http, auth, body, "multipart/form-data; boundary=not-the-one")
    assert answer.status_code == 400 and "does not start with the boundary" in answer.text
    assert post_raw(http, auth, body, "application/json").status_code == 400
    assert nothing_kept(mock)


def test_a_corrupt_pdf_is_the_real_500_and_keeps_nothing(http, auth, mock):
    data = (DOCUMENTS / "corrupt.pdf").read_bytes()
    answer = post_raw(http, auth, multipart(("purpose", b"file-extract", None),
                                            ("file", data, "corrupt.pdf")))
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "server_error"
    assert answer.json()["error"]["message"].startswith("Failed to extract file: ")
    assert nothing_kept(mock)


def test_a_path_in_the_filename_is_cut_to_its_base_name(client, mock):
    kept = client.files.create(file=("../../etc/passwd.txt", b"x"), purpose="file-extract")
    assert kept.filename == "passwd.txt"
    assert sorted(p.name for p in mock.store.blobs.root.iterdir() if p.is_file()) == sorted(
        [kept.id, f"{kept.id}.content"])


def test_a_body_over_the_limit_without_a_length_is_refused_and_keeps_nothing(http, auth, mock):
    def body():
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'\
              f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"' \
              "\r\n\r\n".encode()
        chunk = b"{}\n" * 21846  # 64 KiB
        for _ in range(101 * 16 + 1):
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    answer = post_raw(http, auth, body())
    assert answer.status_code == 400 and "File size is too large" in answer.text
    assert nothing_kept(mock)


def hold(mock, count: int, size: int = 1) -> None:
    """Records as if `count` files of `size` bytes were uploaded (no bytes needed)."""
    for i in range(count):
        mock.store.sync(mock.store.add_file(FileRecord(
            f"held{i:016d}", KEY, size, 0, "held.txt", "file-extract", "text/plain")))


def test_the_thousandth_file_is_the_last_and_a_refusal_keeps_nothing(client, mock):
    hold(mock, 999)
    client.files.create(file=("a.txt", b"x"), purpose="file-extract")
    with pytest.raises(openai.BadRequestError) as refused:
        client.files.create(file=("b.txt", b"x"), purpose="file-extract")
    assert refused.value.body["message"] == (
        "The number of files you have uploaded exceeded the max file count 1000, "
        "please delete previous uploaded files")
    assert len(mock.store.sync(mock.store.files(KEY))) == 1000
    assert len([p for p in mock.store.blobs.root.iterdir() if p.is_file()]) == 2


def test_an_upload_that_would_pass_10_gb_is_refused(client, mock):
    hold(mock, 1, 10 * 1024**3 - 5)
    with pytest.raises(openai.BadRequestError, match="max total size 10GB"):
        client.files.create(file=("b.txt", b"x" * 6), purpose="file-extract")
    assert client.files.create(file=("c.txt", b"x" * 5), purpose="file-extract").bytes == 5


def test_a_client_that_hangs_up_mid_upload_leaves_nothing(app, mock):
    """The ASGI app itself, its client gone after half the body: journaled 499, kept nothing."""
    body = multipart(("purpose", b"batch", None), ("file", b"{}\n" * 1000, "a.jsonl"))
    messages = iter([{"type": "http.request", "body": body[:1500], "more_body": True},
                     {"type": "http.disconnect"}])
    scope = {"type": "http", "method": "POST", "path": "/v1/files", "query_string": b"",
             "headers": [(b"authorization", f"Bearer {KEY}".encode()),
                         (b"content-type",
                          f"multipart/form-data; boundary={BOUNDARY}".encode())]}
    sent: list[dict] = []

    async def receive() -> dict:
        return next(messages)

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent == [] and [e.status for e in mock.journal()] == [499]
    assert nothing_kept(mock)


def test_a_compressed_upload_is_a_415_that_keeps_nothing(http, auth, mock):
    body = multipart(("purpose", b"batch", None), ("file", b"{}\n", "a.jsonl"))
    answer = http.post("http://mockshot.local/v1/files", content=body, headers={
        **auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Encoding": "gzip"})
    assert answer.status_code == 415 and "Content-Encoding 'gzip'" in answer.text
    assert nothing_kept(mock)
