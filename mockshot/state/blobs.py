"""The blob area: the bytes of files, kept on disk by key, never in the store's records.

A file's bytes arrive as a stream (an upload, a batch writing its results), so they go to
a `BlobSink`: a temporary file in `tmp/` that becomes visible under its key only on
`commit` (an atomic rename; with `durable`, the data and the directory are fsynced first),
and is removed by `abort` or by leaving the sink's `with` block without committing. So a
refused or interrupted upload leaves nothing, and no reader ever sees half a file.

Keys are ids the mock made (file ids, with a suffix for a file's second blob such as its
extracted content), never a client's filename: a key outside `[A-Za-z0-9._-]` or one
starting with a dot is a bug, refused with ValueError.

Without a directory the area is a temporary directory of its own, removed when the
`Blobs` is closed or collected; fsyncing it would buy nothing (it cannot outlive the
process), so it is not durable. A state directory (`--state-dir`, later) only changes the
directory — its `files/` — and makes the area durable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .failures import StoreError

__all__ = ["BlobSink", "Blobs"]

KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
CHUNK = 64 * 1024


class Blobs:
    """Bytes by key in one directory: write through a sink, then read, stream or delete."""

    def __init__(self, directory: str | os.PathLike | None = None,
                 durable: bool | None = None) -> None:
        self._owned: tempfile.TemporaryDirectory | None = None
        if directory is None:
            self._owned = tempfile.TemporaryDirectory(prefix="mockshot-files-")
            directory = self._owned.name
        self.root = Path(directory)
        self.durable = self._owned is None if durable is None else durable
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        if not KEY.fullmatch(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key

    def sink(self) -> BlobSink:
        """A new temporary file to write a blob into."""
        with refused_disk():
            handle, name = tempfile.mkstemp(dir=self._tmp, suffix=".part")
        return BlobSink(self, os.fdopen(handle, "wb"), Path(name))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def open(self, key: str) -> BinaryIO:
        """The blob for reading; FileNotFoundError if there is none. An open blob stays
        readable to its end even if it is deleted meanwhile."""
        return self.path(key).open("rb")

    def read(self, key: str) -> bytes:
        """A whole blob, for the small ones (an extracted text, a batch's chunk of lines)."""
        return self.path(key).read_bytes()

    def read_range(self, key: str, start: int, end: int) -> bytes:
        with self.open(key) as blob:
            blob.seek(start)
            return blob.read(end - start)

    def chunks(self, key: str, size: int = CHUNK) -> Iterator[bytes]:
        """The blob in pieces of at most `size` bytes (opened now, read as consumed)."""
        return read_chunks(self.open(key), size)

    def reader(self, key: str, size: int = CHUNK) -> tuple[int, Iterator[bytes]]:
        """The blob's length and its pieces, both from one open file (a delete after this
        call changes neither)."""
        blob = self.open(key)
        return os.fstat(blob.fileno()).st_size, read_chunks(blob, size)

    def delete(self, *keys: str) -> None:
        """Remove blobs; a key with no blob is ignored."""
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    def link(self, source: str, key: str) -> None:
        """`key` names the same bytes as `source` from now on (a hard link where the
        filesystem has them, else a copy), so deleting `source` leaves `key` whole."""
        target = self.path(key)
        try:
            os.link(self.path(source), target)
        except FileExistsError:
            raise
        except OSError:  # no hard links here (some mounts): copy instead
            with self.sink() as sink:
                for piece in self.chunks(source):
                    sink.write(piece)
                sink.commit(key)

    def clear(self) -> None:
        """Forget every blob (a reset of the records they belong to)."""
        for entry in self.root.iterdir():
            if entry.is_file():
                entry.unlink(missing_ok=True)
        for entry in self._tmp.iterdir():
            entry.unlink(missing_ok=True)

    def close(self) -> None:
        if self._owned is not None:
            self._owned.cleanup()


REFUSALS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO, errno.EFBIG,
            errno.ENOENT)


@contextlib.contextmanager
def refused_disk() -> Iterator[None]:
    """A disk that refuses a write (full, read-only, gone) is a StoreError: a clean 500."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in REFUSALS:
            raise
        raise StoreError(f"file bytes cannot be written: {exc.strerror}") from None


def read_chunks(blob: BinaryIO, size: int) -> Iterator[bytes]:
    with blob:
        while piece := blob.read(size):
            yield piece


class BlobSink:
    """One blob being written: invisible until `commit`, gone after `abort`."""

    def __init__(self, blobs: Blobs, file: BinaryIO, temporary: Path) -> None:
        self._blobs, self._file, self._temporary = blobs, file, temporary
        self.size = 0
        self.done = False

    def write(self, data: bytes, /) -> None:
        with refused_disk():
            self._file.write(data)
        self.size += len(data)

    def read_back(self) -> bytes:
        """What was written so far, whole (for extraction, which needs the document)."""
        self._file.flush()
        return self._temporary.read_bytes()

    def commit(self, key: str) -> None:
        """Make the bytes visible as `key`, atomically. A key is never replaced: if it is
        taken, FileExistsError, and the sink stays open to be committed as another."""
        target = self._blobs.path(key)
        with refused_disk():
            self._file.flush()
            if self._blobs.durable:
                os.fsync(self._file.fileno())
        try:
            os.link(self._temporary, target)  # create-if-absent, in one step
        except FileExistsError:
            raise
        except OSError:  # no hard links on this filesystem: check, then rename
            if target.exists():
                raise FileExistsError(target) from None
            os.replace(self._temporary, target)
        self._file.close()
        self._temporary.unlink(missing_ok=True)
        if self._blobs.durable:
            _fsync_directory(target.parent)
        self.done = True

    def abort(self) -> None:
        if not self.done:
            with contextlib.suppress(OSError):  # closing flushes, which a full disk refuses
                self._file.close()
            self._temporary.unlink(missing_ok=True)
            self.done = True

    def __enter__(self) -> BlobSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()


def _fsync_directory(directory: Path) -> None:
    """The rename itself survives a crash only once its directory is synced (POSIX)."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
