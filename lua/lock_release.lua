-- lock_release: drop a lease, for its owner only.
-- KEYS[1] lease key {m:<mode>}:lock[:<r>]
-- KEYS[2] (regions only) leaders {m:<mode>}:nodes: the node leaves it, so
--         the others stop leaving leases to a node that is going away
-- ARGV[1] owner token
-- ARGV[2] node id (regions only)
-- Reply: 1 released; 0 the caller did not hold it (nothing changed).
if KEYS[2] then
  redis.call('ZREM', KEYS[2], ARGV[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
