"""The file and batch half of `RedisStore`: records in Redis, each change one script.

A file is its record's JSON in the `files` hash, with its account's files in a sorted set
(creation order) and the account's bytes in `fbytes`, so `add_file` checks both quotas and
inserts in one script. A batch is split so no script has to parse a float: what never
changes after creation is JSON the scripts only carry (`record`), and what changes —
counts, claims, the cancel, the finish — are fields of its hash, its given-back runs a
list and its segments a sorted set, so a claim, a cancel or a finish is one atomic step
across hosts. The rules are those of `memory_files.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import orjson

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
from .redis_link import Link, Script

__all__ = ["FilesInRedis"]

MUTABLE = ("cancelling_at", "cancelled_at", "claimed", "returned", "done", "completed",
           "failed", "segments", "finishing", "finished", "output_file_id", "error_file_id",
           "sequence")

COMMON = r"""
local P = KEYS[1]
local function put_file(id, acct, bytes, record)
  redis.call('HSET', P .. 'files', id, record)
  redis.call('ZADD', P .. 'f:' .. acct, redis.call('HINCRBY', P .. 'meta', 'file_seq', 1), id)
  redis.call('HINCRBY', P .. 'fbytes', acct, bytes)
  redis.call('SADD', P .. 'accounts', acct)
end
local function batch(id)
  local k = P .. 'b:' .. id
  if redis.call('EXISTS', k) == 0 then return false end
  return {redis.call('HGETALL', k), redis.call('LRANGE', P .. 'br:' .. id, 0, -1),
          redis.call('ZRANGE', P .. 'bs:' .. id, 0, -1)}
end
"""

FILES = Script(COMMON + r"""
local what, acct = ARGV[1], ARGV[2]
if what == 'add' then  -- account, id, bytes, record, max files, max bytes ('' none)
  local id, bytes = ARGV[3], tonumber(ARGV[4])
  if redis.call('HEXISTS', P .. 'files', id) == 1 then return {'taken'} end
  local held = redis.call('ZCARD', P .. 'f:' .. acct)
  local total = tonumber(redis.call('HGET', P .. 'fbytes', acct) or 0)
  if (ARGV[6] ~= '' and held >= tonumber(ARGV[6])) or
     (ARGV[7] ~= '' and total + bytes > tonumber(ARGV[7])) then
    return {'full', held, total}
  end
  put_file(id, acct, bytes, ARGV[5])
  return {'added'}
elseif what == 'list' then  -- account
  local ids = redis.call('ZRANGE', P .. 'f:' .. acct, 0, -1)
  if #ids == 0 then return {} end
  return redis.call('HMGET', P .. 'files', unpack(ids))
elseif what == 'delete' then  -- account, id
  local id = ARGV[3]
  if not redis.call('ZSCORE', P .. 'f:' .. acct, id) then return false end
  local record = redis.call('HGET', P .. 'files', id)
  redis.call('HDEL', P .. 'files', id)
  redis.call('ZREM', P .. 'f:' .. acct, id)
  redis.call('HINCRBY', P .. 'fbytes', acct, -cjson.decode(record)['bytes'])
  return record
end
""")

BATCHES = Script(COMMON + r"""
local what, id = ARGV[1], ARGV[2]
local k = P .. 'b:' .. id
if what == 'add' then  -- id, account, record
  if redis.call('EXISTS', k) == 1 then return 0 end
  local seq = redis.call('HINCRBY', P .. 'meta', 'batch_seq', 1)
  redis.call('HSET', k, 'record', ARGV[4], 'account', ARGV[3], 'seq', seq, 'claimed', 0,
             'done', 0, 'completed', 0, 'failed', 0, 'finishing', 0, 'finished', 0,
             'cancelling_at', '', 'cancelled_at', '', 'output_file_id', '',
             'error_file_id', '')
  redis.call('ZADD', P .. 'bl:' .. ARGV[3], seq, id)
  redis.call('SADD', P .. 'batches', id)
  redis.call('SADD', P .. 'accounts', ARGV[3])
  return 1
elseif what == 'get' then  -- id
  return batch(id)
