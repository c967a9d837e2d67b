"""The Redis store's hot path and accounts as Lua scripts: each operation one script, so
each is atomic on the server (Redis runs one script at a time) and one round trip.

The rules are those of the memory store (state/memory.py and accounts.Windows), line for
line: an account's usage windows are lists of `"time tokens"` entries in arrival order,
expired from the head, with running sums beside them in the account's hash, so a limit
refuses exactly where the memory store does and reports the same wait.

Keys are `P..name`, `P` the store's prefix (KEYS[1]); the scripts build the per-account
and per-batch names themselves, so the store needs a standalone Redis (not a Cluster).
Numbers cross as text: a float is written with 17 significant digits (`num`), which
reads back as the same double in Python and in Lua, so money and times are exact; a
Lua number returned as-is would be truncated to an integer by Redis.
"""

from __future__ import annotations

from .redis_link import Script

__all__ = ["ACCOUNT", "BEGIN", "CHARGE", "CLOCK", "RELEASE", "RESET", "RULES", "SETTLE", "UPDATE"]

COMMON = r"""
local P = KEYS[1]
local MINUTE, DAY = 60.0, 86400.0
local function num(x) return string.format('%.17g', x) end
local function has(flags, c) return string.find(flags, c, 1, true) ~= nil end
local function opt(s) if s == '' then return nil end return string.sub(s, 2) end

local function ensure(acct, cash, voucher, tier)
  local k = P .. 'a:' .. acct
  if redis.call('EXISTS', k) == 0 then
    redis.call('HSET', k, 'cash', cash, 'voucher', voucher, 'tier', tier, 'inflight', 0,
               'msum', 0, 'dsum', 0)
    redis.call('SADD', P .. 'accounts', acct)
  end
  return k
end

local function charge(k, amount)
  local cash = tonumber(redis.call('HGET', k, 'cash'))
  local voucher = tonumber(redis.call('HGET', k, 'voucher'))
  local from_voucher = math.min(voucher, amount)
  cash, voucher = cash - (amount - from_voucher), voucher - from_voucher
  redis.call('HSET', k, 'cash', num(cash), 'voucher', num(voucher))
  return cash, voucher
end

local function entry(s)
  local at, amount = string.match(s, '^(%S+) (%S+)$')
  return tonumber(at), tonumber(amount)
end

local function expire_list(list, k, field, horizon)
  local gone = 0
  while true do
    local head = redis.call('LINDEX', list, 0)
    if not head then break end
    local at, amount = entry(head)
    if at > horizon then break end
    redis.call('LPOP', list)
    gone = gone + amount
  end
  if gone ~= 0 then redis.call('HINCRBY', k, field, -gone) end
end

local function expire(acct, k, now)
  expire_list(P .. 'm:' .. acct, k, 'msum', now - MINUTE)
  expire_list(P .. 'd:' .. acct, k, 'dsum', now - DAY)
end

local function release(acct)
  local k = P .. 'a:' .. acct
  if tonumber(redis.call('HGET', k, 'inflight') or 0) > 0 then
    redis.call('HINCRBY', k, 'inflight', -1)
  end
end

local function usage(acct, k, now)
  expire(acct, k, now)
  local found = redis.call('HMGET', k, 'inflight', 'msum', 'dsum')
  return {tonumber(found[1]), redis.call('LLEN', P .. 'm:' .. acct), tonumber(found[2]),
          tonumber(found[3])}
end
"""

