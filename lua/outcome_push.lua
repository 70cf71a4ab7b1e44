-- outcome_push: record outcomes for players, for a change made in an earlier
-- step whose script could not name their lists (a forgotten room's members
-- are only known once it has run).
-- KEYS[i] outcomes {m:<mode>}:o:<player> LIST (all of one mode)
-- ARGV[1] TTL of the lists (ms)
-- ARGV[1+i] the record for KEYS[i]; its time field is written here ('@')
-- Reply: the number of records written.
local t = redis.call('TIME')
local now = tostring(t[1] * 1000 + math.floor(t[2] / 1000))
for i, key in ipairs(KEYS) do
  local rec = string.gsub(ARGV[1 + i], '|@|', '|' .. now .. '|', 1)
  redis.call('RPUSH', key, rec)
  redis.call('LTRIM', key, -8, -1)
  redis.call('PEXPIRE', key, ARGV[1])
end
return #KEYS
