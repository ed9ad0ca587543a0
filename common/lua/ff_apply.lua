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
--       that removes a field reaching 0, so "0" and "absent" are one state;
--       HPRUNE max: deletes the fields whose value, a number, is at most max;
--       HINCRBYCAP and HSETCAP field value max: HINCRBY and HSET that add no
--       field to a hash that already holds max fields)
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

-- Runs cmd on key with the items of list as arguments, in slices (unpack()
-- is bounded by the Lua stack); step is even for field/value pairs.
local function sliced(cmd, key, list, step)
  for s = 1, #list, step do
    redis.call(cmd, key, unpack(list, s, math.min(s + step - 1, #list)))
  end
end

-- All guards hold: apply.
local after_guards = i
i = src_at
local floors, applied = {}, {}
for _ = 1, nsrc do
  local field, _, new, floor = arg(), arg(), arg(), tonumber(arg())
  floors[field] = floor
  applied[#applied + 1] = field
  applied[#applied + 1] = new
end
i = after_guards
sliced('HSET', KEYS[1], applied, 1000)

-- Outcomes of a source below its committed floor can never be re-delivered:
-- drop them. One HKEYS serves every source; what it leaves tells whether the
-- hash still exists, without asking again.
local outcomes = -1 -- unknown
if nsrc > 0 then
  local stale = {}
  local fields = redis.call('HKEYS', KEYS[2])
  for _, f in ipairs(fields) do
    local src, off = string.match(f, '^(.*):(%d+)$')
    local floor = src and floors[src]
    if floor and tonumber(off) < floor then
      stale[#stale + 1] = f
    end
  end
  sliced('HDEL', KEYS[2], stale, 1000)
  outcomes = #fields - #stale
end

-- At most how many fields a key holds, for the capped ops: counted once per
-- key (HLEN), then raised by what each write may add, so a batch of many
-- writes to one bucket asks again only when the bound reaches the cap.
-- Deletes and expiry leave it an upper bound; any other op forgets it.
-- (Each key has one index: the client dedups.)
local upto = {}

local nops = tonumber(arg())
for _ = 1, nops do
  local cmd, k, nargs = arg(), tonumber(arg()), tonumber(arg())
  local args = {}
  for a = 1, nargs do
    args[a] = arg()
  end
  if cmd == 'HINCRBYCAP' or cmd == 'HSETCAP' then
    local max, n = tonumber(args[3]), upto[k]
    local write = cmd == 'HSETCAP' and 'HSET' or 'HINCRBY'
    if not n or n >= max then
      n = redis.call('HLEN', KEYS[k])
    end
    if n < max then
      redis.call(write, KEYS[k], args[1], args[2])
      upto[k] = n + 1
    else
      if redis.call('HEXISTS', KEYS[k], args[1]) == 1 then
        redis.call(write, KEYS[k], args[1], args[2])
      end
      upto[k] = n
    end
  else
    local n = upto[k]
    if n then
      if cmd == 'HINCRBY' or cmd == 'HINCRBYZ' then
        upto[k] = n + 1
      elseif cmd == 'HSET' then
        upto[k] = n + nargs / 2
      elseif cmd ~= 'PEXPIRE' and cmd ~= 'HDEL' and cmd ~= 'HPRUNE' then
        upto[k] = nil
      end
    end
    if cmd == 'HINCRBYZ' then
      if redis.call('HINCRBY', KEYS[k], args[1], args[2]) == 0 then
        redis.call('HDEL', KEYS[k], args[1])
      end
    elseif cmd == 'HPRUNE' then
      local max, all, old = tonumber(args[1]), redis.call('HGETALL', KEYS[k]), {}
      for f = 1, #all, 2 do
        local v = tonumber(all[f + 1])
        if v and v <= max then
          old[#old + 1] = all[f]
        end
      end
      sliced('HDEL', KEYS[k], old, 1000)
    else
      redis.call(cmd, KEYS[k], unpack(args))
    end
  end
end

local nout = tonumber(arg())
local stored = {}
for o = 1, 2 * nout do
  stored[o] = arg()
end
sliced('HSET', KEYS[2], stored, 1000)
local ttl = tonumber(arg())
local exists
if outcomes >= 0 then
  exists = outcomes + nout > 0
else
  exists = redis.call('EXISTS', KEYS[2]) == 1
end
if exists then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1}