BEGIN = Script(COMMON + r"""
local function tokens_hit(dim, limit, list, used, tokens, now, span)
  if limit < 0 or used + tokens <= limit then return nil end
  if tokens > limit then return {dim, limit, used + tokens, num(span)} end
  local left = used
  for _, s in ipairs(redis.call('LRANGE', list, 0, -1)) do
    local at, amount = entry(s)
    left = left - amount
    if left + tokens <= limit then return {dim, limit, used + tokens, num(at + span - now)} end
  end
  return {dim, limit, used + tokens, num(span)}
end

local function admit(acct, k, limits, now, tokens)
  local inflight, requests, msum, dsum = unpack(usage(acct, k, now))
  local concurrency, rpm, tpm, tpd = unpack(limits)
  if concurrency >= 0 and inflight >= concurrency then
    return {'concurrency', concurrency, inflight, num(1.0)}
  end
  local minute = P .. 'm:' .. acct
  if rpm >= 0 and requests >= rpm then
    local at = entry(redis.call('LINDEX', minute, requests - rpm))
    return {'rpm', rpm, requests, num(at + MINUTE - now)}
  end
  return tokens_hit('tpm', tpm, minute, msum, tokens, now, MINUTE)
      or tokens_hit('tpd', tpd, P .. 'd:' .. acct, dsum, tokens, now, DAY)
end

local function holds(name, scenario, times, state, nth, n)
  if nth ~= '' and not string.find(nth, ',' .. n .. ',', 1, true) then return false end
  if state and (redis.call('HGET', P .. 'states', scenario) or 'started') ~= state then
    return false
  end
  return times == '' or tonumber(redis.call('HGET', P .. 'uses', name) or 0) < tonumber(times)
end

local function hits(A, acct, count, first)
  local found = 0
  for i = first, first + count - 1 do
    if not redis.call('ZSCORE', P .. 'pfx', acct .. '\0' .. A[i]) then break end
    found = found + 1
  end
  return found
end

local function ordinal(fingerprint, lru)
  local ordinal = redis.call('HINCRBY', P .. 'ord', fingerprint, 1) - 1
  redis.call('ZADD', P .. 'ordlru', redis.call('HINCRBY', P .. 'meta', 'seq', 1), fingerprint)
  local excess = redis.call('ZCARD', P .. 'ordlru') - lru
  if excess > 0 then
    local gone = redis.call('ZPOPMIN', P .. 'ordlru', excess)
    for i = 1, #gone, 2 do redis.call('HDEL', P .. 'ord', gone[i]) end
  end
  return ordinal
end

-- ARGV[1]: a JSON array of texts (decoded in C, so the client packs one argument, not
-- dozens): version, account, plan cash, voucher, tier, flags, tokens, now, operation,
-- fingerprint (hex), -, lru, prefix count, prefixes (hex)..., candidates (6 each);
-- ARGV[2]: every tier's limits (JSON)
local A = cjson.decode(ARGV[1])
if tonumber(A[1]) ~= tonumber(redis.call('HGET', P .. 'meta', 'rules_version') or 0) then
  return {'stale'}
end
local acct, flags, tokens = A[2], A[6], tonumber(A[7])
local now = tonumber(A[8])
if has(flags, 'c') then now = tonumber(redis.call('GET', P .. 'clock') or A[8]) end
local shown = num(now)
local k = ensure(acct, A[3], A[4], A[5])
if has(flags, 'b') then
  local money = redis.call('HMGET', k, 'cash', 'voucher')
  if tonumber(money[2]) + math.max(tonumber(money[1]), 0) <= 0 then return {'quota', shown} end
end
local limits = nil
local tier = redis.call('HGET', k, 'tier')
if has(flags, 'l') and tier ~= '' then limits = cjson.decode(ARGV[2])[tier] end
if limits then
  local hit = admit(acct, k, limits, now, tokens)
  if hit then return {'limited', shown, unpack(hit)} end
end
local n = tonumber(redis.call('HGET', P .. 'calls', A[9]) or 0) + 1
local count = tonumber(A[13])
local taken = nil
for c = 14 + count, #A, 6 do
  if holds(A[c], A[c + 1], A[c + 2], opt(A[c + 3]), A[c + 4], n) then
    taken = c
    break
  end
end
if not taken and has(flags, 's') then return {'unmatched', shown, n} end
redis.call('HSET', P .. 'calls', A[9], n)
local found_hits = hits(A, acct, count, 14)
local held = 0
if limits then
  local at = shown .. ' ' .. tokens
  redis.call('RPUSH', P .. 'm:' .. acct, at)
  redis.call('RPUSH', P .. 'd:' .. acct, at)
  redis.call('HINCRBY', k, 'msum', tokens)
  redis.call('HINCRBY', k, 'dsum', tokens)
  redis.call('HINCRBY', k, 'inflight', 1)
  held = 1
end
local rule, use, ord = '', -1, -1
if taken then
  rule = A[taken]
  use = redis.call('HINCRBY', P .. 'uses', rule, 1) - 1
  local then_state = opt(A[taken + 5])
  if then_state then redis.call('HSET', P .. 'states', A[taken + 1], then_state) end
elseif has(flags, 'f') then
  ord = ordinal(A[10], tonumber(A[12]))
end
return {'ok', shown, n, held, rule, use, ord, found_hits}
""")

