"""The file and batch half of `MemoryStore`: records in dicts, bytes in the blob area.

`MemoryStore` inherits this (it shares the store's one lock, so every operation is atomic
beside the hot path's). Records are frozen values, replaced on every change, so what a
reader holds never changes under it and no copy is needed to hand one out.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from .blobs import Blobs
from .records import (
    CANCELLABLE,
    BatchRecord,
    Cancel,
    FileAdmission,
    FileRecord,
    RecordStore,
    Segment,
    content_key,
    status_at,
)

__all__ = ["FilesInMemory"]


class FilesInMemory(RecordStore):
    """Files and batches per account, in insertion order."""

    _lock: threading.Lock
    blobs: Blobs

    def _init_records(self, blobs: Blobs | None) -> None:
        self.blobs = blobs or Blobs()
        self._forget_records()

    def _forget_records(self) -> None:
        self._files: dict[str, FileRecord] = {}
        self._batches: dict[str, BatchRecord] = {}
        self._batch_count = 0
        self.blobs.clear()

    # -- files -----------------------------------------------------------------------------
    async def add_file(self, record: FileRecord, max_files: int | None = None,
                       max_bytes: int | None = None) -> FileAdmission:
        with self._lock:
            if record.id in self._files:
                return FileAdmission(False, taken=True)
            held = [f for f in self._files.values() if f.account == record.account]
            total = sum(f.bytes for f in held)
            if (max_files is not None and len(held) >= max_files) or \
                    (max_bytes is not None and total + record.bytes > max_bytes):
                return FileAdmission(False, files=len(held), total_bytes=total)
            self._files[record.id] = record
            return FileAdmission(True)

    async def file(self, account: str, file_id: str) -> FileRecord | None:
        with self._lock:
            found = self._files.get(file_id)
            return found if found is not None and found.account == account else None

    async def files(self, account: str) -> list[FileRecord]:
        with self._lock:
            return [f for f in self._files.values() if f.account == account]

    async def delete_file(self, account: str, file_id: str) -> FileRecord | None:
        with self._lock:
            found = self._files.get(file_id)
            if found is None or found.account != account:
                return None
            del self._files[file_id]
        self.blobs.delete(file_id, content_key(file_id))  # unseen once the record is gone
        return found

    # -- batches -----------------------------------------------------------------------------
    async def add_batch(self, batch: BatchRecord) -> bool:
        with self._lock:
            if batch.id in self._batches:
                return False
            self._batch_count += 1
            self._batches[batch.id] = replace(batch, sequence=self._batch_count)
            return True

    async def batch(self, account: str, batch_id: str) -> BatchRecord | None:
        with self._lock:
            found = self._batches.get(batch_id)
            return found if found is not None and found.account == account else None

    async def batches(self, account: str, after: str | None,
                      limit: int) -> tuple[list[BatchRecord], bool]:
        with self._lock:
            newest_first = [b for b in reversed(self._batches.values()) if b.account == account]
        if after is not None:
            ids = [b.id for b in newest_first]
            newest_first = newest_first[ids.index(after) + 1:] if after in ids else []
        return newest_first[:limit], len(newest_first) > limit

    async def cancel_batch(self, account: str, batch_id: str, now: float,
                           cancelled_at: float) -> Cancel | None:
        with self._lock:
            found = self._batches.get(batch_id)
            if found is None or found.account != account:
                return None
            status = status_at(found, now)
            if status not in CANCELLABLE:
                return Cancel(None, refused=status)
            found = self._batches[batch_id] = replace(found, cancelling_at=now,
                                                      cancelled_at=cancelled_at)
            return Cancel(found)

    async def claim_lines(self, batch_id: str, upto: int, most: int) -> tuple[int, int] | None:
        with self._lock:
            found = self._batches[batch_id]
            if found.returned:
                run, *rest = found.returned
                self._batches[batch_id] = replace(found, returned=tuple(rest))
                return run
            if found.claimed >= upto:
                return None
            run = (found.claimed, min(upto, found.claimed + most))
            self._batches[batch_id] = replace(found, claimed=run[1])
            return run

    async def record_lines(self, batch_id: str, segment: Segment, completed: int,
                           failed: int) -> BatchRecord:
        with self._lock:
            found = self._batches[batch_id]
            found = self._batches[batch_id] = replace(
                found, done=found.done + segment.end - segment.start,
                completed=found.completed + completed, failed=found.failed + failed,
                segments=tuple(sorted((*found.segments, segment), key=lambda s: s.start)))
            return found

    async def return_lines(self, batch_id: str, start: int, end: int) -> None:
        with self._lock:
            found = self._batches[batch_id]
            self._batches[batch_id] = replace(found, returned=(*found.returned, (start, end)))

    async def claim_finish(self, batch_id: str) -> bool:
        with self._lock:
            found = self._batches[batch_id]
            if found.finishing or found.finished:
                return False
            self._batches[batch_id] = replace(found, finishing=True)
            return True

    async def return_finish(self, batch_id: str) -> None:
        with self._lock:
            self._batches[batch_id] = replace(self._batches[batch_id], finishing=False)

    async def finish_batch(self, batch_id: str, files: tuple[FileRecord, ...],
                           output_file_id: str | None,
                           error_file_id: str | None) -> BatchRecord:
        with self._lock:
            for record in files:
                self._files[record.id] = record
            found = self._batches[batch_id] = replace(
                self._batches[batch_id], finished=True, finishing=False,
                output_file_id=output_file_id, error_file_id=error_file_id)
            return found
