"""The file and batch half of `SQLiteStore`: records as JSON rows, bytes in `DIR/files/`.

Each operation is one transaction, so the quotas `add_file` checks, the status a cancel
checks and the runs `claim_lines` hands out hold across worker processes. The rules are
those of `memory_files.py`, on rows. At start-up, blobs no record names (a server killed
between writing a file's bytes and recording them) are swept away, and claims of lines
and of finishing are handed out afresh: whoever held them died with the process.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any, TypeVar

from .blobs import Blobs
from .records import (
    CANCELLABLE,
    BatchRecord,
    Cancel,
    FileAdmission,
    FileRecord,
    RecordStore,
    Schedule,
    Segment,
    content_key,
    status_at,
)

__all__ = ["FilesInSQLite"]

T = TypeVar("T")
Db = sqlite3.Connection

TABLES = """
CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, account TEXT NOT NULL,
    bytes INTEGER NOT NULL, record TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_account ON files (account, seq);
CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, account TEXT NOT NULL,
    record TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS batches_by_account ON batches (account, seq);
"""


def _file(text: str) -> FileRecord:
    return FileRecord(**json.loads(text))


def _batch(text: str, seq: int) -> BatchRecord:
    data = json.loads(text)
    data["schedule"] = Schedule(**data["schedule"])
    data["segments"] = tuple(Segment(**s) for s in data["segments"])
    data["returned"] = tuple(tuple(run) for run in data["returned"])
    data["offsets"], data["errors"] = tuple(data["offsets"]), tuple(data["errors"])
    return BatchRecord(**{**data, "sequence": seq})


class FilesInSQLite(RecordStore):
    _db: Db
    blobs: Blobs
    _run: Callable[..., Any]

    def _init_records(self, blobs: Blobs, recover: bool) -> None:
        self.blobs = blobs
        self._db.executescript(TABLES)
        if recover:
            self._recover()

    def _recover(self) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for text, seq in self._db.execute("SELECT record, seq FROM batches").fetchall():
                batch = _batch(text, seq)
                if batch.finishing or batch.returned or batch.claimed > batch.done:
                    self._put_batch(self._db, replace(batch, finishing=False, returned=(),
                                                      claimed=self._answered(batch)))
        self._sweep()

    @staticmethod
    def _answered(batch: BatchRecord) -> int:
        """The lines below which every line was recorded: claims past it start again."""
        upto = 0
        for segment in batch.segments:
            if segment.start != upto:
                break
            upto = segment.end
        return upto

    def _sweep(self) -> None:
        kept = {row[0] for row in self._db.execute("SELECT id FROM files")}
        kept |= {content_key(i) for i in kept}
        batches = [_batch(t, s) for t, s in self._db.execute("SELECT record, seq FROM batches")]
        for batch in batches:
            kept.add(batch.input_key)
            kept |= {f"{batch.id}.{s.start}.{kind}" for s in batch.segments
                     for kind in ("out", "err")}
        for entry in self.blobs.root.iterdir():
            if entry.is_file() and entry.name not in kept:
                entry.unlink(missing_ok=True)
        for partial in (self.blobs.root / "tmp").iterdir():  # uploads cut off by the kill
            partial.unlink(missing_ok=True)

    def _forget_records(self, db: Db) -> None:
        db.execute("DELETE FROM files")
        db.execute("DELETE FROM batches")
        self.blobs.clear()

    @staticmethod
    def _put_batch(db: Db, batch: BatchRecord) -> BatchRecord:
        data = {k: v for k, v in asdict(batch).items() if k != "sequence"}
        db.execute("UPDATE batches SET record = ? WHERE id = ?", (json.dumps(data), batch.id))
        return batch

    @staticmethod
    def _get_batch(db: Db, batch_id: str) -> BatchRecord | None:
        found = db.execute("SELECT record, seq FROM batches WHERE id = ?",
                           (batch_id,)).fetchone()
        return _batch(*found) if found else None

    def _change(self, batch_id: str, change: Callable[[BatchRecord], T]) -> Any:
        """Run `change` on the batch in one transaction (it returns what to answer)."""
        def step(db: Db) -> T:
            return change(self._get_batch(db, batch_id), db)

        return self._run(step)

    # -- files -----------------------------------------------------------------------------
    async def add_file(self, record: FileRecord, max_files: int | None = None,
                       max_bytes: int | None = None) -> FileAdmission:
        def write(db: Db) -> FileAdmission:
            if db.execute("SELECT 1 FROM files WHERE id = ?", (record.id,)).fetchone():
                return FileAdmission(False, taken=True)
            held, total = db.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM files "
                                     "WHERE account = ?", (record.account,)).fetchone()
            if (max_files is not None and held >= max_files) or \
                    (max_bytes is not None and total + record.bytes > max_bytes):
                return FileAdmission(False, files=held, total_bytes=total)
            self._insert_file(db, record)
            return FileAdmission(True)

        return await self._run(write)

    @staticmethod
    def _insert_file(db: Db, record: FileRecord) -> None:
        seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM files").fetchone()[0]
        db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?)", (
            record.id, record.account, record.bytes, json.dumps(asdict(record)), seq))

    async def file(self, account: str, file_id: str) -> FileRecord | None:
        def read(db: Db) -> FileRecord | None:
            found = db.execute("SELECT record FROM files WHERE id = ? AND account = ?",
                               (file_id, account)).fetchone()
            return _file(found[0]) if found else None

        return await self._run(read)

    async def files(self, account: str) -> list[FileRecord]:
        def read(db: Db) -> list[FileRecord]:
            return [_file(row[0]) for row in db.execute(
                "SELECT record FROM files WHERE account = ? ORDER BY seq", (account,))]

        return await self._run(read)

    async def delete_file(self, account: str, file_id: str) -> FileRecord | None:
        def write(db: Db) -> FileRecord | None:
            found = db.execute("SELECT record FROM files WHERE id = ? AND account = ?",
                               (file_id, account)).fetchone()
            if found is None:
                return None
            db.execute("DELETE FROM files WHERE id = ?", (file_id,))
            return _file(found[0])

        found = await self._run(write)
        if found is not None:
            self.blobs.delete(file_id, content_key(file_id))  # unseen once the record is gone
        return found

    # -- batches -----------------------------------------------------------------------------
    async def add_batch(self, batch: BatchRecord) -> bool:
        def write(db: Db) -> bool:
            if db.execute("SELECT 1 FROM batches WHERE id = ?", (batch.id,)).fetchone():
                return False
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM batches").fetchone()[0]
            data = {k: v for k, v in asdict(batch).items() if k != "sequence"}
            db.execute("INSERT INTO batches VALUES (?, ?, ?, ?)",
                       (batch.id, batch.account, json.dumps(data), seq))
            return True

        return await self._run(write)

    async def batch(self, account: str, batch_id: str) -> BatchRecord | None:
        def read(db: Db) -> BatchRecord | None:
            found = self._get_batch(db, batch_id)
            return found if found is not None and found.account == account else None

        return await self._run(read)

    async def batches(self, account: str, after: str | None,
                      limit: int) -> tuple[list[BatchRecord], bool]:
        def read(db: Db) -> tuple[list[BatchRecord], bool]:
            below = None
            if after is not None:
                found = db.execute("SELECT seq FROM batches WHERE id = ? AND account = ?",
                                   (after, account)).fetchone()
                if found is None:
                    return [], False
                below = found[0]
            rows = db.execute("SELECT record, seq FROM batches WHERE account = ? AND seq < ? "
                              "ORDER BY seq DESC LIMIT ?",
                              (account, below if below is not None else 2**62, limit + 1))
            page = [_batch(*row) for row in rows]
            return page[:limit], len(page) > limit

        return await self._run(read)

    async def cancel_batch(self, account: str, batch_id: str, now: float,
                           cancelled_at: float) -> Cancel | None:
        def change(found: BatchRecord | None, db: Db) -> Cancel | None:
            if found is None or found.account != account:
                return None
            status = status_at(found, now)
            if status not in CANCELLABLE:
                return Cancel(None, refused=status)
            return Cancel(self._put_batch(db, replace(found, cancelling_at=now,
                                                      cancelled_at=cancelled_at)))

        return await self._change(batch_id, change)

    async def claim_lines(self, batch_id: str, upto: int, most: int) -> tuple[int, int] | None:
        def change(found: BatchRecord, db: Db) -> tuple[int, int] | None:
            if found.returned:
                run, *rest = found.returned
                self._put_batch(db, replace(found, returned=tuple(rest)))
                return tuple(run)
            if found.claimed >= upto:
                return None
            run = (found.claimed, min(upto, found.claimed + most))
            self._put_batch(db, replace(found, claimed=run[1]))
            return run

        return await self._change(batch_id, change)

    async def record_lines(self, batch_id: str, segment: Segment, completed: int,
                           failed: int) -> BatchRecord:
        def change(found: BatchRecord, db: Db) -> BatchRecord:
            return self._put_batch(db, replace(
                found, done=found.done + segment.end - segment.start,
                completed=found.completed + completed, failed=found.failed + failed,
                segments=tuple(sorted((*found.segments, segment), key=lambda s: s.start))))

        return await self._change(batch_id, change)

    async def return_lines(self, batch_id: str, start: int, end: int) -> None:
        def change(found: BatchRecord, db: Db) -> None:
            self._put_batch(db, replace(found, returned=(*found.returned, (start, end))))

        await self._change(batch_id, change)

    async def claim_finish(self, batch_id: str) -> bool:
        def change(found: BatchRecord, db: Db) -> bool:
            if found.finishing or found.finished:
                return False
            self._put_batch(db, replace(found, finishing=True))
            return True

        return await self._change(batch_id, change)

    async def return_finish(self, batch_id: str) -> None:
        def change(found: BatchRecord, db: Db) -> None:
            self._put_batch(db, replace(found, finishing=False))

        await self._change(batch_id, change)

    async def finish_batch(self, batch_id: str, files: tuple[FileRecord, ...],
                           output_file_id: str | None,
                           error_file_id: str | None) -> BatchRecord:
        def change(found: BatchRecord, db: Db) -> BatchRecord:
            for record in files:
                self._insert_file(db, record)
            return self._put_batch(db, replace(found, finished=True, finishing=False,
                                               output_file_id=output_file_id,
                                               error_file_id=error_file_id))

        return await self._change(batch_id, change)
