-- match_claim: form one or more matches atomically, under a fenced lease.
-- KEYS[1] lease   {m:<mode>}:lock, or a region's {m:<mode>}:lock:<r>
-- KEYS[2] fence   {m:<mode>}:fence, or a region's {m:<mode>}:fence:<r>
-- KEYS[3] queue   {m:<mode>}:q
-- KEYS[4] tickets {m:<mode>}:t
-- KEYS[5] players {m:<mode>}:pl
-- KEYS[6] waits   {m:<mode>}:w
-- KEYS[7] rooms   {m:<mode>}:rooms ZSET match_id -> loading deadline (ms)
-- KEYS[8] owners  {m:<mode>}:own HASH match_id -> owner node (unresolved rooms)
-- KEYS[8+i] the room hash of the i-th match {m:<mode>}:room:<match_id>
-- KEYS[8+N+..] for a mode with regions, pairs of (region pool
--          {m:<mode>}:rq:<r>, its removed list {m:<mode>}:del:<r>) of every
--          region of the mode, in the order ARGV names them
-- ARGV[1] lease owner token      ARGV[2] fencing number of that lease
-- ARGV[3] owner node id          ARGV[4] loading timeout (ms)
-- ARGV[5] room TTL (ms)          ARGV[6] mode name
-- ARGV[7] the region the matches are played in ('' without regions)
-- ARGV[8] number of matches N
-- then for each match: match_id, teams (opaque JSON), member count M,
--                      then M pairs of (ticket id, player id)
-- then the number of regions L (0 without regions) and their names.
-- Every region of a mode shares the mode's players hash and tickets, so a
-- ticket listed in several regions' pools is claimed once whichever
-- region's leader gets there first: the others find its player's entry
-- moved. A formed ticket leaves every region's pool, each region's leader
-- is told (its removed list), and the room remembers which pools listed it
-- ('l:<player>'), so a requeue lists it there again.
-- Reply: {0} when the caller's lease or fence is no longer current (nothing
--        changed); else {1, deadline, ok_1, ..., ok_N} where deadline is the
--        rooms' loading deadline (Redis's clock now + the loading timeout:
--        one clock judges every member, whichever node it is on) and ok_i is
--        1 when match i was formed and 0 when one of its tickets had already
--        left the queue, or it names a player twice (that match alone is
--        skipped; its other tickets stay queued).
-- The work is done in a few calls for the whole batch rather than a few per
-- ticket: a tick claims hundreds of matches, and Redis runs nothing else
-- while this script runs.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return {0}
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local deadline = now + tonumber(ARGV[4])

-- Calls with one argument per item, in chunks that stay within Lua's limit
-- on unpacked values.
local CHUNK = 4000
local function each(cmd, key, items, per)
  local out = {}
  for i = 1, #items, CHUNK do
    local part = {}
    for j = i, math.min(i + CHUNK - 1, #items) do
      part[#part + 1] = items[j]
    end
    local r = redis.call(cmd, key, unpack(part))
    if per then
      for _, v in ipairs(r) do
        out[#out + 1] = v
      end
    end
  end
  return out
end

-- Read every match's tickets and players at once.
local n = tonumber(ARGV[8])
local matches, tids, pids = {}, {}, {}
local a = 9
for i = 1, n do
  local m = tonumber(ARGV[a + 2])
  local first = #tids + 1
  for j = 0, m - 1 do
    tids[#tids + 1] = ARGV[a + 3 + 2 * j]
    pids[#pids + 1] = ARGV[a + 4 + 2 * j]
  end
  matches[i] = {id = ARGV[a], teams = ARGV[a + 1], first = first, last = #tids}
  a = a + 3 + 2 * m
end
-- Each region's name, pool and removed list, in config order.
local lname, lpool, ldel = {}, {}, {}
for j = 1, tonumber(ARGV[a] or '0') do
  lname[j] = ARGV[a + j]
  lpool[j] = KEYS[8 + n + 2 * j - 1]
  ldel[j] = KEYS[8 + n + 2 * j]
end
local entries = #pids > 0 and each('HMGET', KEYS[5], pids, true) or {}
local scores = #tids > 0 and each('ZMSCORE', KEYS[3], tids, true) or {}
local bodies = #tids > 0 and each('HMGET', KEYS[4], tids, true) or {}
-- listed[j][k]: whether region j's pool lists ticket k.
local listed = {}
for j = 1, #lpool do
  listed[j] = #tids > 0 and each('ZMSCORE', lpool[j], tids, true) or {}
end
-- lgone[j]: the formed tickets region j's pool listed.
local lgone = {}

-- A match forms when each of its players still holds exactly its ticket,
-- which is still queued, and no player appears twice in the batch's formed
-- matches.
local reply = {1, deadline}
local taken = {}
local gone, moved, roomsZ, owners = {}, {}, {}, {}
for i = 1, n do
  local mt = matches[i]
  local ok = 1
  local seen = {}
  for k = mt.first, mt.last do
    local pid = pids[k]
    if seen[pid] or taken[pid] or entries[k] ~= 'q:' .. tids[k] or not scores[k] or not bodies[k] then
      ok = 0
      break
    end
    seen[pid] = true
  end
  if ok == 1 then
    local members, fields = {}, {}
    for k = mt.first, mt.last do
      local pid, tid = pids[k], tids[k]
      taken[pid] = true
      members[#members + 1] = pid
      gone[#gone + 1] = tid
      moved[#moved + 1] = pid
      moved[#moved + 1] = 'm:' .. mt.id
      fields[#fields + 1] = 'i:' .. pid
      fields[#fields + 1] = tid
      fields[#fields + 1] = 's:' .. pid
      fields[#fields + 1] = scores[k]
      fields[#fields + 1] = 't:' .. pid
      fields[#fields + 1] = bodies[k]
      if #lpool > 0 then
        local in_lanes = {}
        for j = 1, #lpool do
          if listed[j][k] then
            in_lanes[#in_lanes + 1] = lname[j]
            lgone[j] = lgone[j] or {}
            lgone[j][#lgone[j] + 1] = tid
          end
        end
        fields[#fields + 1] = 'l:' .. pid
        fields[#fields + 1] = table.concat(in_lanes, ',')
      end
    end
    local room = KEYS[8 + i]
    if ARGV[7] ~= '' then
      fields[#fields + 1] = 'region'
      fields[#fields + 1] = ARGV[7]
    end
    redis.call('HSET', room, 'state', 'loading', 'owner', ARGV[3], 'deadline', deadline,
      'mode', ARGV[6], 'match', mt.id, 'teams', mt.teams,
      'members', table.concat(members, ','), 'created', now, unpack(fields))
    redis.call('PEXPIRE', room, ARGV[5])
    roomsZ[#roomsZ + 1] = deadline
    roomsZ[#roomsZ + 1] = mt.id
    owners[#owners + 1] = mt.id
    owners[#owners + 1] = ARGV[3]
  end
  reply[#reply + 1] = ok
end

-- Move the formed matches' tickets out of the queue, all at once.
if #gone > 0 then
  each('ZREM', KEYS[3], gone)
  each('HDEL', KEYS[4], gone)
  each('ZREM', KEYS[6], gone)
  each('HSET', KEYS[5], moved)
  each('ZADD', KEYS[7], roomsZ)
  each('HSET', KEYS[8], owners)
  for j = 1, #lpool do
    if lgone[j] then
      each('ZREM', lpool[j], lgone[j])
      each('RPUSH', ldel[j], lgone[j])
    end
  end
end
return reply
