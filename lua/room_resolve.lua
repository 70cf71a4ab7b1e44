-- room_resolve: end a loading room, exactly once.
-- KEYS[1] room     {m:<mode>}:room:<match_id>
-- KEYS[2] queue    {m:<mode>}:q
-- KEYS[3] tickets  {m:<mode>}:t
-- KEYS[4] players  {m:<mode>}:pl
-- KEYS[5] waits    {m:<mode>}:w
-- KEYS[6] rooms    {m:<mode>}:rooms
-- KEYS[7] owners   {m:<mode>}:own
-- KEYS[8] added    {m:<mode>}:add LIST (requeued tickets, for the matching leader)
-- KEYS[8+i] outcomes {m:<mode>}:o:<player> of the member named by ARGV[8+i]
-- KEYS[8+P+..] for a mode with regions, pairs of (region pool
--          {m:<mode>}:rq:<r>, its added list {m:<mode>}:add:<r>), in the
--          order of the region names after the members in ARGV
-- ARGV[1] outcome: 'start' | 'allocating' | 'cancel'
-- ARGV[2] cancel reason ('loading_timeout', 'player_left', 'allocation_failed')
-- ARGV[3] the leaving player for 'player_left', else ''
-- ARGV[4] TTL of the finished record (ms)
-- ARGV[5] server JSON for 'start' ('null' when none)
-- ARGV[6] the number of regions L named after the members (0 without regions)
-- ARGV[7] requeue policy for 'cancel': 'ready' (loaded members are requeued)
--         or 'all' (every member but the leaver is requeued)
-- ARGV[8] TTL of the outcome lists (ms)
-- ARGV[8+i] member player ids, one per outcome key (every member)
-- then the L region names.
-- A requeued ticket of a mode with regions goes back into the pools the
-- claim found it in (the room's 'l:<player>'), or every region's when the
-- room does not say.
-- Reply: {status, state, requeued, no_shows}
--   status 'ok' when this call resolved the room (the caller notifies the
--   members and counts it); 'already' when it was resolved before (state says
--   how); 'gone' when there is no such room; 'not_ready' for 'start' or
--   'allocating' while a member has not loaded; 'not_due' for a cancel as
--   'loading_timeout' before the deadline by Redis's clock (the third field
--   is then the ms left). requeued and no_shows are comma-separated ids.
-- Requeued members get back their ticket with its original priority, all in
-- this one step, so they keep their place in the queue. Every member's
-- outcome is recorded in the same step: a member that misses the news finds
-- it when its session next reads Redis.
local room = KEYS[1]
local st = redis.call('HGET', room, 'state')
if not st then
  return {'gone', '', '', ''}
end
if st == 'started' or st == 'cancelled' then
  return {'already', st, redis.call('HGET', room, 'requeued') or '', redis.call('HGET', room, 'no_shows') or ''}
