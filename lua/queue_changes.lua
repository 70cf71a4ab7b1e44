-- queue_changes: what changed in a mode's queue since the matching leader
-- last looked, so it keeps its copy of the pool without re-reading it.
-- KEYS[1] added   {m:<mode>}:add LIST ticket ids added (enqueue, requeue)
-- KEYS[2] removed {m:<mode>}:del LIST ticket ids removed (cancel, timeout, ban, ...)
-- KEYS[3] tickets {m:<mode>}:t   HASH ticket -> JSON
-- KEYS[4] queue   {m:<mode>}:q   ZSET
-- Reply: {queued, n_added, id_1, json_1, ..., id_n, json_n, removed_id...}
--   queued is the queue's size at this instant: when it differs from the
--   leader's copy after applying the changes, the leader re-reads the pool.
--   An added ticket that already left has an empty JSON.
-- Both lists are emptied: each change is handed out once.
local added = redis.call('LRANGE', KEYS[1], 0, -1)
local removed = redis.call('LRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2])
local reply = {redis.call('ZCARD', KEYS[4]), #added}
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
for _, id in ipairs(removed) do
  reply[#reply + 1] = id
end
return reply
