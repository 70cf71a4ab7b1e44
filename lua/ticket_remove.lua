-- ticket_remove: take a player's ticket out of a mode's queue.
-- KEYS[1] queue   {m:<mode>}:q
-- KEYS[2] tickets {m:<mode>}:t
-- KEYS[3] players {m:<mode>}:pl
-- KEYS[4] waits   {m:<mode>}:w
-- KEYS[5] removed {m:<mode>}:del LIST tickets removed since the leader last looked
-- KEYS[6] rqfrom  {m:<mode>}:rqf HASH requeued ticket -> the match it left
-- ARGV[1] player id
-- ARGV[2] ticket id that the caller means, or '' for whatever the player has
-- Reply: {1, ticket, match} removed (match: the one the ticket was requeued
--        from, or '');
--        {0, entry} nothing removed: the player has no ticket here ('' entry),
--        or is already in a room ("m:<match_id>"), or holds another ticket.
-- Removing only a named ticket keeps a late cancel or timeout from touching a
-- ticket that a requeue created since.
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if not cur or string.sub(cur, 1, 2) ~= 'q:' then
  return {0, cur or ''}
end
local id = string.sub(cur, 3)
if ARGV[2] ~= '' and ARGV[2] ~= id then
  return {0, cur}
end
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], id)
redis.call('RPUSH', KEYS[5], id)
local from = redis.call('HGET', KEYS[6], id) or ''
redis.call('HDEL', KEYS[6], id)
return {1, id, from}
