"""File and batch records, and the store operations on them (the `Store` ABC inherits these).

Records say what a file or a batch is; the bytes live in the store's blob area
(`state/blobs.py`), keyed by file id. Each operation is one atomic step a handler takes:
`add_file` checks the account's quotas and inserts in one step, `cancel_batch` checks the
batch's status and moves it in one step, and a batch's lines are handed out by
`claim_lines`, so two readers observing the same batch never answer a line twice.

A batch's lifecycle is a schedule fixed when it is created (when validating ends, when
finalizing starts, when it completes or expires); its status at any moment is a pure
function of that schedule, a cancel, and the clock (`status_at`), so no background thread
moves batches along: readers do the work the clock says is due (resources/batches).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CANCELLABLE",
    "BatchRecord",
    "Cancel",
    "FileAdmission",
    "FileRecord",
    "RecordStore",
    "Schedule",
    "Segment",
    "content_key",
    "due_lines",
    "status_at",
]

CANCELLABLE = ("validating", "in_progress", "finalizing")


def content_key(file_id: str) -> str:
    """The blob of a file-extract file's `/content` body, beside the file's own bytes."""
    return f"{file_id}.content"


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A kept file (its bytes are the blob named by its id)."""

    id: str
    account: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    file_type: str
    content: bool = False  # has an extracted `/content` body (blob `content_key(id)`)


@dataclass(frozen=True, slots=True)
class FileAdmission:
    """What `add_file` did: added, or why not (the id is taken, or a quota is full with
    what the account held)."""

    added: bool
    taken: bool = False
    files: int = 0
    total_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Schedule:
    """When each phase of a batch ends, on the mock's clock (seconds)."""

    created_at: float
    validated_at: float  # validating ends: in_progress from here (or failed)
    finalizing_at: float
    completed_at: float
    expires_at: float

    def end(self, failed: bool) -> tuple[float, str]:
        """When the batch ends on its own and how: failed after validating, expired when
        the window closes before the work is done, else completed."""
        if failed and self.validated_at <= self.expires_at:
            return self.validated_at, "failed"
        if self.expires_at < self.finalizing_at:
            return self.expires_at, "expired"
        return self.completed_at, "completed"


@dataclass(frozen=True, slots=True)
class Segment:
    """Lines [start, end) answered: their result lines are blobs `<batch>.<start>.out`
    and `.err` (each only when it holds a line)."""

    start: int
    end: int
    out: bool
    err: bool


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A batch: what was asked, its schedule, and how far its lines have been answered."""

    id: str
    account: str
    key: str  # the API key that created it (rules may match on it)
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    schedule: Schedule
    lines: int = 0
    model: str | None = None
    step: int = 1  # lines are claimed in runs of this many (offsets kept per run)
    offsets: tuple[int, ...] = ()  # the input's byte offset of every step-th line, + its end
    errors: tuple[dict[str, Any], ...] = ()  # why validation failed (the batch ends failed)
    seed: int = 0
    pinned: bool = False  # the creator pinned the seed (X-Mockshot-Seed)
    scenario: str | None = None  # X-Mockshot-Scenario at creation: only its rules
    cancelling_at: float | None = None
    cancelled_at: float | None = None
    claimed: int = 0  # lines [0, claimed) were handed out, less `returned`
    returned: tuple[tuple[int, int], ...] = ()  # runs given back by a claimer that failed
    done: int = 0
    completed: int = 0
    failed: int = 0
    segments: tuple[Segment, ...] = ()
    finishing: bool = False  # a reader is writing the output files
    finished: bool = False
    output_file_id: str | None = None
    error_file_id: str | None = None
    sequence: int = field(default=0, compare=False)  # creation order in the store

    @property
    def input_key(self) -> str:
        """The batch's own link to its input bytes (deleting the file leaves it whole)."""
        return f"{self.id}.input"


