-- room_ready: mark a member of a loading room as loaded and, when asked,
-- start the match in the same step once every member has loaded.
-- KEYS[1] room    {m:<mode>}:room:<match_id>
-- KEYS[2] players {m:<mode>}:pl    (KEYS[2..] only with ARGV[2] = 'start')
-- KEYS[3] rooms   {m:<mode>}:rooms
-- KEYS[4] owners  {m:<mode>}:own
-- KEYS[4+i] outcomes {m:<mode>}:o:<player> of the member named by ARGV[5+i]
-- ARGV[1] player id
-- ARGV[2] 'start' to start the match here when this mark completes it (no
--         allocator to ask: the start is what room_resolve 'start' does,
--         with server null); '' to only mark
-- ARGV[3] TTL of the finished record (ms), for 'start'
-- ARGV[4] the time (ms, Redis's clock) the mark reached the node at the
--         latest, when the node knows it was stalled and read it late ('0':
--         now): the deadline is judged by Redis's clock, not the node's
-- ARGV[5] TTL of the outcome lists (ms), ARGV[5+i] member ids: for 'start'
-- Reply: {state, new, members, ready, owner, started}
--   state: 'loading' when the mark applies; 'late' when it came after the
--          loading deadline (refused: the room ends as a timeout);
--          otherwise the room's state ('allocating', 'started',
--          'cancelled') or 'gone' / 'not_member'
--   new:   1 when this call marked the player, 0 for a repeat
--   members, ready: comma-separated player ids (all members; those loaded)
--   owner: the node driving the room, which the caller notifies
--   started: 1 when this call started the match (the caller announces it)
local st = redis.call('HGET', KEYS[1], 'state')
if not st then
  return {'gone', 0, '', '', '', 0}
end
if redis.call('HEXISTS', KEYS[1], 'i:' .. ARGV[1]) == 0 then
  return {'not_member', 0, '', '', '', 0}
end
local members = redis.call('HGET', KEYS[1], 'members')
local okey = {}
if ARGV[2] == 'start' then
  -- Every member's outcome list must be named before anything is written:
  -- a refused call must change nothing.
  for i = 6, #ARGV do
    okey[ARGV[i]] = KEYS[i - 1]
  end
  for pid in string.gmatch(members, '[^,]+') do
    if not okey[pid] then
      return redis.error_reply('room_ready: no outcome key for member ' .. pid)
    end
  end
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local arrived = tonumber(ARGV[4] or '0') or 0
if arrived <= 0 or arrived > now then
  arrived = now
end
local new = 0
if st == 'loading' then
  if arrived > tonumber(redis.call('HGET', KEYS[1], 'deadline')) and redis.call('HEXISTS', KEYS[1], 'r:' .. ARGV[1]) == 0 then
    local ready = {}
    for pid in string.gmatch(members, '[^,]+') do
      if redis.call('HEXISTS', KEYS[1], 'r:' .. pid) == 1 then
        ready[#ready + 1] = pid
      end
    end
    return {'late', 0, members, table.concat(ready, ','), redis.call('HGET', KEYS[1], 'owner') or '', 0}
  end
  new = redis.call('HSETNX', KEYS[1], 'r:' .. ARGV[1], '1')
end
local ready, all = {}, true
for pid in string.gmatch(members, '[^,]+') do
  if redis.call('HEXISTS', KEYS[1], 'r:' .. pid) == 1 then
    ready[#ready + 1] = pid
  else
    all = false
  end
end
local owner = redis.call('HGET', KEYS[1], 'owner') or ''
if new == 1 and all and ARGV[2] == 'start' then
  local match = redis.call('HGET', KEYS[1], 'match')
  local at = now
  local mode, deadline, teams = redis.call('HGET', KEYS[1], 'mode'), redis.call('HGET', KEYS[1], 'deadline'), redis.call('HGET', KEYS[1], 'teams')
  for pid in string.gmatch(members, '[^,]+') do
    if redis.call('HGET', KEYS[2], pid) == 'm:' .. match then
      redis.call('HDEL', KEYS[2], pid)
    end
    -- Outcome record: id|at|mode|reason|requeued|no_shows|ticket|queued_at|deadline|teams|server
    -- (the ticket the match seated, as room_resolve records it)
    redis.call('RPUSH', okey[pid], table.concat({'s:' .. match, at, mode, '', '0', '', redis.call('HGET', KEYS[1], 'i:' .. pid) or '',
      redis.call('HGET', KEYS[1], 's:' .. pid) or '0', deadline, teams, 'null'}, '|'))
    redis.call('LTRIM', okey[pid], -8, -1)
    redis.call('PEXPIRE', okey[pid], ARGV[5])
  end
  redis.call('HSET', KEYS[1], 'state', 'started', 'server', 'null', 'ended', now)
  redis.call('ZREM', KEYS[3], match)
  redis.call('HDEL', KEYS[4], match)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'started', 1, members, table.concat(ready, ','), owner, 1}
end
return {st, new, members, table.concat(ready, ','), owner, 0}
