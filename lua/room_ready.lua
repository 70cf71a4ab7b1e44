-- room_ready: mark a member of a loading room as loaded.
-- KEYS[1] room {m:<mode>}:room:<match_id>
-- ARGV[1] player id
-- Reply: {state, new, members, ready, owner}
--   state: 'loading' when the mark applies; otherwise the room's state
--          ('allocating', 'started', 'cancelled') or 'gone' / 'not_member'
--   new:   1 when this call marked the player, 0 for a repeat
--   members, ready: comma-separated player ids (all members; those loaded)
--   owner: the node driving the room, which the caller notifies
local st = redis.call('HGET', KEYS[1], 'state')
if not st then
  return {'gone', 0, '', '', ''}
end
if redis.call('HEXISTS', KEYS[1], 'i:' .. ARGV[1]) == 0 then
  return {'not_member', 0, '', '', ''}
end
local members = redis.call('HGET', KEYS[1], 'members')
local new = 0
if st == 'loading' then
  new = redis.call('HSETNX', KEYS[1], 'r:' .. ARGV[1], '1')
end
local ready = {}
for pid in string.gmatch(members, '[^,]+') do
  if redis.call('HEXISTS', KEYS[1], 'r:' .. pid) == 1 then
    ready[#ready + 1] = pid
  end
end
return {st, new, members, table.concat(ready, ','), redis.call('HGET', KEYS[1], 'owner') or ''}