def status_at(batch: BatchRecord, now: float) -> str:
    """The batch's status at `now`, from its schedule and cancel alone."""
    if batch.cancelling_at is not None:
        return "cancelled" if now >= (batch.cancelled_at or 0.0) else "cancelling"
    end, how = batch.schedule.end(bool(batch.errors))
    if now >= end:
        return how
    if now < batch.schedule.validated_at:
        return "validating"
    return "in_progress" if now < batch.schedule.finalizing_at else "finalizing"


def due_lines(batch: BatchRecord, now: float) -> int:
    """How many lines the clock says are answered by `now`: none while validating, then
    evenly through in_progress, all by finalizing; a cancel or the window's end stops it."""
    schedule = batch.schedule
    until = min(now, schedule.expires_at,
                math.inf if batch.cancelling_at is None else batch.cancelling_at)
    if batch.errors or until < schedule.validated_at:
        return 0
    if until >= schedule.finalizing_at:
        return batch.lines
    span = schedule.finalizing_at - schedule.validated_at
    return min(batch.lines, int(batch.lines * (until - schedule.validated_at) / span))


@dataclass(frozen=True, slots=True)
class Cancel:
    """What `cancel_batch` did: the batch after it, or the status that refused it."""

    batch: BatchRecord | None
    refused: str | None = None  # the status that does not allow a cancel


class RecordStore(ABC):
    """The store operations on files and batches (every `Store` implements them)."""

    # -- files -----------------------------------------------------------------------------
    @abstractmethod
    async def add_file(self, record: FileRecord, max_files: int | None = None,
                       max_bytes: int | None = None) -> FileAdmission:
        """Insert `record` unless its id is taken or the account would hold more than
        `max_files` files or `max_bytes` bytes (None: no limit), in one step."""

    @abstractmethod
    async def file(self, account: str, file_id: str) -> FileRecord | None:
        """The account's file; None for an unknown, deleted or other account's id."""

    @abstractmethod
    async def files(self, account: str) -> list[FileRecord]:
        """The account's files, oldest first."""

    @abstractmethod
    async def delete_file(self, account: str, file_id: str) -> FileRecord | None:
        """Remove the account's file and its blobs; the record, or None if it had none."""

    # -- batches -----------------------------------------------------------------------------
    @abstractmethod
    async def add_batch(self, batch: BatchRecord) -> bool:
        """Insert `batch`; False (nothing changed) if its id is taken."""

    @abstractmethod
    async def batch(self, account: str, batch_id: str) -> BatchRecord | None: ...

    @abstractmethod
    async def batches(self, account: str, after: str | None,
                      limit: int) -> tuple[list[BatchRecord], bool]:
        """A page of the account's batches, newest first, starting after the batch `after`
        (None: from the newest); and whether more follow."""

    @abstractmethod
    async def cancel_batch(self, account: str, batch_id: str, now: float,
                           cancelled_at: float) -> Cancel | None:
        """Start cancelling if the batch's status at `now` allows it (validating,
        in_progress, finalizing); None for an unknown id."""

    @abstractmethod
    async def claim_lines(self, batch_id: str, upto: int, most: int) -> tuple[int, int] | None:
        """Hand out the next run of at most `most` unclaimed lines below `upto` (a run
        given back first); None when every such line is claimed."""

    @abstractmethod
    async def record_lines(self, batch_id: str, segment: Segment, completed: int,
                           failed: int) -> BatchRecord:
        """Lines of a claimed run answered: count them and keep their segment."""

    @abstractmethod
    async def return_lines(self, batch_id: str, start: int, end: int) -> None:
        """A claimed run that could not be answered: the next claim hands it out again."""

    @abstractmethod
    async def claim_finish(self, batch_id: str) -> bool:
        """True once, for the reader that writes the batch's output files."""

    @abstractmethod
    async def return_finish(self, batch_id: str) -> None:
        """The finishing reader failed: the next `claim_finish` is True again."""

    @abstractmethod
    async def finish_batch(self, batch_id: str, files: tuple[FileRecord, ...],
                           output_file_id: str | None,
                           error_file_id: str | None) -> BatchRecord:
        """Add the output files and name them on the batch, in one step; it is finished."""
