-- String building: .. in loops, table.concat, string.rep, and the string library.
local s = ""
for i = 1, 20000 do s = s .. (i % 10) end
print("concat loop", #s, s:sub(1, 12), s:sub(-5))

local parts = {}
for i = 1, 200000 do parts[#parts + 1] = tostring(i) end
local joined = table.concat(parts, ",")
print("table.concat", #joined, joined:sub(1, 20), joined:sub(-13))

local big = string.rep("abc", 1000000, "-")
print("rep", #big, big:sub(1, 11), big:sub(-7))
print("rep empty", #string.rep("x", 0), string.rep("ab", 3))

-- Hash of a long string, computed byte by byte (deterministic checksum).
local function checksum(str)
  local h = 0
  for i = 1, #str, 97 do h = (h * 31 + str:byte(i)) % 4294967296 end
  return h
end
print("checksum", checksum(big), checksum(joined))

-- Interned short strings vs long strings.
local a, b = "short" .. "str", "shortstr"
print("equal short", a == b)
local la, lb = string.rep("L", 100) .. "x", string.rep("L", 100) .. "x"
print("equal long", la == lb, #la)

-- Pattern matching.
print(("hello world from lua"):gsub("%w+", string.upper))
print(("key=val; k2=v2"):match("(%w+)=(%w+)"))
for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do io.write(k, ":", v, " ") end
print()
print(("  trim me  "):match("^%s*(.-)%s*$") .. "|")
print(string.find("the quick brown fox", "quick"), string.find("a.b", ".", 1, true))
print(("%d items"):format(5), ("x"):rep(3), ("Lua"):reverse(), ("MiXeD"):lower())
print(string.byte("ABC", 1, -1), string.char(72, 105))
print(("abc"):len(), #"", ("\0a\0"):len())
print(("f(a,b)"):gsub("%((.-)%)", "[%1]"))
print(string.format("%5.2f|%-5d|%05d|%x|%X|%o|%e|%g|%s|%q", 3.14159, 42, 42, 255, 255, 8, 12345.678, 0.0001, "s", "a\nb\"c"))
print(tostring(1e15), tostring(1e16), 2^63, math.maxinteger, math.mininteger, 7 // 2, 7.0 // 2, 7 % -3, -7 % 3)
print(utf8.char(72, 228, 8364, 128512), utf8.len("häll€"), #utf8.char(128512))
for p, c in utf8.codes("aé€") do io.write(p, "=", c, " ") end
print()

-- Many distinct strings alive at once.
local pool = {}
for i = 1, 100000 do pool[i] = ("item-%06d-%s"):format(i, string.rep("z", i % 50)) end
local len = 0
for i = 1, #pool do len = len + #pool[i] end
print("pool", #pool, len, pool[99999])

-- A buffer that grows by doubling.
local buf = "x"
while #buf < 8 * 1024 * 1024 do buf = buf .. buf end
print("doubled", #buf)
