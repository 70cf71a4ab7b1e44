-- lock_acquire: take a matching lease (a mode's, or one region's of a mode
-- with regions), fenced.
-- KEYS[1] lease key   {m:<mode>}:lock[:<r>]  (STRING owner token, PX ttl)
-- KEYS[2] fence key   {m:<mode>}:fence[:<r>] (STRING counter, never expires)
-- For a region's lease, to spread a mode's regions over its nodes:
-- KEYS[3] leaders     {m:<mode>}:nodes ZSET node -> when it last asked (ms)
-- KEYS[4..] the lease key of every region of the mode (KEYS[1] among them)
-- ARGV[1] owner token (random per lease attempt; "<node>|<random>" for a
--         region's lease, so a lease tells which node holds it)
-- ARGV[2] ttl in milliseconds
-- ARGV[3] node id (regions only)
-- Reply: the fencing number of the lease (> 0) when the caller holds it now;
--        0 when another owner holds it, or (regions) when the caller already
--        leads some of the mode's regions and another live node leads fewer:
--        that node takes it instead.
-- Taking the lease and bumping the fence in one script means no two holders
-- can ever share a fencing number; a claim checks it, so a holder that stalled
-- past its lease cannot form a match after a newer holder took over.
if #KEYS > 2 then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local ttl = tonumber(ARGV[2])
  local me = ARGV[3]
  -- A node is live while it asked within a lease's lifetime; asking is
  -- what every standby does each tick, and the holder at each renewal.
  redis.call('ZADD', KEYS[3], now, me)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ttl)
  redis.call('PEXPIRE', KEYS[3], 3 * ttl)
  local cur = redis.call('GET', KEYS[1])
  if not cur then
    local held = {}
    for i = 4, #KEYS do
      local v = redis.call('GET', KEYS[i])
      if v then
        local n = string.match(v, '^(.*)|[^|]*$') or v
        held[n] = (held[n] or 0) + 1
      end
    end
    local mine = held[me] or 0
    if mine > 0 then
      for _, n in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
        if n ~= me and (held[n] or 0) < mine then
          return 0
        end
      end
    end
  end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return 0
