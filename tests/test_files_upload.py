"""Reading an upload: the file streams to the sink, and every bad body is a 400 in the envelope."""

from __future__ import annotations

import asyncio
import hashlib
import itertools

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockshot.errors import APIError
from mockshot.http import ClientGone
from mockshot.resources.files.upload import (
    FILE_LIMIT,
    TOO_LARGE,
    ZERO_SIZE,
    Limits,
    base_name,
    read_upload,
)

BOUNDARY = "mockshot-test-7d2f0c"
CT = f"multipart/form-data; boundary={BOUNDARY}"
DEFAULTS = Limits()
SMALL = Limits(file_bytes=1000, body_bytes=2000)


def part(name: str | None, value: bytes, filename: str | None = None,
         content_type: str | None = None) -> bytes:
    disposition = "form-data" + (f'; name="{name}"' if name is not None else "")
    disposition += f'; filename="{filename}"' if filename is not None else ""
    head = f"Content-Disposition: {disposition}\r\n"
    head += f"Content-Type: {content_type}\r\n" if content_type else ""
    return f"--{BOUNDARY}\r\n{head}\r\n".encode() + value + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def form(data: bytes = b"hello", filename: str = "a.txt", purpose: str = "file-extract") -> bytes:
    return body(part("purpose", purpose.encode()), part("file", data, filename, "text/plain"))


def receiver(chunks: list[bytes], *, disconnect: bool = False):
    """A fake ASGI `receive` handing out `chunks` as http.request messages."""
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    else:
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    feed = iter(messages)

    async def receive() -> dict:
        return next(feed)

    return receive


