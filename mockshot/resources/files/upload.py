"""Reading a `POST /v1/files` body: multipart/form-data, streamed to a sink as it arrives.

The file part goes to `sink.write` chunk by chunk and is never held whole, so a 100 MB upload
costs the memory of one network chunk. The bytes are parsed by python-multipart's
`MultipartParser` (the streaming parser Starlette uses): boundaries that straddle chunks,
look-behind and header framing are what a home-made parser gets wrong, and its callbacks
let every limit here be checked on the bytes as they pass.

Every refusal is a 400 `invalid_request_error` in the real envelope. The service's own
texts are used where they are known (the 100 MB and zero-size messages, reference §7.1);
the rest say what was wrong and what to send instead. Limits a client can reach:

- the file: 100 MiB (`100 << 20`, the "100MB" of the real message); a body larger than the
  file limit plus 1 MiB of framing is refused as too large too, whether or not it declared a
  Content-Length (a chunked body is counted as it comes);
- exactly one `file` part, with a filename, and at most one `purpose` field;
- part headers of 64 KiB at most (a huge field name or filename runs into this), 16 parts;
- a filename of at most 255 UTF-8 bytes after it is cut to its base name. Longer names are
  refused, not cut: a cut would silently change the name the client lists and may drop the
  extension the purpose checks read (`.jsonl`, `.pdf`); 255 is what filesystems and
  object-store keys commonly allow, so a client that passes here passes anywhere.

A filename is only ever data: it is cut to its base name (after the last `/` or `\\`, as
Go's `filepath.Base` and browsers do) and stripped of control characters, and the store
keys file bytes by file id, never by name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ...engine.sniff import SNIFF_LEN
from ...errors import invalid_request
from ...http import ClientGone

__all__ = ["FILE_LIMIT", "Limits", "Sink", "Upload", "base_name", "read_upload"]

FILE_LIMIT = 100 * 1024 * 1024
TOO_LARGE = ("File size is too large, max file size is 100MB, "
             "please confirm and re-upload the file")
ZERO_SIZE = "File size is zero, please confirm and re-upload the file"
BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")  # RFC 2046
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
UNLIMITED = 1 << 62  # python-multipart's own limits, left to ours (which give our messages)

Receive = Callable[[], Awaitable[dict]]


class _Quiet:
    """A logger that says nothing: a client's malformed body is not the server's warning."""

    def warning(self, *args: object, **kwargs: object) -> None:
        pass


_QUIET = _Quiet()


class Sink(Protocol):
    """Where the file's bytes go, in order: a temporary file, a hash, a counter."""

    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True, slots=True)
class Limits:
    """What one upload may hold (the defaults are the service's and this module's)."""

    file_bytes: int = FILE_LIMIT
    body_bytes: int = FILE_LIMIT + (1 << 20)
    header_bytes: int = 64 * 1024
    field_bytes: int = 1024
    parts: int = 16
    filename_bytes: int = 255


@dataclass(frozen=True, slots=True)
class Upload:
    """What the body said about its file; the bytes themselves went to the sink."""

    filename: str
    purpose: str | None  # None when the body had no purpose field
    size: int
    head: bytes  # the first 512 bytes: all that content sniffing reads
    sha256: str
    declared_type: str | None  # the part's Content-Type; informative only, sniffing decides


async def read_upload(receive: Receive, content_type: str | None, sink: Sink, *,
                      content_length: str | None = None, limits: Limits = Limits()) -> Upload:
    """Read the request body from ASGI `receive`, writing the `file` part to `sink`.

    Raises an `APIError` (400) for any malformed or over-limit body, `ClientGone` if the
    client hung up. On any raise the sink holds a partial file the caller must discard."""
    boundary = boundary_of(content_type)
    if content_length and content_length.isdigit() and int(content_length) > limits.body_bytes:
        raise invalid_request(TOO_LARGE, prefixed=False)
    form = _Form(sink, limits)
    parser = MultipartParser(boundary, form.callbacks(), max_header_count=UNLIMITED,
                             max_header_size=UNLIMITED)
    parser.logger = _QUIET  # it logs a warning per malformed body; the 400 says it instead
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limits.body_bytes:
            raise invalid_request(TOO_LARGE, prefixed=False)
        form.feed(parser, chunk, boundary)
        if not message.get("more_body", False):
            return form.result()


def boundary_of(content_type: str | None) -> bytes:
    """The boundary a `multipart/form-data` Content-Type declares, or the 400 saying why not."""
    media, params = parse_options_header(content_type or "")
    if media != b"multipart/form-data":
        shown = media.decode("latin-1") or "none"
        raise invalid_request(f"unsupported content type {shown!r}; "
                              "upload the file as multipart/form-data")
    boundary = params.get(b"boundary", b"").decode("latin-1")
    if not boundary:
        raise invalid_request("the multipart/form-data Content-Type has no boundary")
    if not BOUNDARY.fullmatch(boundary):
        raise invalid_request("the multipart boundary must be 1 to 70 letters, digits or "
                              f"'()+_,-./:=? characters, not {boundary[:80]!r}")
    return boundary.encode("latin-1")


def base_name(raw: str) -> str:
    """The name a client sent, cut to its last path component, without control characters:
    `../../etc/passwd` → `passwd`, `C:\\Users\\me\\a.pdf` → `a.pdf`."""
    return CONTROL.sub("", re.split(r"[/\\]", raw)[-1])


