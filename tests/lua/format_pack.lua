-- string.format in all its conversions, and string.pack / unpack / packsize.
local fmt = string.format
print(fmt("%d %5d %-5d| %05d %+d %i", 42, 42, 42, 42, 42, -7))
print(fmt("%u %c%c%c %o %x %X %#x %#o", 3000000000, 76, 117, 97, 511, 48879, 48879, 255, 8))
print(fmt("%f %.3f %10.2f %-10.2f| %e %.2E %g %g %g %G", math.pi, math.pi, math.pi, math.pi,
          123456.789, 0.000123, 1e20, 0.5, 100000000000000, 1e-10))
print(fmt("%a %A", 1.0, 0.5))
print(fmt("%s %10s %-10s| %.3s", "str", "right", "left", "truncate"))
print(fmt("%q", "quote \"this\"\n\ttab\0nul\200high\r"))
print(fmt("%q %q %q %q", 1, 1.5, math.mininteger, 1/0), fmt("%q", -1/0))
print(fmt("%s %s %s %s", nil, true, 12, 1.25))
print(fmt("%%literal %s", setmetatable({}, {__tostring = function() return "via tostring" end})))
print(fmt("%5.1s|%.0f|%.0f|%.0f", "abc", 0.5, 1.5, 2.5))
print(fmt("%d", 3.0), pcall(fmt, "%d", 3.5))
print(fmt("%-+8.3f|%+.0e|% d", 2.5, 12345, 5))
print(#fmt("%099d", 7), fmt("%.14g", 0.1 + 0.2), fmt("%.17g", 0.1))
print(tostring(0.1 + 0.2), 100 / 3, -0.0, 1e300 * 1e10, math.huge // 1, 3 | 0)
print(math.type(1), math.type(1.0), math.type("1"), 1 == 1.0, math.tointeger(3.0), 10 // 3.0)
print(string.format("%s", 2^31), 2^31 | 0, "10" + 5, "3.5" * 2, 10 .. "")

-- pack / unpack round trips with every common format.
local packed = string.pack("i1i2i4i8", -1, -2, -3, -4)
print("ints", #packed, string.unpack("i1i2i4i8", packed))
packed = string.pack("<I2>I2=I4", 0x1234, 0x1234, 0xdeadbeef)
print("endian", (packed:gsub(".", function(c) return fmt("%02x", c:byte()) end)))
print("unsigned", string.unpack("<I2>I2=I4", packed))
packed = string.pack("<d f n j J", 1.5, 0.25, -2.75, math.mininteger, -1)
print("floats", #packed, string.unpack("<d f n j J", packed))
packed = string.pack("z s1 s2 s", "zero", "one", "two", "default")
print("strings", #packed, string.unpack("z s1 s2 s", packed))
packed = string.pack("c5 c3", "abc", "xyz")
local c5, c3, nextpos = string.unpack("c5c3", packed)
print("fixed", #packed, (packed:gsub("%z", ".")), (c5:gsub("%z", ".")), c3, nextpos)
packed = string.pack("!4 i1 i4 !8 i1 d", 1, 2, 3, 4.0)
print("aligned", #packed, string.unpack("!4 i1 i4 !8 i1 d", packed))
packed = string.pack("<i3 I3 i16", -100000, 100000, -5)
print("odd sizes", #packed, string.unpack("<i3 I3 i16", packed))
print("packsize", string.packsize("i4 i8 d"), string.packsize("!8 i1 d"), string.packsize("c10 x Xi4"))
print("position", string.unpack("i1", "\1\2\3", 2), string.unpack("<i2", "\0\1\2\3", -2))
print("overflow", pcall(string.pack, "i1", 200), pcall(string.pack, "I1", -1))
print("bad fmt", pcall(string.pack, "i17", 1))
print("short data", pcall(string.unpack, "i4", "abc"))

-- A bulk round trip: 10 000 records.
local records = {}
for i = 1, 10000 do
  records[i] = string.pack("<i4 d s1", i, i / 8, "rec" .. i)
end
local blob = table.concat(records)
local pos, sum, n = 1, 0.0, 0
while pos <= #blob do
  local id, val, name
  id, val, name, pos = string.unpack("<i4 d s1", blob, pos)
  assert(name == "rec" .. id)
  sum = sum + val
  n = n + 1
end
print("records", #blob, n, sum)
