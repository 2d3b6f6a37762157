-- Large tables: 2 million integer keys (array part), 200 000 string keys (hash
-- part), a sparse integer table, removal while iterating, sort, insert/remove.
local N, S = 2000000, 200000

local arr = {}
for i = 1, N do arr[i] = i * 3 end
print("array length", #arr)
local sum = 0
for i = 1, N do sum = sum + arr[i] end
print("array sum", sum)

local byname = {}
for i = 1, S do byname["key" .. i] = i end
local count, total = 0, 0
for k, v in pairs(byname) do
  count = count + 1
  total = total + v
  assert(k == "key" .. v)
end
print("string keys", count, total)
print("lookups", byname.key1, byname.key100000, byname["key" .. S], byname.key0)

-- Sparse integer keys land in the hash part.
local sparse = {}
for i = 1, 100000 do sparse[i * 7919] = i end
local n = 0
for _ in pairs(sparse) do n = n + 1 end
print("sparse entries", n, sparse[7919 * 50000])

-- Remove every other string key while traversing (assigning nil is allowed).
for k, v in pairs(byname) do
  if v % 2 == 0 then byname[k] = nil end
end
count = 0
for _ in pairs(byname) do count = count + 1 end
print("after removal", count)

-- Mixed keys: floats with integer values normalise to integers.
local mixed = {}
mixed[1.0] = "one"; mixed[2] = "two"; mixed[2^53] = "big"; mixed[-0.0] = "zero"
mixed[true] = "yes"; mixed[1.5] = "one and a half"
print(mixed[1], mixed[2.0], mixed[2^53], mixed[0], mixed[true], mixed[1.5])

-- table library on big arrays.
local t = {}
for i = 1, 300000 do t[i] = (i * 7919) % 300007 end
table.sort(t)
local sorted = true
for i = 2, #t do if t[i - 1] > t[i] then sorted = false break end end
print("sorted", sorted, t[1], t[#t], t[150000])
table.sort(t, function(a, b) return a > b end)
print("reverse", t[1], t[#t])
for i = 1, 1000 do table.insert(t, 1, -i) end
for i = 1, 500 do table.remove(t, 1) end
print("insert/remove", #t, t[1], t[501])
print("unpack", table.unpack({10, 20, 30, 40}, 2, 3))
print("move", table.concat(table.move({1, 2, 3, 4, 5}, 2, 4, 1), ","))
print("pack", table.pack(1, nil, 3).n)

-- Nested tables: a 1000 x 1000 matrix of small tables.
local grid = {}
for i = 1, 1000 do
  local row = {}
  for j = 1, 1000 do row[j] = i * j end
  grid[i] = row
end
local trace = 0
for i = 1, 1000 do trace = trace + grid[i][i] end
print("trace", trace)

-- Shrinking: clear the big array and let the collector reclaim it.
arr, grid = nil, nil
collectgarbage()
print("done")
