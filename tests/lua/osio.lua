-- os and io: io.write, files written and read back (lines, numbers, "a", "l",
-- "L", byte counts), seek, io.lines, os.time with a fixed table, os.date with a
-- fixed time in UTC, os.getenv, os.remove/rename, os.tmpname.
io.write("io.write ", 1, " ", 2.5, "\n")
io.stdout:write("stdout:write\n")

local name = os.tmpname()
local f = assert(io.open(name, "w"))
f:write("first line\n", "second line\n", 42, " ", 3.5, " ", -7, "\n", "last without newline")
print("write returns file", io.type(f), f:seek("cur"), f:seek("end"))
f:close()
print("closed", io.type(f), pcall(f.write, f, "x"))

f = assert(io.open(name, "r"))
print("l", f:read("l"))
print("L", (f:read("L"):gsub("\n", "\\n")))
print("n n n", f:read("n", "n", "n"))
print("rest", f:read("a"))
print("at eof", f:read("a") == "", f:read("l"), f:read(0))
print("seek set", f:seek("set", 6), f:read(4), f:seek("cur"))
f:close()

local lines = {}
for line in io.lines(name) do lines[#lines + 1] = line end
print("io.lines", #lines, lines[1], lines[4])
for a, b in io.lines(name, 5, 1) do io.write("[", a, "|", b, "]") break end
print()

-- Append mode, then read with the default input.
f = assert(io.open(name, "a"))
f:write("\nappended")
f:close()
io.input(name)
local count = 0
for _ in io.lines() do count = count + 1 end
print("after append", count)
io.input():close()
io.input(io.stdin)

-- A bigger file: 100 000 lines written and summed back.
f = assert(io.open(name, "w"))
f:setvbuf("full", 65536)
for i = 1, 100000 do f:write(i, "\n") end
f:close()
local total = 0
for line in io.lines(name) do total = total + tonumber(line) end
print("big file sum", total)

-- Rename and remove.
local moved = name .. ".moved"
print("rename", os.rename(name, moved))
print("open old", io.open(name) == nil)
print("remove", os.remove(moved))
local ok, msg, code = os.remove(moved)
print("remove again", ok, msg ~= nil, type(code))
print("open missing", select(3, io.open("/nonexistent/file")))

-- Time and date with fixed inputs.
print("os.time", os.time({year = 2020, month = 2, day = 29, hour = 12, min = 0, sec = 0, isdst = false})
                 - os.time({year = 2020, month = 1, day = 1, hour = 12, min = 0, sec = 0, isdst = false}))
print("os.date", os.date("!%Y-%m-%d %H:%M:%S", 1700000000), os.date("!%j %A %B", 0))
local t = os.date("!*t", 86400 * 365)
print("date table", t.year, t.month, t.day, t.hour, t.yday, t.wday, t.isdst)
print("normalise", os.date("!%Y-%m-%d", os.time({year = 2021, month = 14, day = 1, hour = 12}) ))
print("difftime", os.difftime(100, 40), type(os.clock()))

-- Environment.
print("getenv", os.getenv("RUM_LUA_TEST_VALUE"), os.getenv("RUM_LUA_SURELY_UNSET"))
print("PATH set", os.getenv("PATH") ~= nil)

-- io.read from a pipe through io.popen.
local p = io.popen("echo from popen; echo second", "r")
print("popen", p:read("l"), p:read("l"), p:read("l"))
print("popen close", p:close())
local ex = io.popen("exit 3")
print("popen status", ex:close())

-- String buffers behave like files through io.write to a temporary file handle.
local tmp = io.tmpfile()
tmp:write(string.rep("0123456789", 1000))
tmp:seek("set", 9995)
print("tmpfile", tmp:read(10), tmp:seek("end"))
tmp:close()
