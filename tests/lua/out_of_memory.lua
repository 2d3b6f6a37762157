-- rum-lua only, on nodes with little memory (--memory-mb 64): when the nodes are
-- full, allocation fails, Lua collects, then raises "not enough memory", which a
-- pcall catches; after the garbage is gone the heap works again.
local rum = require "rum"
local t = {}
local ok, err = pcall(function()
  for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end
end)
assert(not ok, "the loop ended without running out of memory")
-- No allocation may happen before t is dropped: the heap is still full here, so even
-- building an assert message (a concatenation) could raise a second, unprotected
-- "not enough memory".
local unexpected = err ~= "not enough memory"
local filled = #t
t = nil
collectgarbage()
if unexpected then error("unexpected error: " .. tostring(err)) end
assert(rum.heap().failures > 0, "the allocator saw no failure")
local again = {}
for i = 1, filled // 2 do again[i] = string.rep("y", 1000) .. i end
assert(#again == filled // 2)
print("out of memory handled")