SETTLE = Script(COMMON + r"""
-- ARGV[1]: a JSON array of texts: flags (r: release, c: charge, q: a request body),
-- release account, charge account, amount, plan cash, voucher, tier, lru, journal size,
-- -, -, prefix count, prefixes (hex)...; ARGV[2]: the entry (JSON); ARGV[3]: the request
local A = cjson.decode(ARGV[1])
local flags = A[1]
if has(flags, 'r') then release(A[2]) end
if has(flags, 'c') then
  local acct = A[3]
  local k = ensure(acct, A[5], A[6], A[7])
  local amount = tonumber(A[4])
  if amount ~= 0 then charge(k, amount) end
  local count = tonumber(A[12])
  if count > 0 then
    local seq = redis.call('HINCRBY', P .. 'meta', 'seq', count) - count
    for i = 1, count do
      redis.call('ZADD', P .. 'pfx', seq + i, acct .. '\0' .. A[12 + i])
    end
    local excess = redis.call('ZCARD', P .. 'pfx') - tonumber(A[8])
    if excess > 0 then redis.call('ZPOPMIN', P .. 'pfx', excess) end
  end
end
local id = redis.call('HINCRBY', P .. 'meta', 'journal_id', 1)
local journal = P .. 'journal'
redis.call('HSET', journal, id, ARGV[2])
if has(flags, 'q') then redis.call('HSET', journal, id .. ':r', ARGV[3]) end
local old = id - tonumber(A[9])
if old > 0 then
  redis.call('HDEL', journal, old, old .. ':r', old .. ':chunks_sent', old .. ':disconnected',
             old .. ':status', old .. ':fault')
end
return id
""")

RELEASE = Script(COMMON + r"""
-- ARGV: the account whose call in flight ended
release(ARGV[1])
return 0
""")

UPDATE = Script(COMMON + r"""
-- ARGV: entry id, the account whose call in flight ends ('' none, else '=' .. account),
-- then (fact, JSON value) pairs; an entry the journal dropped is left as it is
local journal = P .. 'journal'
local ends = opt(ARGV[2])
if ends then release(ends) end
if redis.call('HEXISTS', journal, ARGV[1]) == 1 then
  for i = 3, #ARGV, 2 do redis.call('HSET', journal, ARGV[1] .. ':' .. ARGV[i], ARGV[i + 1]) end
end
return 0
""")

ACCOUNT = Script(COMMON + r"""
-- ARGV: account, plan cash, voucher, tier, flags (n: usage at now), now,
-- then cash, voucher, tier to set ('' keeps each; tier '=' .. tier, '=' alone: none)
local acct = ARGV[1]
local k = ensure(acct, ARGV[2], ARGV[3], ARGV[4])
if ARGV[7] ~= '' then redis.call('HSET', k, 'cash', ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSET', k, 'voucher', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', k, 'tier', string.sub(ARGV[9], 2)) end
local money = redis.call('HMGET', k, 'cash', 'voucher', 'tier')
local used = {}
if has(ARGV[5], 'n') then used = usage(acct, k, tonumber(ARGV[6])) end
return {money[1], money[2], money[3], used}
""")

