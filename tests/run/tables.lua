-- Tables, strings and closures: several times the page cache, digest printed.
local n = tonumber(arg[1]) or 200000
local t = {}
for i = 1, n do t[i] = string.format("%08d:%s", (i * 7919) % n, string.rep("z", i % 17)) end
table.sort(t)
local acc = 0
for i = 1, #t, 97 do acc = (acc * 31 + #t[i] + t[i]:byte(1)) % 1000000007 end
local m = {}
for i = 1, n do m["k" .. i] = { i, tostring(i), function() return i end } end
local s = 0
for k, v in pairs(m) do s = (s + v[3]() + #v[2]) % 1000000007 end
local parts = {}
for i = 1, n // 10 do parts[#parts + 1] = tostring(i * i) end
local joined = table.concat(parts, ",")
print(#t, acc, s, #joined, joined:sub(1, 40))
local p = io.popen("echo popen works")
print(p:read("l"))
p:close()
