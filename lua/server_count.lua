-- server_count: count a match sent to a registered game server.
-- KEYS[1] the registration {gs}:<id>
-- Reply: 1 counted; 0 the registration lapsed (nothing is written: a
-- registration is only ever created by its server's own heartbeat, so a
-- count never brings back a server that stopped renewing, nor a key
-- without a TTL).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'allocated', 1)
return 1
