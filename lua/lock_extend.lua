-- lock_extend: renew a lease, for its owner only.
-- KEYS[1] lease key {m:<mode>}:lock[:<r>]
-- For a region's lease (see lock_acquire):
-- KEYS[2] leaders   {m:<mode>}:nodes ZSET node -> when it last asked (ms)
-- KEYS[3] homes     {m:<mode>}:homes HASH node -> ",<region>,..."
-- KEYS[4..] the lease key of every region of the mode, in config order
-- ARGV[1] owner token
-- ARGV[2] ttl in milliseconds
-- ARGV[3] node id (regions only)
-- ARGV[4] the caller's home regions, ",eu,asia," ("," for none)
-- ARGV[5] the lease's region
-- ARGV[6..] the region of each lease key of KEYS[4..], in the same order
-- Reply: 1 renewed; 0 the caller no longer holds the lease (expired or
-- taken); 2 (regions) the caller handed it back, for another live node to
-- take (see lock_acquire): the region is that node's home and not the
-- caller's; or every region is led, the caller leads at least two more
-- than some other live node, and this is the last of its leases in config
-- order that is not its home (so one lease moves at a time, to the node
-- that leads fewest).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if #KEYS > 1 then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local ttl = tonumber(ARGV[2])
  local me, region = ARGV[3], ',' .. ARGV[5] .. ','
  for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl)) do
    redis.call('ZREM', KEYS[2], n)
    redis.call('HDEL', KEYS[3], n)
  end
  redis.call('ZADD', KEYS[2], now, me)
  redis.call('HSET', KEYS[3], me, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], 3 * ttl)
  redis.call('PEXPIRE', KEYS[3], 3 * ttl)
  local live = redis.call('ZRANGE', KEYS[2], 0, -1)
  if not string.find(ARGV[4], region, 1, true) then
    for _, n in ipairs(live) do
      if n ~= me and string.find(redis.call('HGET', KEYS[3], n) or ',', region, 1, true) then
        redis.call('DEL', KEYS[1])
        return 2
      end
    end
  end
  local held, free, last = {}, false, nil
  for i = 4, #KEYS do
    local v = redis.call('GET', KEYS[i])
    if v then
      local n = string.match(v, '^(.*)|[^|]*$') or v
      held[n] = (held[n] or 0) + 1
      if n == me and not string.find(ARGV[4], ',' .. ARGV[i + 2] .. ',', 1, true) then
        last = KEYS[i]
      end
    else
      free = true
    end
  end
  local mine = held[me] or 0
  if not free and last == KEYS[1] then
    for _, n in ipairs(live) do
      if n ~= me and (held[n] or 0) <= mine - 2 then
        redis.call('DEL', KEYS[1])
        return 2
      end
    end
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