def cut(data: bytes, at: list[int]) -> list[bytes]:
    edges = [0, *sorted({min(a, len(data)) for a in at}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


class Collect:
    """A sink keeping what it is given, to compare."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def upload(raw: bytes, at: list[int] = (), content_type: str | None = CT,
           limits: Limits = DEFAULTS, content_length: str | None = None):
    sink = Collect()
    got = asyncio.run(read_upload(receiver(cut(raw, list(at))), content_type, sink,
                                  content_length=content_length, limits=limits))
    return got, sink


def refusal(raw: bytes, **kwargs) -> str:
    with pytest.raises(APIError) as caught:
        upload(raw, **kwargs)
    assert (caught.value.status, caught.value.type) == (400, "invalid_request_error")
    return caught.value.message


def test_the_body_the_openai_sdk_sends_is_read():
    """httpx (which the openai SDK uploads through) encodes the form exactly like this."""
    request = httpx.Request("POST", "http://mock/v1/files", data={"purpose": "file-extract"},
                            files={"file": ("notes.txt", b"line one\nline two\n")})
    got, sink = upload(request.read(), content_type=request.headers["content-type"])
    assert sink.data == b"line one\nline two\n"
    assert (got.filename, got.purpose, got.size) == ("notes.txt", "file-extract", 18)
    assert got.sha256 == hashlib.sha256(b"line one\nline two\n").hexdigest()
    assert got.declared_type == "text/plain"


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=1, max_size=3000), at=st.lists(st.integers(0, 3400)))
def test_any_bytes_in_any_chunking_reach_the_sink_exactly(data, at):
    raw = form(data)
    if f"\r\n--{BOUNDARY}".encode() in data:  # a client never picks a boundary in its data
        return
    got, sink = upload(raw, at)
    assert sink.data == data
    assert (got.size, got.head, got.purpose) == (len(data), data[:512], "file-extract")


def test_the_file_streams_before_the_body_ends():
    """The sink has the first bytes while later ones are still on the wire."""
    sink = Collect()
    raw = form(b"x" * 5000)
    pieces = cut(raw, list(range(100, len(raw), 100)))
    seen = []

    async def receive() -> dict:
        seen.append(len(sink.data))
        piece = pieces.pop(0)
        return {"type": "http.request", "body": piece, "more_body": bool(pieces)}

    asyncio.run(read_upload(receive, CT, sink))
    assert 0 < seen[len(seen) // 2] < 5000


def mutations() -> st.SearchStrategy[bytes]:
    """A valid body cut short, with bytes changed, inserted or repeated."""
    def mutate(raw: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
        for kind, where, junk in edits:
            at = where % (len(raw) + 1)
            raw = (raw[:at] if kind == 0 else raw[:at] + junk + raw[at + (kind == 1):]
                   if kind < 3 else raw[:at] + raw[at:] * 2)
        return raw
    edit = st.tuples(st.integers(0, 3), st.integers(0, 400),
                     st.sampled_from([b"\r", b"\n", b"-", b"--", b"\r\n", b":", b'"', b"\0",
                                      f"--{BOUNDARY}".encode(), b"\r\n\r\n", b"x"]))
    valid = form(b"some file bytes\r\n-- here")
    return st.builds(mutate, st.just(valid), st.lists(edit, max_size=4))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutations(), at=st.lists(st.integers(0, 500), max_size=6))
def test_a_malformed_body_gets_a_400_or_parses_the_same_in_any_chunking(raw, at):
    def outcome(cuts):
        try:
            got, sink = upload(raw, cuts)
        except APIError as error:
            assert (error.status, error.type) == (400, "invalid_request_error")
            return error.message
        return got, sink.data
    assert outcome(at) == outcome([])


@pytest.mark.parametrize(("raw", "message"), [
    (body(part("purpose", b"batch")),
     "Invalid request: the body has no `file` part (its parts: purpose); "
     "send the file as the multipart field named `file`"),
    (body(part("document", b"x", "a.txt")),
     "Invalid request: the body has no `file` part (its parts: document); "
     "send the file as the multipart field named `file`"),
    (body(part("file", b"a", "a.txt"), part("file", b"b", "b.txt")),
     "Invalid request: only one file can be uploaded per request, "
     "but the body has more than one `file` part"),
    (body(part("purpose", b"batch"), part("purpose", b"image"), part("file", b"x", "a.txt")),
     "Invalid request: the body has more than one `purpose` field"),
    (body(part(None, b"x", "a.txt")),
     'Invalid request: a multipart part has no name; every part needs '
     'Content-Disposition: form-data; name="..."'),
    (body(part("file", b"x")),
     'Invalid request: the file part has no filename; send it as Content-Disposition: '
     'form-data; name="file"; filename="..."'),
    (body(part("file", b"x", "../../")),
     "Invalid request: the filename '../../' names no file; send the file's own name"),
    (body(part("file", b"", "empty.txt")), ZERO_SIZE),
    (form()[:-10], "Invalid request: the multipart body ended before its closing boundary"),
    (b"", "Invalid request: the multipart body ended before its closing boundary"),
    (f"--{BOUNDARY}--\r\n".encode(),
     "Invalid request: the body has no `file` part; send the file as the multipart field "
     "named `file`"),
    (form().replace(BOUNDARY.encode(), b"another-boundary"),
     "Invalid request: the body does not start with the boundary its Content-Type declares "
     f"({BOUNDARY!r})"),
    (b"preamble\r\n" + form(),
     "Invalid request: the body does not start with the boundary its Content-Type declares "
     f"({BOUNDARY!r})"),
    (form().replace(b"Content-Disposition", b"Content Disposition"),
     "Invalid request: malformed multipart body: Found invalid character 32 in header"),
])
def test_each_malformed_body_gets_its_400(raw, message):
    assert refusal(raw) == message


@pytest.mark.parametrize(("content_type", "message"), [
    (None, "Invalid request: unsupported content type 'none'; upload the file as "
           "multipart/form-data"),
    ("application/json", "Invalid request: unsupported content type 'application/json'; "
                         "upload the file as multipart/form-data"),
    ("multipart/form-data", "Invalid request: the multipart/form-data Content-Type has no "
                            "boundary"),
    ("multipart/form-data; boundary=" + "b" * 71,
     "Invalid request: the multipart boundary must be 1 to 70 letters, digits or "
     f"'()+_,-./:=? characters, not {'b' * 71!r}"),
])
def test_a_content_type_without_a_usable_boundary_gets_its_400(content_type, message):
    assert refusal(form(), content_type=content_type) == message


def test_a_quoted_boundary_is_read():
    got, _ = upload(form(), content_type=f'multipart/form-data; boundary="{BOUNDARY}"')
    assert got.filename == "a.txt"


@pytest.mark.parametrize("size", [999, 1000])
def test_a_file_up_to_the_limit_is_accepted(size):
    got, sink = upload(form(b"x" * size), at=[300, 301, 900], limits=SMALL)
    assert got.size == len(sink.data) == size


@pytest.mark.parametrize("at", [[], [1], list(range(0, 1200, 7))])
def test_a_file_over_the_limit_gets_the_real_message_in_any_chunking(at):
    assert refusal(form(b"x" * 1001), at=at, limits=SMALL) == TOO_LARGE


def test_the_real_limit_is_100_mib_and_the_sink_never_gets_more():
    """A chunked body (no Content-Length) of 100 MiB + 1 file bytes, 1 MiB at a time."""
    head = part("purpose", b"file-extract") + f"--{BOUNDARY}\r\n".encode()
    head += b'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    chunks = [head, *[bytes(1 << 20)] * 100, b"\0", b"\r\n" + f"--{BOUNDARY}--\r\n".encode()]
    counted = []

    class Count:
        def write(self, data: bytes) -> None:
            counted.append(len(data))

    with pytest.raises(APIError) as caught:
        asyncio.run(read_upload(receiver(chunks), CT, Count()))
    assert caught.value.message == TOO_LARGE
    assert sum(counted) <= FILE_LIMIT


def test_a_chunked_body_over_the_limit_is_refused_even_outside_the_file():
    """No Content-Length: the bytes are counted as they come, whatever part holds them."""
    raw = body(part("padding", b"p" * 1900), part("file", b"x", "a.txt"))
    assert refusal(raw, at=list(range(0, len(raw), 64)), limits=SMALL) == TOO_LARGE


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    async def receive() -> dict:
        raise AssertionError("the body was read")

    with pytest.raises(APIError) as caught:
        asyncio.run(read_upload(receive, CT, Collect(), content_length=str(FILE_LIMIT << 1)))
    assert caught.value.message == TOO_LARGE


def test_a_client_that_hangs_up_is_gone():
    raw = form(b"x" * 100)
    with pytest.raises(ClientGone):
        asyncio.run(read_upload(receiver([raw[:80]], disconnect=True), CT, Collect()))


def test_a_missing_purpose_is_none_for_the_purpose_check_to_refuse():
    got, _ = upload(body(part("file", b"x", "a.txt")))
    assert got.purpose is None


def test_fields_the_service_does_not_know_are_ignored():
    got, sink = upload(body(part("note", b"n" * 1500), part("file", b"x", "a.txt"),
                            part("purpose", b"batch")))
    assert (got.purpose, sink.data) == ("batch", b"x")


@pytest.mark.parametrize(("sent", "kept"), [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("/abs/path/a.txt", "a.txt"),
    ("C:\\Users\\me\\a.docx", "a.docx"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("dir/sub\\mixed.md", "mixed.md"),
    ("tab\there.txt", "tabhere.txt"),
    ("null\x00byte.txt", "nullbyte.txt"),
    ("我是一个文件.txt", "我是一个文件.txt"),
    ("  spaced name.csv", "  spaced name.csv"),
])
def test_a_filename_keeps_only_its_base_name(sent, kept):
    assert base_name(sent) == kept


def test_a_path_traversal_filename_arrives_as_its_base_name():
    got, _ = upload(body(part("file", b"x", "../../../etc/cron.d/evil")))
    assert got.filename == "evil"


@pytest.mark.parametrize(("name", "size"), [("a" * 10_000, 10_000), ("文" * 86, 258)])
def test_a_filename_over_255_bytes_is_refused_not_cut(name, size):
    assert refusal(body(part("file", b"x", name))) == (
        f"Invalid request: the filename is {size} bytes long; at most 255 bytes are accepted")


def test_a_filename_of_255_bytes_is_kept_whole():
    name = "n" * 251 + ".txt"
    assert upload(body(part("file", b"x", name)))[0].filename == name


@pytest.mark.parametrize("raw", [
    body(part("f" * 70_000, b"x"), part("file", b"x", "a.txt")),
    body(part("file", b"x", "a" * 70_000)),
    form().replace(b"Content-Type: text/plain", b"X-Pad: " + b"p" * 70_000),
])
def test_headers_over_64_kib_are_refused(raw):
    assert refusal(raw, at=list(range(0, len(raw), 4096))) == (
        "Invalid request: the headers of a multipart part exceed 65536 bytes")


def test_more_than_16_parts_are_refused():
    raw = body(*[part(f"f{i}", b"x") for i in range(17)])
    assert refusal(raw) == "Invalid request: the multipart body has more than 16 parts"


def test_a_purpose_longer_than_1_kib_is_refused():
    assert refusal(form(purpose="p" * 1025)) == (
        "Invalid request: the purpose field is longer than 1024 bytes")


@settings(max_examples=200)
@given(raw=st.binary(max_size=600), at=st.lists(st.integers(0, 600), max_size=4))
def test_random_bytes_get_a_400_never_another_exception(raw, at):
    with pytest.raises(APIError) as caught:
        upload(raw, at)
    assert caught.value.status == 400
