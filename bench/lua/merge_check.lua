-- merge_check.lua: checks the engine's merging of a key's writes (ff_engine.c,
-- add_hset and add_incr) on random op lists: ff_apply on the list as
-- processors add it and on the list merged by the same rules must leave the
-- same hashes. Uses apply_diff.lua's Redis of Lua tables.
--
--   lua5.1 bench/lua/merge_check.lua common/lua/ff_apply.lua 50000 1
local script_path, ncases, seed = arg[1], tonumber(arg[2] or 20000), tonumber(arg[3] or 1)
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
-- apply_diff.lua's fake Redis and helpers, without its main loop.
local f = assert(io.open(here .. 'apply_diff.lua'))
local src = f:read('*a')
f:close()
src = src:sub(1, assert(src:find('\n-- One random case', 1, true)))
arg = {script_path, script_path} -- apply_diff.lua loads both
local env = assert(loadstring(src .. '\nreturn {run = run, copy = copy, text = text}'))()
local f2 = assert(io.open(script_path))
local script = assert(loadstring(f2:read('*a')))
f2:close()

local HSET_MERGE_MAX_ARGS, INCR_MERGE_LOOKBACK = 256, 32

-- ops: {cmd=, k=, args={...}}; merged by the engine's rules.
local function merge(ops)
  local out, last = {}, {} -- last[k]: index in out of the key's last op
  local prev = {}          -- prev[i]: index of the op before out[i] on its key
  local function incr(op)
    return op.cmd == 'HINCRBY' or op.cmd == 'HINCRBYCAP'
  end
  for _, op in ipairs(ops) do
    local merged = false
    local li = last[op.k]
    if op.cmd == 'HSET' and li and out[li].cmd == 'HSET' and
        #out[li].args + #op.args <= HSET_MERGE_MAX_ARGS then
      for _, a in ipairs(op.args) do table.insert(out[li].args, a) end
      merged = true
    elseif incr(op) then
      local j, n = li, 0
      while j and incr(out[j]) and n < INCR_MERGE_LOOKBACK do
        local o = out[j]
        if o.args[1] == op.args[1] then
          if o.cmd == op.cmd and o.args[3] == op.args[3] then
            o.args[2] = tostring(tonumber(o.args[2]) + tonumber(op.args[2]))
            merged = true
          end
          break
        end
        j, n = prev[j], n + 1
      end
    end
    if not merged then
      out[#out + 1] = {cmd = op.cmd, k = op.k, args = env.copy(op.args)}
      prev[#out] = li
      last[op.k] = #out
    end
  end
  return out
end

local function argv_of(ops)
  local argv = {'0', '0', tostring(#ops)}
  for _, op in ipairs(ops) do
    argv[#argv + 1] = op.cmd
    argv[#argv + 1] = tostring(op.k)
    argv[#argv + 1] = tostring(#op.args)
    for _, a in ipairs(op.args) do argv[#argv + 1] = a end
  end
  argv[#argv + 1] = '0'
  argv[#argv + 1] = '60000'
  return argv
end

math.randomseed(seed)
local R = math.random
local FIELDS = {'a', 'b', 'c'}
local KINDS = {'HINCRBY', 'HINCRBY', 'HINCRBYCAP', 'HINCRBYCAP', 'HSET', 'HSET', 'HINCRBYZ', 'HDEL',
               'HPRUNE', 'HSETCAP', 'SADD'}
local differ, shorter = 0, 0
for _ = 1, ncases do
  local keys, db0, ops = {'A', 'O', 'K3', 'K4'}, {}, {}
  for k = 3, 4 do
    if R(2) == 1 then
      local h = {}
      for _ = 1, R(1, 3) do h[FIELDS[R(#FIELDS)]] = tostring(R(-1, 3)) end
      db0[keys[k]] = h
    end
  end
  local caps = {tostring(R(1, 3)), tostring(R(1, 3))}
  for _ = 1, R(1, 12) do
    local cmd, k, fld = KINDS[R(#KINDS)], R(3, 4), FIELDS[R(#FIELDS)]
    local args
    if cmd == 'HINCRBY' or cmd == 'HINCRBYZ' then
      args = {fld, tostring(R(-2, 2))}
    elseif cmd == 'HINCRBYCAP' or cmd == 'HSETCAP' then
      args = {fld, tostring(R(-1, 3)), caps[R(2)]}
    elseif cmd == 'HSET' then
      args = {fld, tostring(R(0, 5))}
      if R(3) == 1 then args[3], args[4] = FIELDS[R(#FIELDS)], tostring(R(0, 5)) end
    elseif cmd == 'HDEL' then
      args = {fld}
    elseif cmd == 'HPRUNE' then
      args = {tostring(R(0, 3))}
    else
      args = {'m' .. R(2)}
    end
    ops[#ops + 1] = {cmd = cmd, k = k, args = args}
  end
  local merged = merge(ops)
  if #merged < #ops then shorter = shorter + 1 end
  local a = env.run(script, keys, argv_of(ops), db0)
  local b = env.run(script, keys, argv_of(merged), db0)
  if a ~= b then
    differ = differ + 1
    if differ <= 3 then
      print('differ:\n  as added: ' .. table.concat(argv_of(ops), ' ') .. '\n    ' .. a ..
            '\n  merged:   ' .. table.concat(argv_of(merged), ' ') .. '\n    ' .. b ..
            '\n  found ' .. env.text(db0))
    end
  end
end
print(string.format('%d cases (%d with ops merged), %d differ', ncases, shorter, differ))
os.exit(differ == 0 and 0 or 1)
