-- apply_cost.lua: the Lua time of one ff_apply call, with redis.call
-- answering at once, so that only the script's own work is timed.
--
--   lua5.1 bench/lua/apply_cost.lua common/lua/ff_apply.lua 300000
--
-- The call is footfall-web's for a customer's product and category view
-- (two counts and a TTL in today's intent bucket). Each call gets fresh
-- KEYS and ARGV tables, as in redis-server; run it with a script that is
-- just `return {1}` to time those alone.
local path, n = arg[1], tonumber(arg[2] or 300000)
local f = assert(io.open(path))
local script = assert(loadstring(f:read('*a')))
f:close()

local answers = {
  HGET = false, HKEYS = {}, HLEN = 0, HINCRBY = 1, HSET = 1, PEXPIRE = 1, EXISTS = 0, HEXISTS = 0,
  HDEL = 1, HGETALL = {}, SADD = 1,
}
local ncalls = 0
redis = {
  call = function(cmd)
    ncalls = ncalls + 1
    return answers[cmd]
  end,
  error_reply = function(s) return {err = s} end,
}
local keys = {'ff:{c:C004757}:applied', 'ff:{c:C004757}:out', 'ff:{c:C004757}:intent:20789'}
local argv = {'1', 'web.events:0', '', '2', '0', '0', '3', 'HINCRBYCAP', '3', '3',
              'v:SKU-0010\31jackets', '1', '2000', 'HINCRBY', '3', '2', 'c:jackets', '1',
              'PEXPIRE', '3', '1', '738686242', '0', '604800000'}
local t0 = os.clock()
for _ = 1, n do
  local k, a = {}, {}
  for j = 1, #keys do k[j] = keys[j] end
  for j = 1, #argv do a[j] = argv[j] end
  KEYS, ARGV = k, a
  assert(script()[1] == 1)
end
print(string.format('%s: %.2f us a call, %d redis.call a call', path,
                    (os.clock() - t0) / n * 1e6, ncalls / n))
