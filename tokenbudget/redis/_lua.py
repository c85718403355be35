"""The Lua scripts behind the shared budget and the usage store.

Why Lua rather than ``WATCH``/``MULTI``: a reservation is a check-and-write
("does spent + held + this fit? then hold it") that must be atomic across
every worker. With ``WATCH`` each attempt costs three round trips (watch and
read, ``MULTI``/``EXEC``) and any concurrent write to the window aborts it, so
the more workers share a key, the more attempts are thrown away and retried. A
script runs atomically inside Redis in one round trip, never conflicts, and
keeps the sweep of expired reservations in the same step. Scripts are sent
by SHA (``EVALSHA``); redis-py's ``Script`` loads them again on ``NOSCRIPT``
(after a restart or ``SCRIPT FLUSH``).

Budget window keys (``KEYS``; one budget key shares a ``{hash tag}``)::

    <prefix>:budget:{KEY}:<window>          hash: usage figures (``_figures``),
                                            spent_u/spent_p/spent_tokens,
                                            held_u/held_p/held_tokens
    <prefix>:budget:{KEY}:<window>:held     zset: open reservations, member
                                            "id:micro:pico:tokens", score = expiry (ms)
    <prefix>:budget:{KEY}:<window>:expired  set: ids swept on expiry, not yet settled
    <prefix>:budget:{KEY}:<window>:done     set: ids settled with no reservation in Redis

Money compared in Lua is a ``(micro, pico)`` pair (see ``_money``); every
number written back goes through ``%.0f`` so it is never printed in exponent
form. Time is Redis' own ``TIME``, the same clock for every machine.
"""

from __future__ import annotations

__all__ = ["APPEND", "READ", "RESERVE", "SETTLE"]

_PRELUDE = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local acct, held, expired, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local M = 1000000
local function num(v) return tonumber(v) or 0 end
local function str(x) return string.format('%.0f', x) end
local function norm(u, p)
  local carry = math.floor(p / M)
  return u + carry, p - carry * M
end
local function cmp(u1, p1, u2, p2)
  if u1 ~= u2 then return u1 < u2 and -1 or 1 end
  if p1 ~= p2 then return p1 < p2 and -1 or 1 end
  return 0
end
-- Arguments are checked before anything is written: a script that failed half-way
-- would leave a window or a day changed in part (Redis does not roll scripts back).
local MAX = 1e15
local function bad(what) return redis.error_reply('tokenbudget: out of range: ' .. what) end
local function count_ok(v)
  local n = tonumber(v)
  return n ~= nil and n == math.floor(n) and n >= 0 and n <= MAX
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function load()
  local v = redis.call('HMGET', acct, 'spent_u', 'spent_p', 'spent_tokens',
                       'held_u', 'held_p', 'held_tokens')
  return {su = num(v[1]), sp = num(v[2]), st = num(v[3]),
          hu = num(v[4]), hp = num(v[5]), ht = num(v[6])}
end
local function save_held(s)
  redis.call('HSET', acct, 'held_u', str(s.hu), 'held_p', str(s.hp), 'held_tokens', str(s.ht))
end
local function release(s, u, p, t)
  local hu, hp = norm(s.hu - u, s.hp - p)
  if hu < 0 then hu, hp = 0, 0 end
  s.hu, s.hp, s.ht = hu, hp, math.max(s.ht - t, 0)
end
-- Release the reservations whose holder never settled (it crashed, or outlived the TTL).
local function sweep(s, now)
  local gone = redis.call('ZRANGEBYSCORE', held, '-inf', str(now), 'LIMIT', 0, 1000)
  for _, m in ipairs(gone) do
    local id, u, p, t = string.match(m, '^([^:]+):(%d+):(%d+):(%d+)$')
    if id then
      release(s, tonumber(u), tonumber(p), tonumber(t))
      redis.call('SADD', expired, id)
    end
    redis.call('ZREM', held, m)
  end
  if #gone > 0 then save_held(s) end
end
-- Every key of the window expires one window length (plus grace) after its first use.
-- The window's hash as one JSON string: a reply of one bulk string parses fast in Python.
local function snapshot() return cjson.encode(redis.call('HGETALL', acct)) end
local function keep(ttl)
  if ttl > 0 then
    for _, k in ipairs(KEYS) do
      if redis.call('PTTL', k) == -1 then redis.call('PEXPIRE', k, ttl) end
    end
  end
end
"""

#: ARGV: id, micro, pico, tokens, cost-limited (0/1), limit micro, limit pico,
#: token-limited (0/1), token limit, reservation ttl ms, key ttl ms.
#: Returns {1 if held else 0, the window's hash as JSON [field, value, ...]}.
RESERVE = (
    _PRELUDE
    + """
local s = load()
local now = now_ms()
sweep(s, now)
local u, p, t = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ok = 1
if ARGV[5] == '1' then
  local lu, lp = tonumber(ARGV[6]), tonumber(ARGV[7])
  local cu, cp = norm(s.su + s.hu + u, s.sp + s.hp + p)
  if cmp(s.su, s.sp, lu, lp) >= 0 or cmp(cu, cp, lu, lp) > 0 then ok = 0 end
