-- dir_claim: make a session the player's one live session.
-- KEYS[1] directory entry {p:<player>} HASH node, session
-- ARGV[1] node id   ARGV[2] session id   ARGV[3] TTL (ms)
-- Reply: {previous node, previous session} ('' when none). The caller tells
-- the previous session that it was replaced.
local prev = redis.call('HMGET', KEYS[1], 'node', 'session')
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'session', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {prev[1] or '', prev[2] or ''}
