-- apply_diff.lua: runs two versions of ff_apply.lua on the same random
-- cases against a Redis made of Lua tables, and reports every case where
-- their replies, hashes or TTLs differ.
--
--   git show 29c2e13:common/lua/ff_apply.lua > /tmp/ff_apply_old.lua
--   lua5.1 bench/lua/apply_diff.lua /tmp/ff_apply_old.lua common/lua/ff_apply.lua 50000 1
--
-- (lua5.1 is Debian's package of the Lua Redis embeds.) Arguments: the two
-- scripts, the number of cases, the random seed.
local function load(path)
  local f = assert(io.open(path))
  local src = f:read('*a')
  f:close()
  return assert(loadstring(src))
end
local script_a, script_b = load(arg[1]), load(arg[2])
local ncases, seed = tonumber(arg[3] or 20000), tonumber(arg[4] or 1)

-- The fake Redis: db[key] is a hash (field -> string), ttl[key] a number.
-- A hash left empty is deleted, as in Redis.
local db, ttl
local function hash(key, create)
  local h = db[key]
  if not h and create then
    h = {}
    db[key] = h
  end
  return h
end
local function sorted_fields(h)
  local fields = {}
  for f in pairs(h or {}) do fields[#fields + 1] = f end
  table.sort(fields)
  return fields
end
local commands = {
  HGET = function(k, f) local h = hash(k); return h and h[f] or false end,
  HSET = function(k, ...)
    local a, h, n = {...}, hash(k, true), 0
    assert(#a > 0 and #a % 2 == 0, 'HSET: wrong number of arguments')
    for j = 1, #a, 2 do
      if h[a[j]] == nil then n = n + 1 end
      h[a[j]] = a[j + 1]
    end
    return n
  end,
  HINCRBY = function(k, f, by)
    local h = hash(k, true)
    local v = tonumber(h[f] or '0') + tonumber(by)
    h[f] = tostring(v)
    return v
  end,
  HKEYS = function(k) return sorted_fields(hash(k)) end,
  HLEN = function(k) return #sorted_fields(hash(k)) end,
  HEXISTS = function(k, f) local h = hash(k); return (h and h[f]) and 1 or 0 end,
  HDEL = function(k, ...)
    local h, n = hash(k), 0
    assert(select('#', ...) > 0, 'HDEL: wrong number of arguments')
    for _, f in ipairs({...}) do
      if h and h[f] then h[f] = nil; n = n + 1 end
    end
    if h and next(h) == nil then db[k], ttl[k] = nil, nil end
    return n
  end,
  HGETALL = function(k)
    local h, r = hash(k), {}
    for _, f in ipairs(sorted_fields(h)) do r[#r + 1] = f; r[#r + 1] = h[f] end
    return r
  end,
  PEXPIRE = function(k, ms) if db[k] then ttl[k] = ms; return 1 end; return 0 end,
  EXISTS = function(k) return db[k] and 1 or 0 end,
  SADD = function(k, ...)
    local h, n = hash(k, true), 0
    for _, m in ipairs({...}) do
      if not h['s:' .. m] then h['s:' .. m] = '1'; n = n + 1 end
    end
    return n
  end,
}
redis = {
  call = function(cmd, ...) return assert(commands[cmd], cmd)(...) end,
  error_reply = function(s) return {err = s} end,
}

local function copy(t)
  local r = {}
  for k, v in pairs(t) do r[k] = type(v) == 'table' and copy(v) or v end
  return r
end
local function text(t)
  local keys, out = {}, {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local v = t[k]
    out[#out + 1] = tostring(k) .. '=' .. (type(v) == 'table' and '{' .. text(v) .. '}' or tostring(v))
  end
  return table.concat(out, ',')
end
local function run(script, keys, argv, db0)
  db, ttl = copy(db0), {}
  KEYS, ARGV = copy(keys), copy(argv)
  local ok, r = pcall(script)
  local reply = ok and text(type(r) == 'table' and r or {r}) or 'error ' .. tostring(r)
  return reply .. ' | ' .. text(db) .. ' | ' .. text(ttl)
end

-- One random case: the applied and outcome hashes and two data keys as
-- they may be found, and a call with sources, guards (mostly holding), ops
-- of every kind on few fields (so they meet), and outcomes.
math.randomseed(seed)
local R = math.random
local FIELDS, SOURCES = {'a', 'b', 'c', 'd', 'x'}, {'t:0', 't:1', 'u:0'}
local OPS = {'HINCRBY', 'HINCRBYZ', 'HSET', 'HDEL', 'HPRUNE', 'PEXPIRE', 'HINCRBYCAP', 'HSETCAP',
             'SADD'}
local function field() return FIELDS[R(#FIELDS)] end
local function case()
  local keys, db0, argv = {'A', 'O', 'K3', 'K4'}, {}, {}
  local function push(v) argv[#argv + 1] = tostring(v) end
  local applied = {}
  for _, s in ipairs(SOURCES) do
    if R(2) == 1 then applied[s] = tostring(R(0, 5)) end
  end
  if next(applied) then db0.A = copy(applied) end
  local out = {}
  for _ = 1, R(0, 5) do out[SOURCES[R(#SOURCES)] .. ':' .. R(0, 9)] = 'blob' .. R(9) end
  if R(4) == 1 then out['no-offset'] = 'x' end
  if next(out) then db0.O = out end
  for k = 3, 4 do
    if R(3) > 1 then
      local h = {}
      for _ = 1, R(1, 4) do h[field()] = tostring(R(-1, 6)) end
      db0[keys[k]] = h
    end
  end
  local chosen, seen = {}, {}
  for _ = 1, R(0, 3) do
    local s = SOURCES[R(#SOURCES)]
    if not seen[s] then seen[s] = true; chosen[#chosen + 1] = s end
  end
  push(#chosen)
  for _, s in ipairs(chosen) do
    push(s); push(R(20) == 1 and 'stale' or applied[s] or ''); push(R(0, 9)); push(R(0, 10))
  end
  local nguard = R(0, 2)
  push(nguard)
  for _ = 1, nguard do
    local k, f = R(3, 4), field()
    local h = db0[keys[k]]
    push(k); push(f); push(R(10) == 1 and 'stale' or h and h[f] or '')
  end
  local nops = R(0, 6)
  push(nops)
  for _ = 1, nops do
    local op = OPS[R(#OPS)]
    push(op); push(R(3, 4))
    if op == 'HINCRBY' or op == 'HINCRBYZ' then
      push(2); push(field()); push(R(-2, 2))
    elseif op == 'HSET' then
      local n = R(1, 3)
      push(2 * n)
      for _ = 1, n do push(field()); push(R(0, 5)) end
    elseif op == 'HDEL' then
      local n = R(1, 3)
      push(n)
      for _ = 1, n do push(field()) end
    elseif op == 'HPRUNE' then
      push(1); push(R(0, 4))
    elseif op == 'PEXPIRE' then
      push(1); push(R(1000, 9000))
    elseif op == 'SADD' then
      push(1); push('m' .. R(3))
    else -- HINCRBYCAP, HSETCAP
      push(3); push(field()); push(R(-1, 3)); push(R(1, 4))
    end
  end
  local nout = R(0, 3)
  push(nout)
  for _ = 1, nout do push(SOURCES[R(#SOURCES)] .. ':' .. R(0, 9)); push('new' .. R(9)) end
  push(60000)
  return keys, argv, db0
end

local differ = 0
for _ = 1, ncases do
  local keys, argv, db0 = case()
  local a, b = run(script_a, keys, argv, db0), run(script_b, keys, argv, db0)
  if a ~= b then
    differ = differ + 1
    if differ <= 3 then
      print('differ: ARGV ' .. table.concat(argv, ' ') .. '\n  found ' .. text(db0) ..
            '\n  ' .. arg[1] .. ': ' .. a .. '\n  ' .. arg[2] .. ': ' .. b)
    end
  end
end
print(string.format('%d cases, %d differ', ncases, differ))
os.exit(differ == 0 and 0 or 1)