end
if ARGV[8] == '1' then
  local lt = tonumber(ARGV[9])
  if s.st >= lt or s.st + s.ht + t > lt then ok = 0 end
end
if ok == 1 then
  s.hu, s.hp = norm(s.hu + u, s.hp + p)
  s.ht = s.ht + t
  save_held(s)
  local member = ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4]
  redis.call('ZADD', held, str(now + tonumber(ARGV[10])), member)
end
keep(tonumber(ARGV[11]))
return {ok, snapshot()}
"""
)

#: ARGV: member ('' when Redis holds no reservation for the call), id, micro,
#: pico, tokens (of the reservation), cost micro, cost pico, tokens (of the
#: call), key ttl ms, the call's usage figures as "field increment ..." (one string).
#: Returns {1 if applied else 0 (settled before: a retry), 1 if a hold was
#: released, the window's hash as JSON}.
SETTLE = (
    _PRELUDE
    + """
for i = 3, 9 do
  if not count_ok(ARGV[i]) then return bad('argument ' .. i .. ' = ' .. tostring(ARGV[i])) end
end
for field, increment in string.gmatch(ARGV[10], '(%S+) (%S+)') do
  if not count_ok(increment) then return bad(field .. ' = ' .. increment) end
end
local s = load()
sweep(s, now_ms())
local member, id = ARGV[1], ARGV[2]
local open = false
if member ~= '' then
  if redis.call('ZREM', held, member) == 1 then
    open = true
  elseif redis.call('SREM', expired, id) == 0 then
    return {0, 0, snapshot()}
  end
elseif redis.call('SADD', done, id) == 0 then
  return {0, 0, snapshot()}
end
if open then
  release(s, tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
  save_held(s)
end
local cu, cp = norm(s.su + tonumber(ARGV[6]), s.sp + tonumber(ARGV[7]))
local ct = s.st + tonumber(ARGV[8])
redis.call('HSET', acct, 'spent_u', str(cu), 'spent_p', str(cp), 'spent_tokens', str(ct))
for field, increment in string.gmatch(ARGV[10], '(%S+) (%S+)') do
  redis.call('HINCRBY', acct, field, increment)
end
keep(tonumber(ARGV[9]))
return {1, open and 1 or 0, snapshot()}
"""
)

#: ARGV: key ttl ms. Returns the window's hash as JSON, after sweeping expired reservations.
READ = (
    _PRELUDE
    + """
local s = load()
sweep(s, now_ms())
keep(tonumber(ARGV[1]))
return snapshot()
"""
)

#: The usage store's batch write. KEYS: batch marker, days zset, meta hash, tag
#: values hash, then one hash per day. ARGV: marker ttl s, most values per tag
#: name (0: no limit), then per day hash: day, day number, pair count,
#: field/increment pairs. Every increment is checked before anything is
#: written. A tag field whose value is new once its tag name has the most
#: values is counted under "(other)"; the tag values hash holds the values told
#: apart ("=" name US value) and their count per name ("#" name). Returns 1, or
#: 0 when the batch was written before (a retry after a lost reply).
APPEND = """
local US = string.char(31)
local marker, days, meta, tags = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cap = tonumber(ARGV[2])
local a = 3
for i = 5, #KEYS do
  local n = tonumber(ARGV[a + 2])
  a = a + 3
  for _ = 1, n do
    local v = tonumber(ARGV[a + 1])
    if v == nil or v ~= math.floor(v) or v < 0 or v > 1e18 then
      return redis.error_reply('tokenbudget: out of range: ' .. ARGV[a] .. ' = ' .. ARGV[a + 1])
    end
    a = a + 2
  end
end
if redis.call('SET', marker, '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
redis.call('HSETNX', meta, 'schema', '1')
local known = {}
local function fold(field)
  if cap == 0 or string.sub(field, 1, 2) ~= 't' .. US then return field end
  local name, value, figure = string.match(field, '^t' .. US .. '([^' .. US .. ']*)' .. US
                                                  .. '([^' .. US .. ']*)' .. US .. '(.*)$')
  if name == nil then return field end
  local member = '=' .. name .. US .. value
  local kept = known[member]
  if kept == nil then
    kept = redis.call('HEXISTS', tags, member) == 1
    if not kept and tonumber(redis.call('HGET', tags, '#' .. name) or '0') < cap then
      redis.call('HSET', tags, member, '1')
      redis.call('HINCRBY', tags, '#' .. name, 1)
      kept = true
    end
    known[member] = kept
  end
  if kept then return field end
  return 't' .. US .. name .. US .. '(other)' .. US .. figure
end
a = 3
for i = 5, #KEYS do
  redis.call('ZADD', days, ARGV[a + 1], ARGV[a])
  local n = tonumber(ARGV[a + 2])
  a = a + 3
  for _ = 1, n do
    redis.call('HINCRBY', KEYS[i], fold(ARGV[a]), ARGV[a + 1])
    a = a + 2
  end
end
return 1
"""
