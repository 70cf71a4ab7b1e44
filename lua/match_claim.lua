-- match_claim: form one or more matches atomically, under a fenced lease.
-- KEYS[1] lease   {m:<mode>}:lock
-- KEYS[2] fence   {m:<mode>}:fence
-- KEYS[3] queue   {m:<mode>}:q
-- KEYS[4] tickets {m:<mode>}:t
-- KEYS[5] players {m:<mode>}:pl
-- KEYS[6] waits   {m:<mode>}:w
-- KEYS[7] rooms   {m:<mode>}:rooms ZSET match_id -> loading deadline (ms)
-- KEYS[8] owners  {m:<mode>}:own HASH match_id -> owner node (unresolved rooms)
-- KEYS[9] rqfrom  {m:<mode>}:rqf HASH requeued ticket -> the match it left
-- KEYS[9+i] the room hash of the i-th match {m:<mode>}:room:<match_id>
-- ARGV[1] lease owner token      ARGV[2] fencing number of that lease
-- ARGV[3] owner node id          ARGV[4] loading deadline (ms)
-- ARGV[5] room TTL (ms)          ARGV[6] mode name
-- ARGV[7] now (ms)               ARGV[8] number of matches N
-- then for each match: match_id, teams (opaque JSON), member count M,
--                      then M pairs of (ticket id, player id)
-- Reply: {0} when the caller's lease or fence is no longer current (nothing
--        changed); else {1, ok_1, ..., ok_N} where ok_i is 1 when match i was
--        formed and 0 when one of its tickets had already left the queue, or
--        it names a player twice (that match alone is skipped; its other
--        tickets stay queued).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return {0}
end
local reply = {1}
local n = tonumber(ARGV[8])
local a = 9
for i = 1, n do
  local match, teams, m = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local base = a + 3
  a = base + 2 * m
  local ok = 1
  local seen, scores = {}, {}
  for j = 0, m - 1 do
    local tid, pid = ARGV[base + 2 * j], ARGV[base + 2 * j + 1]
    local score = not seen[pid] and redis.call('HGET', KEYS[5], pid) == 'q:' .. tid and redis.call('ZSCORE', KEYS[3], tid)
    if not score then
      ok = 0
      break
    end
    seen[pid] = true
    scores[j] = score
  end
  if ok == 1 then
    local room = KEYS[9 + i]
    local members = {}
    -- One HSET writes the whole room: its members' tickets and its header.
    local fields = {}
    for j = 0, m - 1 do
      local tid, pid = ARGV[base + 2 * j], ARGV[base + 2 * j + 1]
      members[#members + 1] = pid
      fields[#fields + 1] = 'i:' .. pid
      fields[#fields + 1] = tid
      fields[#fields + 1] = 's:' .. pid
      fields[#fields + 1] = scores[j]
      fields[#fields + 1] = 't:' .. pid
      fields[#fields + 1] = redis.call('HGET', KEYS[4], tid)
      redis.call('ZREM', KEYS[3], tid)
      redis.call('HDEL', KEYS[4], tid)
      redis.call('ZREM', KEYS[6], tid)
      redis.call('HDEL', KEYS[9], tid)
      redis.call('HSET', KEYS[5], pid, 'm:' .. match)
    end
    redis.call('HSET', room, 'state', 'loading', 'owner', ARGV[3], 'deadline', ARGV[4],
      'mode', ARGV[6], 'match', match, 'teams', teams,
      'members', table.concat(members, ','), 'created', ARGV[7], unpack(fields))
    redis.call('PEXPIRE', room, ARGV[5])
    redis.call('ZADD', KEYS[7], ARGV[4], match)
    redis.call('HSET', KEYS[8], match, ARGV[3])
  end
  reply[#reply + 1] = ok
end
return reply
