-- lock_extend: renew a lease, for its owner only.
-- KEYS[1] lease key {m:<mode>}:lock[:<r>]
-- For a region's lease (see lock_acquire):
-- KEYS[2] leaders   {m:<mode>}:nodes ZSET node -> when it last asked (ms)
-- KEYS[3..] the lease key of every region of the mode, in config order
-- ARGV[1] owner token
-- ARGV[2] ttl in milliseconds
-- ARGV[3] node id (regions only)
-- Reply: 1 renewed; 0 the caller no longer holds the lease (expired or
-- taken); 2 (regions) the caller handed it back: every region is led, the
-- caller leads at least two more than some other live node, and this is
-- the last of its leases in config order (so one lease moves at a time,
-- and the node that leads fewest takes it, see lock_acquire).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if #KEYS > 1 then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local ttl = tonumber(ARGV[2])
  local me = ARGV[3]
  redis.call('ZADD', KEYS[2], now, me)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
  redis.call('PEXPIRE', KEYS[2], 3 * ttl)
  local held, free, last = {}, false, nil
  for i = 3, #KEYS do
    local v = redis.call('GET', KEYS[i])
    if v then
      local n = string.match(v, '^(.*)|[^|]*$') or v
      held[n] = (held[n] or 0) + 1
      if n == me then
        last = KEYS[i]
      end
    else
      free = true
    end
  end
  local mine = held[me] or 0
  if not free and last == KEYS[1] then
    for _, n in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
      if n ~= me and (held[n] or 0) <= mine - 2 then
        redis.call('DEL', KEYS[1])
        return 2
      end
    end
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
