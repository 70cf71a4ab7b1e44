-- ticket_remove: take a player's ticket out of a mode's queue, recording why.
-- KEYS[1] queue    {m:<mode>}:q
-- KEYS[2] tickets  {m:<mode>}:t
-- KEYS[3] players  {m:<mode>}:pl
-- KEYS[4] waits    {m:<mode>}:w
-- KEYS[5] removed  {m:<mode>}:del LIST tickets removed since the leader last looked
-- KEYS[6] outcomes {m:<mode>}:o:<player> LIST the player's outcomes not yet told
-- KEYS[7..6+N] the outcome lists of the other members of a party ticket,
--          as ARGV names them
-- KEYS[7+N..] for a mode with regions, pairs of (region pool {m:<mode>}:rq:<r>,
--          its removed list {m:<mode>}:del:<r>) of every region of the mode:
--          the ticket leaves each pool that lists it, and that region's
--          leader is told; KEYS[5] is then not written
-- ARGV[1] player id
-- ARGV[2] ticket id that the caller means, or '' for whatever the player has
-- ARGV[3] reason of PROTOCOL.md's dequeued ('cancelled', 'timeout', 'banned',
--         'disconnected', 'draining', 'party_changed'); '' records nothing
-- ARGV[4] TTL of the outcome list (ms)
-- ARGV[5] mode name
-- ARGV[6] N, the number of other members the caller names (0 when it
--         believes the ticket solo); ARGV[7..6+N] their player ids
-- Reply: {1, ticket, outcome...} removed; the outcomes are every record in the
--        player's list for this mode, this removal's last (when recorded);
--        {0, entry} nothing removed: the player has no ticket here ('' entry),
--        or is already in a room ("m:<match_id>"), or holds another ticket;
--        {-1, ticket JSON} nothing removed: the ticket is a party's and the
--        caller did not name all its other members (it retries naming them).
-- A party ticket leaves the queue whole: every member's entry goes, and
-- every member's list records why, so each member's session tells it.
-- Removing only a named ticket keeps a late cancel or timeout from touching a
-- ticket that a requeue created since. The outcome is written in the same
-- step as the removal, so whoever later finds the ticket gone also finds why.
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if not cur or string.sub(cur, 1, 2) ~= 'q:' then
  return {0, cur or ''}
end
local id = string.sub(cur, 3)
if ARGV[2] ~= '' and ARGV[2] ~= id then
  return {0, cur}
end
local n = tonumber(ARGV[6] or '0')
local okey = {}
for i = 1, n do
  okey[ARGV[6 + i]] = KEYS[6 + i]
end
local others = {}
local body = redis.call('HGET', KEYS[2], id)
if body and string.find(body, '"members":', 1, true) then
  local t = cjson.decode(body)
  for _, m in ipairs(t.members or {}) do
    if m.player ~= ARGV[1] then
      if not okey[m.player] then
        return {-1, body}
      end
      others[#others + 1] = m.player
    end
  end
end
local score = redis.call('ZSCORE', KEYS[1], id) or '0'
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('HDEL', KEYS[3], ARGV[1])
for _, p in ipairs(others) do
  if redis.call('HGET', KEYS[3], p) == 'q:' .. id then
    redis.call('HDEL', KEYS[3], p)
  end
end
redis.call('ZREM', KEYS[4], id)
if #KEYS > 6 + n then
  for i = 7 + n, #KEYS, 2 do
    if redis.call('ZREM', KEYS[i], id) == 1 then
      redis.call('RPUSH', KEYS[i + 1], id)
    end
  end
else
  redis.call('RPUSH', KEYS[5], id)
end
if ARGV[3] ~= '' then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  -- Outcome record: id|at|mode|reason|requeued|no_shows|ticket|queued_at|deadline|teams|server
  local rec = table.concat({'d:' .. id, now, ARGV[5], ARGV[3], '0', '', id, score, '0', '[]', 'null'}, '|')
  redis.call('RPUSH', KEYS[6], rec)
  redis.call('LTRIM', KEYS[6], -8, -1)
  redis.call('PEXPIRE', KEYS[6], ARGV[4])
  for _, p in ipairs(others) do
    redis.call('RPUSH', okey[p], rec)
    redis.call('LTRIM', okey[p], -8, -1)
    redis.call('PEXPIRE', okey[p], ARGV[4])
  end
end
local reply = {1, id}
for _, o in ipairs(redis.call('LRANGE', KEYS[6], 0, -1)) do
  reply[#reply + 1] = o
end
return reply
