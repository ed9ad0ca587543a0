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
--
-- No key is emptied before the end. In a Redis Cluster slot being migrated,
-- the old master runs a script only if every key it names is still there,
-- and fails any command on a key that is not: one this script emptied, say.
-- Redis does not undo what the script wrote before such an error, so a field
-- to delete is only marked (absent from then on, for every op below), and
-- every marked field is deleted at the end, after the last command on its key.
-- (So a key emptied and written again keeps its TTL, where it used to be
-- made anew without one.)
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

-- gone[k][field]: a field still in key k, deleted at the end. Invariant:
-- every marked field exists, so no HDEL of the end but the last empties a key.
local gone, ngone, marks, marked_keys = {}, {}, {}, {}
local function mark(k, f)
  local g = gone[k]
  if not g then
    g = {}
    gone[k], ngone[k], marks[k] = g, 0, {}
    marked_keys[#marked_keys + 1] = k
  end
  if not g[f] then
    g[f] = true
    ngone[k] = ngone[k] + 1
    marks[k][#marks[k] + 1] = f
  end
end
-- Unmarks field f of key k (g: gone[k]); true if it was marked.
local function unmark(g, k, f)
  if g and g[f] then
    g[f] = nil
    ngone[k] = ngone[k] - 1
    return true
  end
  return false
end
-- HINCRBY or HSET (write) of one field, a marked field counting as absent
-- (so HINCRBY sets it to v); for HINCRBY, the new value.
local function write1(write, k, f, v)
  local g = gone[k]
  if g and g[f] then
    unmark(g, k, f)
    redis.call('HSET', KEYS[k], f, v)
    return tonumber(v)
  end
  return redis.call(write, KEYS[k], f, v)
end

-- All guards hold: apply. (The client sends only the ops below; none of
-- them empties a key but through the marks.)
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
-- drop them (at the end). One HKEYS serves every source; what it leaves tells
-- whether the hash will still exist, without asking again.
local outcomes = -1 -- unknown
if nsrc > 0 then
  local fields = redis.call('HKEYS', KEYS[2])
  for _, f in ipairs(fields) do
    local src, off = string.match(f, '^(.*):(%d+)$')
    local floor = src and floors[src]
    if floor and tonumber(off) < floor then
      mark(2, f)
    end
  end
  outcomes = #fields - (ngone[2] or 0)
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
    local f, max, n, g = args[1], tonumber(args[3]), upto[k], gone[k]
    if not n or n >= max then
      n = redis.call('HLEN', KEYS[k]) - (ngone[k] or 0)
    end
    local add = n < max
    if add then
      upto[k] = n + 1
    else
      add = not (g and g[f]) and redis.call('HEXISTS', KEYS[k], f) == 1
      upto[k] = n
    end
    if add then
      write1(cmd == 'HSETCAP' and 'HSET' or 'HINCRBY', k, f, args[2])
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
    local g = gone[k]
    if cmd == 'HINCRBY' then
      write1('HINCRBY', k, args[1], args[2])
    elseif cmd == 'HINCRBYZ' then
      if write1('HINCRBY', k, args[1], args[2]) == 0 then
        mark(k, args[1])
      end
    elseif cmd == 'HSET' then
      for a = 1, nargs, 2 do
        unmark(g, k, args[a])
      end
      redis.call('HSET', KEYS[k], unpack(args))
    elseif cmd == 'HDEL' then
      for _, f in ipairs(args) do
        if not (g and g[f]) and redis.call('HEXISTS', KEYS[k], f) == 1 then
          mark(k, f)
        end
      end
    elseif cmd == 'HPRUNE' then
      local max, all = tonumber(args[1]), redis.call('HGETALL', KEYS[k])
      for f = 1, #all, 2 do
        local v = tonumber(all[f + 1])
        if v and v <= max then
          mark(k, all[f])
        end
      end
    elseif cmd == 'PEXPIRE' or cmd == 'SADD' then
      redis.call(cmd, KEYS[k], unpack(args))
    else
      -- Unreachable: ff_ent_op refuses any other command.
      return redis.error_reply('ff_apply: unknown op ' .. cmd)
    end
  end
end

local nout = tonumber(arg())
local stored = {}
for o = 1, 2 * nout do
  stored[o] = arg()
  if o % 2 == 1 then
    unmark(gone[2], 2, stored[o])
  end
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

-- The deletes, last.
for _, k in ipairs(marked_keys) do
  local fields, seen = {}, {}
  for _, f in ipairs(marks[k]) do
    if gone[k][f] and not seen[f] then
      seen[f] = true
      fields[#fields + 1] = f
    end
  end
  sliced('HDEL', KEYS[k], fields, 1000)
end
return {1}
