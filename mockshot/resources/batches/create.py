"""`POST /v1/batches`: check the request and its input file, fix the schedule, keep the batch.

The input must be a file of this account with purpose `batch` (another account's or an
unknown id is refused as if it did not exist). The batch takes its own link to the input's
bytes, so deleting the file later does not take its lines away. The file is validated line
by line now, while the batch is `validating`; what validation found shows when the
validating phase ends on the clock (in_progress, or failed with its `errors`).

The schedule: validating for `batch_validating_seconds`, in_progress for
`batch_in_progress_seconds` (lines answered evenly through it), finalizing for
`batch_finalizing_seconds`; `expires_at` = created_at + the completion window. The
creator's seed, pinned seed and scenario (`X-Mockshot-*`) are kept: the lines are answered
with them. Ids are `batch_` + 20 letters in the file ids' alphabet (the real format is
not captured).
"""

from __future__ import annotations

from dataclasses import replace

from ...engine.seeding import derive_rng
from ...errors import invalid_request
from ...incoming import Incoming
from ...mock import Mock
from ...settings import Settings
from ...state.records import BatchRecord, Schedule
from ..files.ids import file_id
from .requests import check_create
from .validation import BATCH_MODELS, check_input

__all__ = ["create_batch"]

ATTEMPTS = 16


def schedule_of(settings: Settings, now: float, window: int) -> Schedule:
    validated = now + settings.batch_validating_seconds
    finalizing = validated + settings.batch_in_progress_seconds
    return Schedule(now, validated, finalizing, finalizing + settings.batch_finalizing_seconds,
                    now + window)


def batch_models(mock: Mock) -> frozenset[str]:
    """kimi-k2.5, kimi-k2.6 and every model the config file adds or overrides."""
    return frozenset(BATCH_MODELS) | {m.get("id") for m in mock.settings.models}


async def create_batch(mock: Mock, incoming: Incoming) -> BatchRecord:
    body = incoming.body
    window = check_create(mock, body)
    source = await mock.store.file(incoming.account, body["input_file_id"])
    if source is None:
        raise invalid_request(f"input_file_id: Not found the file {body['input_file_id']} "
                              "or Permission denied")
    if source.purpose != "batch":
        raise invalid_request(f"input_file_id: the file {source.id} has purpose "
                              f"{source.purpose}; a batch reads a file uploaded with purpose "
                              "batch")
    now = mock.clock.now()
    for attempt in range(ATTEMPTS):
        rng = derive_rng(incoming.seed, b"batch-id", incoming.nth.to_bytes(8, "little"),
                         bytes([attempt]))
        batch = BatchRecord(
            f"batch_{file_id(rng, int(now))}", incoming.account, incoming.key, source.id,
            body["endpoint"], body["completion_window"], body.get("metadata"),
            schedule_of(mock.settings, now, window), seed=incoming.seed,
            pinned=incoming.pinned, scenario=incoming.scenario)
        if await _keep(mock, batch):
            return await mock.store.batch(incoming.account, batch.id) or batch
    raise RuntimeError(f"no free batch id after {ATTEMPTS} draws")


async def _keep(mock: Mock, batch: BatchRecord) -> bool:
    """Link the input, validate it and add the batch; False if the id is taken. Nothing
    is left behind if any step fails."""
    blobs = mock.store.blobs
    try:
        blobs.link(batch.input_file_id, batch.input_key)
    except FileExistsError:
        return False
    try:
        checked = await check_input(blobs, batch.input_key, batch_models(mock))
        batch = replace(batch, lines=checked.lines, model=checked.model, step=checked.step,
                        offsets=checked.offsets, errors=checked.errors)
        if await mock.store.add_batch(batch):
            return True
    except BaseException:
        blobs.delete(batch.input_key)
        raise
    blobs.delete(batch.input_key)
    return False

