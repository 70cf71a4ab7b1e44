-- server_remove: deregister a game server.
-- KEYS[1] the registration {gs}:<id>   KEYS[2] the index {gs}:idx
-- ARGV[1] id
-- Reply: 1 when it was registered.
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
