-- queue_changes: what changed in a lane's pool (a mode's queue, or one
-- region's pool of it) since its matching leader last looked, so it keeps its copy of the pool without re-reading it; and
-- the tickets whose wait passed max_wait, by Redis's clock. Fenced like the
-- claim: the lists are emptied as they are read, so only the current lease
-- holder may read them (a leader that stalled past its lease would consume
-- the changes its successor needs).
-- KEYS[1] added   {m:<mode>}:add[:<r>] LIST ticket ids added (enqueue, requeue)
-- KEYS[2] removed {m:<mode>}:del[:<r>] LIST ticket ids removed (cancel, timeout, ban, claim elsewhere)
-- KEYS[3] tickets {m:<mode>}:t   HASH ticket -> JSON
-- KEYS[4] pool    {m:<mode>}:q, or a region's {m:<mode>}:rq:<r>  ZSET
-- KEYS[5] lease   {m:<mode>}:lock[:<r>]
-- KEYS[6] fence   {m:<mode>}:fence[:<r>]
-- KEYS[7] waits   {m:<mode>}:w   ZSET ticket -> start of its current wait (ms)
-- KEYS[8] queue   {m:<mode>}:q   ZSET, every ticket of the mode
-- ARGV[1] lease owner token   ARGV[2] fencing number of that lease
-- ARGV[3] max_wait (ms)
-- Reply: {0} when the caller's lease or fence is not current (nothing read,
--   nothing emptied); else
--   {1, now, queued, mode_queued, n_added, id_1, json_1, ..., id_n, json_n,
--    n_removed, removed_id..., expired_id...}
--   now is Redis's clock (ms), which the leader matches by; queued is the
--   pool's size at this instant: when it differs from the leader's copy
--   after applying the changes, the leader re-reads the pool; mode_queued
--   is the whole mode's. An added ticket that already left has an empty
--   JSON. expired are the pool's tickets whose current wait began max_wait
--   or longer ago (a ticket listed in several regions' pools is reported
--   to each of their leaders; the first removal wins).
if redis.call('GET', KEYS[5]) ~= ARGV[1] or redis.call('GET', KEYS[6]) ~= ARGV[2] then
  return {0}
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local added = redis.call('LRANGE', KEYS[1], 0, -1)
local removed = redis.call('LRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2])
local reply = {1, now, redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[8]), #added}
-- The tickets' bodies in a few HMGETs (chunks within Lua's unpack limit)
-- rather than one HGET each.
for i = 1, #added, 4000 do
  local part = {}
  for j = i, math.min(i + 3999, #added) do
    part[#part + 1] = added[j]
  end
  local bodies = redis.call('HMGET', KEYS[3], unpack(part))
  for j, id in ipairs(part) do
    reply[#reply + 1] = id
    reply[#reply + 1] = bodies[j] or ''
  end
end
reply[#reply + 1] = #removed
for _, id in ipairs(removed) do
  reply[#reply + 1] = id
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now - tonumber(ARGV[3]))) do
  if KEYS[4] == KEYS[8] or redis.call('ZSCORE', KEYS[4], id) then
    reply[#reply + 1] = id
  end
end
return reply
