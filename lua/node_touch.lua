-- node_touch: renew a node's liveness key, holding Redis's clock of this
-- heartbeat.
-- KEYS[1] the node's liveness key
-- ARGV[1] TTL (ms)
-- Reply: Redis's clock now (ms), which the node measures its clock against.
-- Another node reads the value to tell whether this one heartbeated since a
-- moment (a node that was stopped has not, and may still deliver what it
-- received before it).
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
return now
