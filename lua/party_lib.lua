-- party_lib: helpers shared by the scripts on one party's slot; redisx puts
-- this file in front of each of them (lua.PartyScript).
-- KEYS[1] party   {party:<id>}   HASH leader, open ('1'|'0'), max, created
--                 (ms), ver (bumped by every change), queue ('<mode>|<ticket>')
-- KEYS[2] members {party:<id>}:m ZSET player -> join order (Redis clock, us)
-- KEYS[3] invited {party:<id>}:i ZSET player -> invitation expiry (ms)
-- Every reply is {code, extra} followed, while the party exists, by its
-- view: leader, open, max, ver, queue, #members, members (join order)...,
-- #invited, invited (by expiry)...
-- code: 1 ok, 0 no such party, -1 forbidden, -2 full, -3 stale (ver or
-- queue marker not what the caller expected).
local OK, NOT_FOUND, FORBIDDEN, FULL, STALE = 1, 0, -1, -2, -3

-- now_us is Redis's clock in microseconds: every expiry and every order
-- comes from it, never from a node's clock.
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- num renders an integral number in full (tostring would use an exponent).
local function num(v)
  return string.format('%.0f', v)
end

-- prune drops the invitations that expired by Redis's clock.
local function prune(now_ms)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', num(now_ms))
end

-- renew gives every key of the party the party's TTL again.
local function renew(ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end

-- changed records a change: the version moves on so that a caller's
-- compare-and-set on it fails.
local function changed(ttl)
  redis.call('HINCRBY', KEYS[1], 'ver', 1)
  renew(ttl)
end

local function is_member(player)
  return redis.call('ZSCORE', KEYS[2], player) ~= false
end

local function reply(code, extra)
  local r = {code, extra or ''}
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return r
  end
  local h = redis.call('HMGET', KEYS[1], 'leader', 'open', 'max', 'ver', 'queue')
  for i = 1, 5 do
    r[#r + 1] = h[i] or ''
  end
  local m = redis.call('ZRANGE', KEYS[2], 0, -1)
  r[#r + 1] = #m
  for _, p in ipairs(m) do
    r[#r + 1] = p
  end
  local inv = redis.call('ZRANGE', KEYS[3], 0, -1)
  r[#r + 1] = #inv
  for _, p in ipairs(inv) do
    r[#r + 1] = p
  end
  return r
end

