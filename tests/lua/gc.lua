-- Garbage collection: weak tables (__mode k, v, kv, ephemerons), finalizers
-- (__gc) with their order and resurrection, collector controls, and a stress loop
-- of short-lived garbage around a live set. Output happens only after explicit
-- full collections, so it does not depend on when automatic cycles run.
local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end

-- The RUM allocator's own count must equal Lua's (rum-lua only; silent).
local has_rum, rum = pcall(require, "rum")
local function check_heap()
  if has_rum then
    local h = rum.heap()
    assert(h.bytes == h.lua_bytes, "heap accounting differs from Lua's")
  end
end

-- Weak values.
local wv = setmetatable({}, {__mode = "v"})
local keep = {}
for i = 1, 1000 do
  local obj = {i}
  wv[i] = obj
  if i % 10 == 0 then keep[#keep + 1] = obj end
end
wv.str = "strings are values, never collected from weak tables"
collectgarbage()
print("weak values", count(wv), wv[10][1], wv[11], wv.str ~= nil)

-- Weak keys (ephemeron: the value refers to its own key).
local wk = setmetatable({}, {__mode = "k"})
local anchors = {}
for i = 1, 1000 do
  local key = {}
  wk[key] = {owner = key, n = i}
  if i <= 100 then anchors[i] = key end
end
collectgarbage()
local sum = 0
for k, v in pairs(wk) do assert(v.owner == k) sum = sum + v.n end
print("ephemerons", count(wk), sum)

-- Weak keys and values.
local wkv = setmetatable({}, {__mode = "kv"})
local live_k, live_v = {}, {}
wkv[live_k] = {}          -- value dies
wkv[{}] = live_v          -- key dies
wkv[live_k] = live_v      -- both live (overwrites the first)
wkv[1] = {}               -- value dies
wkv[2] = live_v           -- stays
collectgarbage()
print("weak kv", count(wkv), wkv[live_k] == live_v, wkv[2] == live_v, wkv[1])

-- Finalizers run in reverse order of being marked, once each.
local order = {}
for i = 1, 5 do
  setmetatable({}, {__gc = function() order[#order + 1] = i end})
end
collectgarbage()
print("finalizer order", table.concat(order, " "))

-- A finalizer can resurrect its object; it does not run again by itself.
local saved
local runs = 0
do
  local phoenix = setmetatable({name = "phoenix"}, {__gc = function(o) runs = runs + 1; saved = o end})
end
collectgarbage()
print("resurrected", saved and saved.name, runs)
saved = nil
collectgarbage()
collectgarbage()
print("after second death", saved, runs)

-- A finalizer set after creation needs the __gc field when setmetatable is called.
local mt = {}
local late = setmetatable({}, mt)
mt.__gc = function() print("never printed") end
late = nil
collectgarbage()
print("late __gc ignored")

-- Finalizers and weak tables together: objects being finalized are removed from
-- weak-value tables before the finalizer runs, from weak-key tables after.
local wvals = setmetatable({}, {__mode = "v"})
local wkeys = setmetatable({}, {__mode = "k"})
local seen = {}
do
  local o = setmetatable({}, {__gc = function(x)
    seen[#seen + 1] = tostring(wvals[1] == nil) .. "/" .. tostring(wkeys[x] ~= nil)
  end})
  wvals[1] = o
  wkeys[o] = true
end
collectgarbage()
collectgarbage()
print("finalize vs weak", seen[1], wvals[1], count(wkeys))

-- Collector controls.
print("isrunning", collectgarbage("isrunning"))
collectgarbage("stop")
print("stopped", collectgarbage("isrunning"))
collectgarbage("restart")
print("restarted", collectgarbage("isrunning"))
print("mode", collectgarbage("incremental"), collectgarbage("generational"), collectgarbage("generational"))
print("step returns", type(collectgarbage("step", 0)))
print("count type", math.type(collectgarbage("count")), collectgarbage("count") > 0)
check_heap()

-- Memory goes back: a 1 000 000 element table, then nothing.
collectgarbage()
local base = collectgarbage("count")
local blob = {}
for i = 1, 1000000 do blob[i] = i end
local grown = collectgarbage("count")
check_heap()
blob = nil
collectgarbage()
local shrunk = collectgarbage("count")
print("grew", grown - base > 8000, "shrank", shrunk - base < 100)
check_heap()

-- Stress: 3 million short-lived tables and strings around a live ring of 10 000,
-- with finalizers counted on some of them; in both collector modes.
local finalized = 0
local gcmeta = {__gc = function() finalized = finalized + 1 end}
for _, mode in ipairs({"incremental", "generational"}) do
  collectgarbage(mode)
  local ring = {}
  for i = 1, 10000 do ring[i] = {id = i, payload = "p" .. i} end
  for i = 1, 1500000 do
    local tmp = {i, tostring(i), {i}}
    if i % 100 == 0 then setmetatable(tmp, gcmeta) end
    local slot = i % 10000 + 1
    if i % 7 == 0 then ring[slot] = {id = slot, payload = "p" .. slot} end
  end
  local ok = true
  for i = 1, 10000 do
    if ring[i].id ~= i or ring[i].payload ~= "p" .. i then ok = false end
  end
  print("stress", mode, ok)
end
collectgarbage()
collectgarbage()
print("finalized", finalized)
check_heap()

-- An error in a finalizer is a warning, not an error.
setmetatable({}, {__gc = function() error("finalizer error") end})
collectgarbage()
print("survived finalizer error")

-- Finalizers that are still pending run when the state closes.
_G.closing = setmetatable({}, {__gc = function() print("finalized at exit") end})
print("end")
