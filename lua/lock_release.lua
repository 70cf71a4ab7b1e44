-- lock_release: drop a lease, for its owner only.
-- KEYS[1] lease key {m:<mode>}:lock[:<r>]
-- KEYS[2], KEYS[3] (regions only) leaders {m:<mode>}:nodes and homes
--         {m:<mode>}:homes: the node leaves them, so the others stop
--         leaving leases to a node that is going away
-- ARGV[1] owner token
-- ARGV[2] node id (regions only)
-- Reply: 1 released; 0 the caller did not hold it (nothing changed).
if KEYS[2] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HDEL', KEYS[3], ARGV[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