end
local match = redis.call('HGET', room, 'match')
local members = {}
for pid in string.gmatch(redis.call('HGET', room, 'members'), '[^,]+') do
  members[#members + 1] = pid
end
local L = tonumber(ARGV[6]) or 0
local P = #ARGV - 8 - L
local okey = {}
for i = 9, 8 + P do
  okey[ARGV[i]] = KEYS[i]
end
-- Each region's pool and added list, by region name.
local lpool, ladd = {}, {}
for j = 1, L do
  lpool[ARGV[8 + P + j]] = KEYS[8 + P + 2 * j - 1]
  ladd[ARGV[8 + P + j]] = KEYS[8 + P + 2 * j]
end
for _, pid in ipairs(members) do
  if not okey[pid] then
    return redis.error_reply('room_resolve: no outcome key for member ' .. pid)
  end
end
local t = redis.call('TIME')
local at = t[1] * 1000 + math.floor(t[2] / 1000)
local now = at
local mode, deadline, teams = redis.call('HGET', room, 'mode'), redis.call('HGET', room, 'deadline'), redis.call('HGET', room, 'teams')
-- Outcome record: id|at|mode|reason|requeued|no_shows|ticket|queued_at|deadline|teams|server
local function record(pid, rec)
  redis.call('RPUSH', okey[pid], rec)
  redis.call('LTRIM', okey[pid], -8, -1)
  redis.call('PEXPIRE', okey[pid], ARGV[8])
end

local outcome = ARGV[1]
if outcome == 'start' or outcome == 'allocating' then
  for _, pid in ipairs(members) do
    if redis.call('HEXISTS', room, 'r:' .. pid) == 0 then
      return {'not_ready', st, '', ''}
    end
  end
  if outcome == 'allocating' then
    if st ~= 'loading' then
      return {'already', st, '', ''}
    end
    redis.call('HSET', room, 'state', 'allocating')
    return {'ok', 'allocating', '', ''}
  end
  for _, pid in ipairs(members) do
    if redis.call('HGET', KEYS[4], pid) == 'm:' .. match then
      redis.call('HDEL', KEYS[4], pid)
    end
    -- The member's ticket (and its queue time) names what the match
    -- seated: a party member that never heard of its party's ticket is
    -- told it was queued before it is told of the match.
    record(pid, table.concat({'s:' .. match, at, mode, '', '0', '', redis.call('HGET', room, 'i:' .. pid) or '',
      redis.call('HGET', room, 's:' .. pid) or '0', deadline, teams, ARGV[5]}, '|'))
  end
  redis.call('HSET', room, 'state', 'started', 'server', ARGV[5], 'ended', now)
  redis.call('ZREM', KEYS[6], match)
  redis.call('HDEL', KEYS[7], match)
  redis.call('PEXPIRE', room, ARGV[4])
  return {'ok', 'started', '', ''}
end
if ARGV[2] == 'loading_timeout' and now < tonumber(deadline) then
  return {'not_due', st, tostring(tonumber(deadline) - now), ''}
end
-- Members that share a ticket are a party: it is requeued whole, and only
-- if every one of its members was ready (or, for a dodge, none of them is
-- the dodger); otherwise its members stay together, idle, and only its
-- no-shows are charged.
local tidOf, allReady = {}, {}
for _, pid in ipairs(members) do
  local tid = redis.call('HGET', room, 'i:' .. pid) or ''
  tidOf[pid] = tid
  if allReady[tid] == nil then
    allReady[tid] = true
  end
  if redis.call('HEXISTS', room, 'r:' .. pid) == 0 then
    allReady[tid] = false
  end
end
local leaverTid = ARGV[3] ~= '' and tidOf[ARGV[3]] or nil
local requeued, noshows, back = {}, {}, {}
for _, pid in ipairs(members) do
  local again, spared = false, false
  if ARGV[3] ~= '' then
    spared = pid ~= ARGV[3] and tidOf[pid] == leaverTid
    again = pid ~= ARGV[3] and not spared
  elseif ARGV[7] == 'all' then
    again = true
  else
    again = allReady[tidOf[pid]]
  end
  local entry = redis.call('HGET', KEYS[4], pid)
  local ready = redis.call('HEXISTS', room, 'r:' .. pid) == 1
  if again and entry == 'm:' .. match then
    local tid = redis.call('HGET', room, 'i:' .. pid)
    redis.call('ZADD', KEYS[2], redis.call('HGET', room, 's:' .. pid), tid)
    redis.call('HSET', KEYS[3], tid, redis.call('HGET', room, 't:' .. pid))
    redis.call('ZADD', KEYS[5], now, tid)
    redis.call('HSET', KEYS[4], pid, 'q:' .. tid)
    if L == 0 then
      redis.call('RPUSH', KEYS[8], tid)
    else
      local score = redis.call('HGET', room, 's:' .. pid)
      local were = redis.call('HGET', room, 'l:' .. pid)
      local back_in = 0
      if were then
        for name in string.gmatch(were, '[^,]+') do
          if lpool[name] then
            redis.call('ZADD', lpool[name], score, tid)
            redis.call('RPUSH', ladd[name], tid)
            back_in = back_in + 1
          end
        end
      end
      if back_in == 0 then
        -- No record of its pools (or none of them is configured now): every
        -- region's leader looks at it, and matches it where it may play.
        for name in pairs(lpool) do
          redis.call('ZADD', lpool[name], score, tid)
          redis.call('RPUSH', ladd[name], tid)
        end
      end
    end
    requeued[#requeued + 1] = pid
    back[pid] = tid
  else
    if entry == 'm:' .. match then
      redis.call('HDEL', KEYS[4], pid)
    end
    -- A no-show is a member that did not load; one that loaded but is no
    -- longer seated here (its entry moved) is neither requeued nor charged.
    if pid ~= ARGV[3] and not ready and not spared then
      noshows[#noshows + 1] = pid
    end
  end
end
local rq, ns = table.concat(requeued, ','), table.concat(noshows, ',')
for _, pid in ipairs(members) do
  local tid, qat, again = tidOf[pid], redis.call('HGET', room, 's:' .. pid) or '0', '0'
  if back[pid] then
    again = '1'
  end
  record(pid, table.concat({'c:' .. match, at, mode, ARGV[2], again, ns, tid, qat, deadline, teams, 'null'}, '|'))
end
redis.call('HSET', room, 'state', 'cancelled', 'reason', ARGV[2], 'leaver', ARGV[3],
  'requeued', rq, 'no_shows', ns, 'ended', now)
redis.call('ZREM', KEYS[6], match)
redis.call('HDEL', KEYS[7], match)
redis.call('PEXPIRE', room, ARGV[4])
return {'ok', 'cancelled', rq, ns}
