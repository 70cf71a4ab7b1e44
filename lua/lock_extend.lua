-- lock_extend: renew a lease, for its owner only.
-- KEYS[1] lease key {m:<mode>}:lock
-- ARGV[1] owner token
-- ARGV[2] ttl in milliseconds
-- Reply: 1 renewed; 0 the caller no longer holds the lease (expired or taken).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
