-- lock_acquire: take a mode's matching lease, fenced.
-- KEYS[1] lease key   {m:<mode>}:lock  (STRING owner token, PX ttl)
-- KEYS[2] fence key   {m:<mode>}:fence (STRING counter, never expires)
-- ARGV[1] owner token (random per lease attempt)
-- ARGV[2] ttl in milliseconds
-- Reply: the fencing number of the lease (> 0) when the caller holds it now;
--        0 when another owner holds it.
-- Taking the lease and bumping the fence in one script means no two holders
-- can ever share a fencing number; a claim checks it, so a holder that stalled
-- past its lease cannot form a match after a newer holder took over.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return 0
