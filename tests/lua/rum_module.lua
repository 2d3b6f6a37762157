-- rum-lua only: the `rum` module, and the allocator's accounting of the Lua heap,
-- which must equal Lua's own (collectgarbage("count")) to the byte at every point.
local rum = require "rum"
local function heap_matches(where)
  local h = rum.heap()
  assert(h.bytes == h.lua_bytes, where .. ": allocator counts " .. h.bytes .. " bytes, Lua " .. h.lua_bytes)
  local kb = collectgarbage("count")
  assert(math.abs(kb * 1024 - h.bytes) < 4096, where .. ": collectgarbage('count') is far from the heap")
  assert(h.peak >= h.bytes, where .. ": peak below current")
  assert(h.allocations >= h.frees, where .. ": more frees than allocations")
end
heap_matches("start")

local keep = {}
for i = 1, 200000 do keep[i] = {i, tostring(i)} end
heap_matches("after 200k tables")
local s = string.rep("x", 10 * 1024 * 1024)
heap_matches("after a 10 MiB string")
local co = coroutine.wrap(function() for i = 1, 10 do coroutine.yield(i) end end)
for _ = 1, 5 do co() end
heap_matches("with a coroutine")
local big = collectgarbage("count")
keep, s, co = nil, nil, nil
collectgarbage()
heap_matches("after collect")
assert(collectgarbage("count") < big / 4, "memory was not given back")
local h = rum.heap()
assert(h.peak >= 10 * 1024 * 1024, "peak missed the 10 MiB string")
assert(h.failures == 0, "allocation failures: " .. h.failures)

local st = rum.stats()
for _, field in ipairs({"faults", "read_faults", "write_faults", "hits", "zero_fills", "evictions",
                        "writebacks", "readahead", "bytes_in", "bytes_out", "rpcs", "retries",
                        "cache_pages", "cache_capacity", "regions"}) do
  assert(math.type(st[field]) == "integer", "rum.stats()." .. field .. " missing")
end
assert(st.regions > 0, "no RUM regions although the heap lives in RUM")
assert(rum.sync() == true, "rum.sync failed")
print("rum module ok")
