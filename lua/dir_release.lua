-- dir_release: remove a directory entry, for the owning session only.
-- KEYS[1] directory entry {p:<player>}
-- ARGV[1] session id
-- Reply: 1 removed; 0 another session owns it (left untouched).
if redis.call('HGET', KEYS[1], 'session') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
