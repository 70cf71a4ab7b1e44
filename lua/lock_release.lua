-- lock_release: drop a lease, for its owner only.
-- KEYS[1] lease key {m:<mode>}:lock
-- ARGV[1] owner token
-- Reply: 1 released; 0 the caller did not hold it (nothing changed).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