elseif what == 'page' then  -- '', account, after ('' from the newest), limit
  local list, limit = P .. 'bl:' .. ARGV[3], tonumber(ARGV[5])
  local ids
  if ARGV[4] == '' then
    ids = redis.call('ZREVRANGE', list, 0, limit)
  else
    local below = redis.call('ZSCORE', list, ARGV[4])
    if not below then return {} end
    ids = redis.call('ZREVRANGEBYSCORE', list, '(' .. below, '-inf', 'LIMIT', 0, limit + 1)
  end
  local page = {}
  for _, found in ipairs(ids) do page[#page + 1] = batch(found) end
  return page
elseif what == 'cancel' then  -- id, now, cancelled at: only if no cancel came first
  if redis.call('HGET', k, 'cancelling_at') == '' then
    redis.call('HSET', k, 'cancelling_at', ARGV[3], 'cancelled_at', ARGV[4])
  end
  return batch(id)
elseif what == 'claim' then  -- id, upto, most
  local run = redis.call('LPOP', P .. 'br:' .. id)
  if run then return run end
  local claimed, upto = tonumber(redis.call('HGET', k, 'claimed')), tonumber(ARGV[3])
  if claimed >= upto then return false end
  local stop = math.min(upto, claimed + tonumber(ARGV[4]))
  redis.call('HSET', k, 'claimed', stop)
  return claimed .. ' ' .. stop
elseif what == 'record' then  -- id, start, end, segment, completed, failed
  redis.call('HINCRBY', k, 'done', tonumber(ARGV[4]) - tonumber(ARGV[3]))
  redis.call('HINCRBY', k, 'completed', ARGV[6])
  redis.call('HINCRBY', k, 'failed', ARGV[7])
  redis.call('ZADD', P .. 'bs:' .. id, ARGV[3], ARGV[5])
  return batch(id)
elseif what == 'return' then  -- id, start, end
  redis.call('RPUSH', P .. 'br:' .. id, ARGV[3] .. ' ' .. ARGV[4])
elseif what == 'claim_finish' then
  if redis.call('HGET', k, 'finishing') == '1' or redis.call('HGET', k, 'finished') == '1' then
    return 0
  end
  redis.call('HSET', k, 'finishing', 1)
  return 1
elseif what == 'return_finish' then
  redis.call('HSET', k, 'finishing', 0)
elseif what == 'finish' then  -- id, output id, error id, then (id, account, bytes, record)
  for i = 5, #ARGV, 4 do put_file(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]) end
  redis.call('HSET', k, 'finished', 1, 'finishing', 0, 'output_file_id', ARGV[3],
             'error_file_id', ARGV[4])
  return batch(id)
end
return 0
""")


def _file(data: bytes | None) -> FileRecord | None:
    return None if data is None else FileRecord(**orjson.loads(data))


def _file_json(record: FileRecord) -> bytes:
    return orjson.dumps(asdict(record))


def _optional(value: bytes) -> str | None:
    return value.decode() if value else None


def _batch(found: list | None) -> BatchRecord | None:
    """A batch from its hash (flat), its given-back runs and its segments."""
    if not found:
        return None
    flat, returned, segments = found
    fields = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
    data = orjson.loads(fields["record"])
    data["schedule"] = Schedule(**data["schedule"])
    data["offsets"], data["errors"] = tuple(data["offsets"]), tuple(data["errors"])
    cancelling, cancelled = (fields[f"cancel{n}_at"] for n in ("ling", "led"))
    return BatchRecord(
        **data, cancelling_at=float(cancelling) if cancelling else None,
        cancelled_at=float(cancelled) if cancelled else None,
        claimed=int(fields["claimed"]), done=int(fields["done"]),
        completed=int(fields["completed"]), failed=int(fields["failed"]),
        returned=tuple(tuple(int(n) for n in run.split()) for run in returned),
        segments=tuple(_segment(s) for s in segments),
        finishing=fields["finishing"] == b"1", finished=fields["finished"] == b"1",
        output_file_id=_optional(fields["output_file_id"]),
        error_file_id=_optional(fields["error_file_id"]), sequence=int(fields["seq"]))


def _segment(text: bytes) -> Segment:
    start, end, out, err = (int(n) for n in text.split())
    return Segment(start, end, bool(out), bool(err))


class FilesInRedis(RecordStore):
    """Files and batches per account, in creation order, in Redis."""

    blobs: Blobs
    link: Link
    prefix: str
    _run: Callable[..., Awaitable[Any]]

    async def _files(self, *args: Any) -> Any:
        return await self._run(FILES, *args)

    async def _batches(self, *args: Any) -> Any:
        return await self._run(BATCHES, *args)

    # -- files -----------------------------------------------------------------------------
    async def add_file(self, record: FileRecord, max_files: int | None = None,
                       max_bytes: int | None = None) -> FileAdmission:
        found = await self._files("add", record.account, record.id, record.bytes,
                                  _file_json(record),
                                  "" if max_files is None else max_files,
                                  "" if max_bytes is None else max_bytes)
        if found[0] == b"taken":
            return FileAdmission(False, taken=True)
        if found[0] == b"full":
            return FileAdmission(False, files=found[1], total_bytes=found[2])
        return FileAdmission(True)

    async def file(self, account: str, file_id: str) -> FileRecord | None:
        found = _file(await self.link.ask(self.link.client().hget(self.prefix + "files",
                                                                  file_id)))
        return found if found is not None and found.account == account else None

    async def files(self, account: str) -> list[FileRecord]:
        return [_file(data) for data in await self._files("list", account)]

    async def delete_file(self, account: str, file_id: str) -> FileRecord | None:
        found = _file(await self._files("delete", account, file_id))
        if found is not None:
            self.blobs.delete(file_id, content_key(file_id))  # unseen once the record is gone
        return found

    # -- batches -----------------------------------------------------------------------------
    async def add_batch(self, batch: BatchRecord) -> bool:
        fixed = {k: v for k, v in asdict(batch).items() if k not in MUTABLE}
        return bool(await self._batches("add", batch.id, batch.account, orjson.dumps(fixed)))

    async def batch(self, account: str, batch_id: str) -> BatchRecord | None:
        found = _batch(await self._batches("get", batch_id))
        return found if found is not None and found.account == account else None

    async def batches(self, account: str, after: str | None,
                      limit: int) -> tuple[list[BatchRecord], bool]:
        page = [_batch(found) for found in await self._batches(
            "page", "", account, after or "", limit)]
        return page[:limit], len(page) > limit

    async def cancel_batch(self, account: str, batch_id: str, now: float,
                           cancelled_at: float) -> Cancel | None:
        found = await self.batch(account, batch_id)
        if found is None:
            return None
        status = status_at(found, now)
        if status not in CANCELLABLE:
            return Cancel(None, refused=status)
        after = _batch(await self._batches("cancel", batch_id, repr(now), repr(cancelled_at)))
        if after.cancelling_at != now or after.cancelled_at != cancelled_at:
            return Cancel(None, refused=status_at(after, now))  # another cancel came first
        return Cancel(after)

    async def claim_lines(self, batch_id: str, upto: int, most: int) -> tuple[int, int] | None:
        run = await self._batches("claim", batch_id, upto, most)
        if not run:
            return None
        start, end = run.split()
        return int(start), int(end)

    async def record_lines(self, batch_id: str, segment: Segment, completed: int,
                           failed: int) -> BatchRecord:
        text = f"{segment.start} {segment.end} {int(segment.out)} {int(segment.err)}"
        return _batch(await self._batches("record", batch_id, segment.start, segment.end,
                                          text, completed, failed))

    async def return_lines(self, batch_id: str, start: int, end: int) -> None:
        await self._batches("return", batch_id, start, end)

    async def claim_finish(self, batch_id: str) -> bool:
        return bool(await self._batches("claim_finish", batch_id))

    async def return_finish(self, batch_id: str) -> None:
        await self._batches("return_finish", batch_id)

    async def finish_batch(self, batch_id: str, files: tuple[FileRecord, ...],
                           output_file_id: str | None,
                           error_file_id: str | None) -> BatchRecord:
        records = [part for r in files for part in (r.id, r.account, r.bytes, _file_json(r))]
        found = _batch(await self._batches("finish", batch_id, output_file_id or "",
                                           error_file_id or "", *records))
        return found