@dataclass(slots=True)
class _Part:
    """The part being read: its headers as they arrive, then what it is."""

    headers: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0
    name: bytearray = field(default_factory=bytearray)
    value: bytearray = field(default_factory=bytearray)
    kind: str = "ignored"  # "file", "purpose" or "ignored"


class _Form:
    """python-multipart's callbacks: the limits, checked on every piece, and what is kept."""

    def __init__(self, sink: Sink, limits: Limits) -> None:
        self.sink, self.limits = sink, limits
        self.parts, self.names = 0, []
        self.part = _Part()
        self.filename: str | None = None
        self.declared: str | None = None
        self.purpose: bytearray | None = None
        self.size, self.head, self.digest = 0, bytearray(), hashlib.sha256()
        self.ended = False

    def callbacks(self) -> dict:
        return {"on_part_begin": self.begin, "on_header_field": self.header_name,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_done, "on_part_data": self.data,
                "on_end": self.end}

    def feed(self, parser: MultipartParser, chunk: bytes, boundary: bytes) -> None:
        """One network chunk through the parser, its errors as 400s."""
        try:
            parser.write(chunk)
        except MultipartParseError as exc:
            if not self.parts:
                raise invalid_request("the body does not start with the boundary its "
                                      f"Content-Type declares ({boundary.decode()!r})") from None
            detail = re.sub(r" \(\d+\)$| at \d+$", "", str(exc))
            raise invalid_request(f"malformed multipart body: {detail}") from None

    def begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.parts:
            raise invalid_request(f"the multipart body has more than {self.limits.parts} parts")
        self.part = _Part()

    def _grow(self, amount: int) -> None:
        self.part.header_bytes += amount
        if self.part.header_bytes > self.limits.header_bytes:
            raise invalid_request(
                f"the headers of a multipart part exceed {self.limits.header_bytes} bytes")

    def header_name(self, data: bytes, start: int, end: int) -> None:
        self._grow(end - start)
        self.part.name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._grow(end - start)
        self.part.value += data[start:end]

    def header_end(self) -> None:
        part = self.part
        part.headers[part.name.decode("latin-1").lower()] = part.value.decode("latin-1")
        part.name, part.value = bytearray(), bytearray()

    def headers_done(self) -> None:
        _, params = parse_options_header(self.part.headers.get("content-disposition", ""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if not name:
            raise invalid_request('a multipart part has no name; every part needs '
                                  'Content-Disposition: form-data; name="..."')
        self.names.append(name[:40])
        if name == "file":
            self._open_file(params.get(b"filename"))
        elif name == "purpose":
            if self.purpose is not None:
                raise invalid_request("the body has more than one `purpose` field")
            self.purpose, self.part.kind = bytearray(), "purpose"

    def _open_file(self, raw: bytes | None) -> None:
        if self.filename is not None:
            raise invalid_request("only one file can be uploaded per request, "
                                  "but the body has more than one `file` part")
        self.filename = _checked_name(raw, self.limits)
        self.declared = self.part.headers.get("content-type")
        self.part.kind = "file"

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.part.kind == "file":
            self._file_data(data[start:end])
        elif self.part.kind == "purpose" and self.purpose is not None:
            if len(self.purpose) + end - start > self.limits.field_bytes:
                raise invalid_request(
                    f"the purpose field is longer than {self.limits.field_bytes} bytes")
            self.purpose += data[start:end]

    def _file_data(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limits.file_bytes:
            raise invalid_request(TOO_LARGE, prefixed=False)
        if len(self.head) < SNIFF_LEN:
            self.head += piece[: SNIFF_LEN - len(self.head)]
        self.digest.update(piece)
        self.sink.write(piece)

    def end(self) -> None:
        self.ended = True

    def result(self) -> Upload:
        """The upload, once the closing boundary has been read; else the 400 for what is
        missing."""
        if not self.ended:
            raise invalid_request("the multipart body ended before its closing boundary")
        if self.filename is None:
            found = f" (its parts: {', '.join(self.names)})" if self.names else ""
            raise invalid_request(f"the body has no `file` part{found}; send the file as the "
                                  "multipart field named `file`")
        if self.size == 0:
            raise invalid_request(ZERO_SIZE, prefixed=False)
        purpose = None if self.purpose is None else self.purpose.decode("utf-8", "replace")
        return Upload(self.filename, purpose, self.size, bytes(self.head),
                      self.digest.hexdigest(), self.declared)


def _checked_name(raw: bytes | None, limits: Limits) -> str:
    """The file part's filename as it will be kept, or the 400 for one that cannot be."""
    if raw is None:
        raise invalid_request('the file part has no filename; send it as Content-Disposition: '
                              'form-data; name="file"; filename="..."')
    name = base_name(raw.decode("utf-8", "replace"))
    if name in ("", ".", ".."):
        raise invalid_request(f"the filename {raw.decode('utf-8', 'replace')[:80]!r} names "
                              "no file; send the file's own name")
    size = len(name.encode())
    if size > limits.filename_bytes:
        raise invalid_request(f"the filename is {size} bytes long; at most "
                              f"{limits.filename_bytes} bytes are accepted")
    return name
