-- A Lua heap of about 250 MiB of live data: long strings, a big array and many
-- small tables. Everything is built, then verified in full, then summarised by a
-- checksum. Run under rum-lua with a page cache much smaller than the heap, every
-- object goes to the memory nodes and comes back.
local STRINGS, STRING_BYTES = 3000, 65536        -- 187.5 MiB
local INTS = 2000000                             -- 32 MiB of array slots
local SMALL = 300000                             -- ~30 MiB of small tables
local M = 4294967296

local function piece(i) return string.format("%07d|", i) end   -- 8 bytes

local strings = {}
for i = 1, STRINGS do strings[i] = string.rep(piece(i), STRING_BYTES // 8) end
local ints = {}
for i = 1, INTS do ints[i] = i * 2654435761 % M end
local small = {}
for i = 1, SMALL do small[i] = {i, i * 3, tag = i % 97} end

local mib = collectgarbage("count") / 1024
print("live heap over 240 MiB", mib > 240)

-- Verify everything, in a different order than it was written.
local bad = 0
for i = STRINGS, 1, -1 do
  local s = strings[i]
  if #s ~= STRING_BYTES or s ~= string.rep(piece(i), STRING_BYTES // 8) then bad = bad + 1 end
end
for i = 1, INTS, 3 do if ints[i] ~= i * 2654435761 % M then bad = bad + 1 end end
for i = 2, INTS, 3 do if ints[i] ~= i * 2654435761 % M then bad = bad + 1 end end
for i = 3, INTS, 3 do if ints[i] ~= i * 2654435761 % M then bad = bad + 1 end end
for i = SMALL, 1, -1 do
  local t = small[i]
  if t[1] ~= i or t[2] ~= i * 3 or t.tag ~= i % 97 then bad = bad + 1 end
end
print("mismatches", bad)

-- Checksum over sampled bytes of every string and all numbers.
local h = 0
for i = 1, STRINGS do
  local s = strings[i]
  for pos = 1 + i % 61, STRING_BYTES, 4093 do h = (h * 31 + s:byte(pos)) % M end
end
for i = 1, INTS do h = (h + ints[i]) % M end
for i = 1, SMALL do h = (h * 7 + small[i][2] + small[i].tag) % M end
print("checksum", h)

-- Drop half of it, collect, and make sure the rest is intact.
for i = 1, STRINGS, 2 do strings[i] = false end
ints = nil
collectgarbage()
local still = 0
for i = 2, STRINGS, 2 do
  if strings[i]:sub(1, 8) == piece(i) and strings[i]:sub(-8) == piece(i) then still = still + 1 end
end
print("after collection", still, collectgarbage("count") / 1024 < mib)
