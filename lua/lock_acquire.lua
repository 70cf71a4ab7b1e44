-- lock_acquire: take a matching lease (a mode's, or one region's of a mode
-- with regions), fenced.
-- KEYS[1] lease key   {m:<mode>}:lock[:<r>]  (STRING owner token, PX ttl)
-- KEYS[2] fence key   {m:<mode>}:fence[:<r>] (STRING counter, never expires)
-- For a region's lease, to spread a mode's regions over its nodes:
-- KEYS[3] leaders     {m:<mode>}:nodes ZSET node -> when it last asked (ms)
-- KEYS[4] homes       {m:<mode>}:homes HASH node -> ",<region>,..." it prefers to lead
-- KEYS[5..] the lease key of every region of the mode (KEYS[1] among them)
-- ARGV[1] owner token (random per lease attempt; "<node>|<random>" for a
--         region's lease, so a lease tells which node holds it)
-- ARGV[2] ttl in milliseconds
-- ARGV[3] node id (regions only)
-- ARGV[4] the caller's home regions, ",eu,asia," ("," for none; regions only)
-- ARGV[5] the lease's region (regions only)
-- Reply: the fencing number of the lease (> 0) when the caller holds it now;
--        0 when another owner holds it, or (regions) when another live node
--        should take it: one whose home the region is (and the caller's it
--        is not), or, the region being home to no other live node, one that
--        leads fewer of the mode's regions than the caller (who leads some).
-- Taking the lease and bumping the fence in one script means no two holders
-- can ever share a fencing number; a claim checks it, so a holder that stalled
-- past its lease cannot form a match after a newer holder took over.
if #KEYS > 2 then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local ttl = tonumber(ARGV[2])
  local me, region = ARGV[3], ',' .. ARGV[5] .. ','
  -- A node is live while it asked within a lease's lifetime; asking is
  -- what every standby does each tick, and the holder at each renewal.
  for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - ttl)) do
    redis.call('ZREM', KEYS[3], n)
    redis.call('HDEL', KEYS[4], n)
  end
  redis.call('ZADD', KEYS[3], now, me)
  redis.call('HSET', KEYS[4], me, ARGV[4])
  redis.call('PEXPIRE', KEYS[3], 3 * ttl)
  redis.call('PEXPIRE', KEYS[4], 3 * ttl)
  if not redis.call('GET', KEYS[1]) and not string.find(ARGV[4], region, 1, true) then
    local live = redis.call('ZRANGE', KEYS[3], 0, -1)
    local homeElsewhere = false
    for _, n in ipairs(live) do
      if n ~= me and string.find(redis.call('HGET', KEYS[4], n) or ',', region, 1, true) then
        homeElsewhere = true
      end
    end
    if homeElsewhere then
      return 0
    end
    local held = {}
    for i = 5, #KEYS do
      local v = redis.call('GET', KEYS[i])
      if v then
        local n = string.match(v, '^(.*)|[^|]*$') or v
        held[n] = (held[n] or 0) + 1
      end
    end
    local mine = held[me] or 0
    if mine > 0 then
      for _, n in ipairs(live) do
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
