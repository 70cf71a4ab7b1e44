-- dir_touch: renew a directory entry and record the player's mode, for the
-- owning session only.
-- KEYS[1] directory entry {p:<player>}
-- ARGV[1] session id   ARGV[2] TTL (ms)   ARGV[3] mode ('-' leaves it as is)
-- ARGV[4] node id
-- Reply: 1 renewed; 2 there was no entry (Redis lost it) and it was
-- recreated for the caller; 0 another session owns the player now (the
-- caller was replaced and should stop).
local owner = redis.call('HGET', KEYS[1], 'session')
if not owner then
  redis.call('HSET', KEYS[1], 'node', ARGV[4], 'session', ARGV[1])
  if ARGV[3] ~= '-' then
    redis.call('HSET', KEYS[1], 'mode', ARGV[3])
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 2
end
if owner ~= ARGV[1] then
  return 0
end
if ARGV[3] ~= '-' then
  redis.call('HSET', KEYS[1], 'mode', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
