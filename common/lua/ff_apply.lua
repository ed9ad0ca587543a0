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
-- It runs once per entity and batch, so its own Lua work counts: arguments
-- are read from ARGV in place (no closure per argument, no table per op),
-- and the tables a call needs only to delete or cap are made when first
-- needed.
local A, K, call = ARGV, KEYS, redis.call
local tonumber, unpack, min = tonumber, unpack, math.min

local nsrc = tonumber(A[1])
local src_at = 2 -- per source: field, expected, new applied, floor
for s = src_at, src_at + 4 * (nsrc - 1), 4 do
  local cur = call('HGET', K[1], A[s]) or ''
  if cur ~= A[s + 1] then
    return {0, 'applied', A[s], cur}
  end
end
local i = src_at + 4 * nsrc

local nguard = tonumber(A[i])
i = i + 1
for _ = 1, nguard do
  local k, field = tonumber(A[i]), A[i + 1]
  local cur = call('HGET', K[k], field) or ''
  if cur ~= A[i + 2] then
    return {0, 'guard', field, cur}
  end
  i = i + 3
end

-- Runs cmd on key with list[from..to] as arguments, in slices (unpack() is
-- bounded by the Lua stack); step is even for field/value pairs.
local function sliced(cmd, key, list, from, to, step)
  for s = from, to, step do
    call(cmd, key, unpack(list, s, min(s + step - 1, to)))
  end
end

-- gone[k][field]: a field still in key k, deleted at the end; ngone[k]
-- counts them, marks[k] lists them in order, marked_keys the keys. Made on
-- the first mark. Invariant: every marked field exists, so no HDEL of the
-- end but the last empties a key.
local gone, ngone, marks, marked_keys
local function mark(k, f)
  if not gone then
    gone, ngone, marks, marked_keys = {}, {}, {}, {}
  end
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
  local g = gone and gone[k]
  if g and g[f] then
    unmark(g, k, f)
    call('HSET', K[k], f, v)
    return tonumber(v)
  end
  return call(write, K[k], f, v)
end

-- All guards hold: apply. (The client sends only the ops below; none of
-- them empties a key but through the marks.)
if nsrc == 1 then
  call('HSET', K[1], A[src_at], A[src_at + 2])
elseif nsrc > 1 then
  local applied = {}
  for s = src_at, src_at + 4 * (nsrc - 1), 4 do
    applied[#applied + 1] = A[s]
    applied[#applied + 1] = A[s + 2]
  end
  sliced('HSET', K[1], applied, 1, #applied, 1000)
end

-- Outcomes of a source below its committed floor can never be re-delivered:
-- drop them (at the end). One HKEYS serves every source; what it leaves tells
-- whether the hash will still exist, without asking again.
local outcomes = -1 -- unknown
if nsrc > 0 then
  local fields = call('HKEYS', K[2])
  if #fields > 0 then
    local floors = {}
    for s = src_at, src_at + 4 * (nsrc - 1), 4 do
      floors[A[s]] = tonumber(A[s + 3])
    end
    for _, f in ipairs(fields) do
      local src, off = string.match(f, '^(.*):(%d+)$')
      local floor = src and floors[src]
      if floor and tonumber(off) < floor then
        mark(2, f)
      end
    end
  end
  outcomes = #fields - (gone and ngone[2] or 0)
end

-- At most how many fields a key holds, for the capped ops: counted once per
-- key (HLEN), then raised by what each write may add, so a batch of many
-- writes to one bucket asks again only when the bound reaches the cap.
-- Deletes and expiry leave it an upper bound; any other op forgets it.
-- (Each key has one index: the client dedups.) Made on the first capped op.
local upto

local nops = tonumber(A[i])
i = i + 1
for _ = 1, nops do
  local cmd, k, nargs = A[i], tonumber(A[i + 1]), tonumber(A[i + 2])
  local a = i + 3 -- the op's first argument
  i = a + nargs
  local g = gone and gone[k]
  if cmd == 'HINCRBYCAP' or cmd == 'HSETCAP' then
    local f, max = A[a], tonumber(A[a + 2])
    upto = upto or {}
    local n = upto[k]
    if not n or n >= max then
      n = call('HLEN', K[k]) - (g and ngone[k] or 0)
    end
    local add = n < max
    if add then
      upto[k] = n + 1
    else
      add = not (g and g[f]) and call('HEXISTS', K[k], f) == 1
      upto[k] = n
    end
    if add then
      write1(cmd == 'HSETCAP' and 'HSET' or 'HINCRBY', k, f, A[a + 1])
    end
  else
    local n = upto and upto[k]
    if n then
      if cmd == 'HINCRBY' or cmd == 'HINCRBYZ' then
        upto[k] = n + 1
      elseif cmd == 'HSET' then
        upto[k] = n + nargs / 2
      elseif cmd ~= 'PEXPIRE' and cmd ~= 'HDEL' and cmd ~= 'HPRUNE' then
        upto[k] = nil
      end
    end
    if cmd == 'HINCRBY' then
      write1('HINCRBY', k, A[a], A[a + 1])
    elseif cmd == 'HINCRBYZ' then
      if write1('HINCRBY', k, A[a], A[a + 1]) == 0 then
        mark(k, A[a])
      end
    elseif cmd == 'HSET' then
      if g then
        for f = a, i - 1, 2 do
          unmark(g, k, A[f])
        end
      end
      call('HSET', K[k], unpack(A, a, i - 1))
    elseif cmd == 'HDEL' then
      for f = a, i - 1 do
        if not (g and g[A[f]]) and call('HEXISTS', K[k], A[f]) == 1 then
          mark(k, A[f])
          g = gone[k]
        end
      end
    elseif cmd == 'HPRUNE' then
      local max, all = tonumber(A[a]), call('HGETALL', K[k])
      for f = 1, #all, 2 do
        local v = tonumber(all[f + 1])
        if v and v <= max then
          mark(k, all[f])
        end
      end
    elseif cmd == 'PEXPIRE' or cmd == 'SADD' then
      call(cmd, K[k], unpack(A, a, i - 1))
    else
      -- Unreachable: ff_ent_op refuses any other command.
      return redis.error_reply('ff_apply: unknown op ' .. cmd)
    end
  end
end

local nout = tonumber(A[i])
local out_at = i + 1 -- per outcome: field, blob
i = out_at + 2 * nout
local g2 = gone and gone[2]
if g2 then
  for o = out_at, i - 1, 2 do
    unmark(g2, 2, A[o])
  end
end
sliced('HSET', K[2], A, out_at, i - 1, 1000)
local ttl = tonumber(A[i])
local exists
if outcomes >= 0 then
  exists = outcomes + nout > 0
else
  exists = call('EXISTS', K[2]) == 1
end
if exists then
  call('PEXPIRE', K[2], ttl)
end

-- The deletes, last.
for _, k in ipairs(marked_keys or {}) do
  local fields, seen = {}, {}
  for _, f in ipairs(marks[k]) do
    if gone[k][f] and not seen[f] then
      seen[f] = true
      fields[#fields + 1] = f
    end
  end
  sliced('HDEL', K[k], fields, 1, #fields, 1000)
end
return {1}
