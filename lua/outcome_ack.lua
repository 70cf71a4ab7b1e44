-- outcome_ack: forget outcomes a session has told its client.
-- KEYS[i] outcomes {m:<mode>}:o:<player> LIST (all of one mode)
-- ARGV[i] the id of the last outcome told from KEYS[i] ('<kind>:<ref>')
-- Reply: the number of lists changed.
-- Each list loses the told record and every record before it; a record
-- written after the session read the list stays, so nothing untold is lost.
-- Many players' acknowledgements go in one call, per mode and per batch.
local changed = 0
for i, key in ipairs(KEYS) do
  local list = redis.call('LRANGE', key, 0, -1)
  local prefix = ARGV[i] .. '|'
  for j, rec in ipairs(list) do
    if string.sub(rec, 1, #prefix) == prefix then
      if j == #list then
        redis.call('DEL', key)
      else
        redis.call('LTRIM', key, j, -1)
      end
      changed = changed + 1
      break
    end
  end
end
return changed
