-- ticket_enqueue: queue a player in a mode, idempotently.
-- KEYS[1] queue    {m:<mode>}:q  ZSET ticket -> priority (original queue time, ms)
-- KEYS[2] tickets  {m:<mode>}:t  HASH ticket -> ticket JSON
-- KEYS[3] players  {m:<mode>}:pl HASH player -> "q:<ticket>" | "m:<match_id>"
-- KEYS[4] waits    {m:<mode>}:w  ZSET ticket -> start of this wait (ms), for max_wait
-- KEYS[5] added    {m:<mode>}:add LIST tickets added since the leader last looked
-- KEYS[6] outcomes {m:<mode>}:o:<player> LIST the player's outcomes not yet told
-- KEYS[7..] for a mode with regions, pairs of (region pool {m:<mode>}:rq:<r>,
--          its added list {m:<mode>}:add:<r>) of every region whose pool
--          lists the ticket; then KEYS[5] is not written (each region's
--          leader reads its own list)
-- ARGV[1] player id
-- ARGV[2] new ticket id
-- ARGV[3] queue time (ms), '0' for now: a ticket put back after Redis lost
--         it keeps its original time; a new one is stamped with Redis's
--         clock, so tickets of every node are ordered by one clock
-- ARGV[4] ticket JSON, whose "queued_at_ms":0 is stamped likewise
-- ARGV[5] N, the number of other members of a party ticket (0 for a solo
--         player); ARGV[6..5+N] their player ids. Every member is seated
--         by the ticket (its entry 'q:<ticket>'), so each member's own
--         session, cancel and outcomes work as a solo player's do.
-- Reply: {status, id, json, queued_at, outcome...}
--   status 1: created; id/json/queued_at are the new ticket; the outcomes
--             are the player's records in this mode, handed over and
--             removed: a new ticket supersedes them, and the caller tells
--             those it has not told yet before its reply
--   status 0: the player already has a ticket here; id/json/queued_at are
--             that ticket
--   status -1: the player sits in a loading room of this mode; id is the match id
--   status -2: another member holds something in this mode (a ticket of its
--             own, or a seat in a room); id lists them, comma-separated
local n = tonumber(ARGV[5] or '0')
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if cur then
  local kind, ref = string.sub(cur, 1, 2), string.sub(cur, 3)
  if kind == 'm:' then
    return {-1, ref, '', 0}
  end
  local js = redis.call('HGET', KEYS[2], ref)
  if js then
    return {0, ref, js, redis.call('ZSCORE', KEYS[1], ref) or '0'}
  end
end
local busy = {}
for i = 1, n do
  local e = redis.call('HGET', KEYS[3], ARGV[5 + i])
  if e and e ~= 'q:' .. ARGV[2] then
    busy[#busy + 1] = ARGV[5 + i]
  end
end
if #busy > 0 then
  return {-2, table.concat(busy, ','), '', 0}
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local at, js = ARGV[3], ARGV[4]
if at == '0' then
  at = tostring(now)
  js = string.gsub(js, '"queued_at_ms":0', '"queued_at_ms":' .. at, 1)
end
redis.call('ZADD', KEYS[1], at, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], js)
redis.call('HSET', KEYS[3], ARGV[1], 'q:' .. ARGV[2])
redis.call('ZADD', KEYS[4], now, ARGV[2])
for i = 1, n do
  -- A member's untold outcomes stay: its session tells them (history, a
  -- match it missed) before it takes the party's new ticket, since a read
  -- of Redis applies outcomes before the position.
  redis.call('HSET', KEYS[3], ARGV[5 + i], 'q:' .. ARGV[2])
end
if #KEYS > 6 then
  for i = 7, #KEYS, 2 do
    redis.call('ZADD', KEYS[i], at, ARGV[2])
    redis.call('RPUSH', KEYS[i + 1], ARGV[2])
  end
else
  redis.call('RPUSH', KEYS[5], ARGV[2])
end
local reply = {1, ARGV[2], js, at}
local outcomes = redis.call('LRANGE', KEYS[6], 0, -1)
if #outcomes > 0 then
  for _, o in ipairs(outcomes) do
    reply[#reply + 1] = o
  end
  redis.call('DEL', KEYS[6])
end
return reply