CHARGE = Script(COMMON + r"""
-- ARGV: account, plan cash, voucher, tier, amount
local cash, voucher = charge(ensure(ARGV[1], ARGV[2], ARGV[3], ARGV[4]), tonumber(ARGV[5]))
return {num(cash), num(voucher)}
""")

RULES = Script(COMMON + r"""
-- ARGV: what ('read', 'put', 'remove', 'clear'), then its arguments
local meta, rules, order = P .. 'meta', P .. 'rules', P .. 'rulepos'
local what = ARGV[1]
if what == 'read' then
  local found = {redis.call('HGET', meta, 'rules_version') or '0',
                 redis.call('HGET', meta, 'strict') or '0'}
  for _, name in ipairs(redis.call('ZRANGE', order, 0, -1)) do
    found[#found + 1] = redis.call('HGET', rules, name)
  end
  return found
elseif what == 'put' then  -- strict, then (name, document) pairs
  for i = 3, #ARGV, 2 do
    if not redis.call('ZSCORE', order, ARGV[i]) then
      redis.call('ZADD', order, redis.call('HINCRBY', meta, 'rule_seq', 1), ARGV[i])
    end
    redis.call('HSET', rules, ARGV[i], ARGV[i + 1])
  end
  if ARGV[2] == '1' then redis.call('HSET', meta, 'strict', 1) end
elseif what == 'remove' then  -- name
  redis.call('HDEL', P .. 'uses', ARGV[2])
  redis.call('ZREM', order, ARGV[2])
  if redis.call('HDEL', rules, ARGV[2]) == 0 then return 0 end
elseif what == 'clear' then
  redis.call('DEL', rules, order, P .. 'uses')
  redis.call('HSET', meta, 'strict', 0)
end
return redis.call('HINCRBY', meta, 'rules_version', 1)
""")

RESET = Script(COMMON + r"""
-- ARGV: '1' keeps accounts (money and tiers; windows start afresh), files and batches
local keep = ARGV[1] == '1'
redis.call('DEL', P .. 'calls', P .. 'ord', P .. 'ordlru', P .. 'pfx', P .. 'uses',
           P .. 'states', P .. 'journal')
for _, acct in ipairs(redis.call('SMEMBERS', P .. 'accounts')) do
  redis.call('DEL', P .. 'm:' .. acct, P .. 'd:' .. acct)
  if keep then
    if redis.call('EXISTS', P .. 'a:' .. acct) == 1 then
      redis.call('HSET', P .. 'a:' .. acct, 'inflight', 0, 'msum', 0, 'dsum', 0)
    end
  else
    redis.call('DEL', P .. 'a:' .. acct, P .. 'f:' .. acct, P .. 'bl:' .. acct)
  end
end
if not keep then
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'batches')) do
    redis.call('DEL', P .. 'b:' .. id, P .. 'br:' .. id, P .. 'bs:' .. id)
  end
  redis.call('DEL', P .. 'accounts', P .. 'files', P .. 'fbytes', P .. 'batches')
end
return 0
""")

CLOCK = Script(COMMON + r"""
-- ARGV: 'start' value (set unless set), 'set' value, 'add' seconds (capped), 'read'
local clock = P .. 'clock'
local what, value = ARGV[1], ARGV[2]
if what == 'start' then
  redis.call('SET', clock, value, 'NX')
elseif what == 'set' then
  redis.call('SET', clock, value)
elseif what == 'add' then
  local now = tonumber(redis.call('GET', clock) or ARGV[3])
  redis.call('SET', clock, num(math.min(now + tonumber(value), tonumber(ARGV[4]))))
end
return redis.call('GET', clock)
""")
