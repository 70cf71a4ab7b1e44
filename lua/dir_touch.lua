-- dir_touch: renew a directory entry, for the owning session only.
-- KEYS[1] directory entry {p:<player>}
-- ARGV[1] session id   ARGV[2] TTL (ms)   ARGV[3] node id
-- Reply: 1 renewed; 2 there was no entry (Redis lost it, or it lapsed) and it
-- was recreated for the caller; 0 another session owns the player now (the
-- caller was replaced and should stop).
-- The node renews all its sessions' entries in one pipelined batch of these.
local owner = redis.call('HGET', KEYS[1], 'session')
if not owner then
  redis.call('HSET', KEYS[1], 'node', ARGV[3], 'session', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 2
end
if owner ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
