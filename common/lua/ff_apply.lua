-- ff_apply: applies one entity's share of a batch atomically, exactly once.
--
-- Every key is in one hash slot (the entity's {hash tag}). The processor read
-- the entity's state, decided in C, and sends here what to write, with the
-- values it read as guards. Nothing is written unless every guard still
-- holds, so a retry, a second instance or a zombie cannot apply twice or
-- decide on stale state.
--
-- KEYS[1]  applied offsets: field "<topic>:<partition>" -> last applied offset
-- KEYS[2]  outcomes: field "<topic>:<partition>:<offset>" -> encoded outputs,
--          kept until the offset is committed, so a re-delivered record
--          reproduces exactly what it produced the first time
-- KEYS[3…] the entity's data keys, referred to by index below
--
-- ARGV: nsrc, then per source: field, expected applied ('' = none), new
--       applied, committed floor (outcomes below it are pruned)
--       nguard, then per guard: key index, hash field, expected ('' = absent)
--       nops, then per op: command, key index, nargs, args… (HINCRBYZ: HINCRBY
--       that removes a field reaching 0, so "0" and "absent" are one state)
--       nout, then per outcome: field, blob
--       outcome ttl (ms)
-- Returns {1} when applied, or {0, what, field, current} when a guard failed.
local i = 1
local function arg()
  local v = ARGV[i]
  i = i + 1
  return v
end

local nsrc = tonumber(arg())
local src_at = i
for _ = 1, nsrc do
  local field, expected = arg(), arg()
  i = i + 2
  local cur = redis.call('HGET', KEYS[1], field) or ''
  if cur ~= expected then
    return {0, 'applied', field, cur}
  end
end

local nguard = tonumber(arg())
for _ = 1, nguard do
  local k, field, expected = tonumber(arg()), arg(), arg()
  local cur = redis.call('HGET', KEYS[k], field) or ''
  if cur ~= expected then
    return {0, 'guard', field, cur}
  end
end

-- All guards hold: apply.
local after_guards = i
i = src_at
for _ = 1, nsrc do
  local field, _, new, floor = arg(), arg(), arg(), tonumber(arg())
  redis.call('HSET', KEYS[1], field, new)
  -- Outcomes of this source below the committed floor can never be
  -- re-delivered: drop them.
  local prefix = field .. ':'
  local fields = redis.call('HKEYS', KEYS[2])
  for _, f in ipairs(fields) do
    if string.sub(f, 1, #prefix) == prefix and tonumber(string.sub(f, #prefix + 1)) < floor then
      redis.call('HDEL', KEYS[2], f)
    end
  end
end
i = after_guards

local nops = tonumber(arg())
for _ = 1, nops do
  local cmd, k, nargs = arg(), tonumber(arg()), tonumber(arg())
  local args = {}
  for a = 1, nargs do
    args[a] = arg()
  end
  if cmd == 'HINCRBYZ' then
    if redis.call('HINCRBY', KEYS[k], args[1], args[2]) == 0 then
      redis.call('HDEL', KEYS[k], args[1])
    end
  else
    redis.call(cmd, KEYS[k], unpack(args))
  end
end

local nout = tonumber(arg())
for _ = 1, nout do
  local field, blob = arg(), arg()
  redis.call('HSET', KEYS[2], field, blob)
end
local ttl = tonumber(arg())
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1}
