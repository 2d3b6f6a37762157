-- string-builder: building text the ways Lua programs do: .. in a loop,
-- table.concat of many pieces, string.format, string.rep and gsub over the result.
-- Argument: the number of records (default 300000).
local n = tonumber(arg and arg[1]) or 300000

local parts = {}
for i = 1, n do
  parts[#parts + 1] = string.format("%d:%s:%0.3f;", i, string.rep("x", i % 17), i / 7)
end
local doc = table.concat(parts)

local line, lines = "", {}
for i = 1, n do
  line = line .. (i % 10)
  if #line >= 80 then lines[#lines + 1] = line; line = "" end
end
local text = table.concat(lines, "\n")

local upper, replaced = doc:gsub("x+", string.upper)
local words = 0
for _ in text:gmatch("%d%d%d%d%d%d%d%d%d%d") do words = words + 1 end

local h = 0
for i = 1, #upper, 101 do h = (h * 31 + upper:byte(i)) % 4294967296 end
print(#doc, #text, replaced, words, h)
