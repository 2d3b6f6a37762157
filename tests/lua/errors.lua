-- Errors: error with strings, levels and tables; pcall and xpcall with handlers
-- (tracebacks without addresses); nested errors; assert; runtime error texts.
print(pcall(error, "plain", 0))
print(pcall(error))
print(pcall(error, nil))
print(pcall(error, 42))

local function lvl1() error("level one", 1) end
local function lvl2() error("level two", 2) end
local function call_lvl2() lvl2() end
print(pcall(lvl1))
print(pcall(call_lvl2))

-- Error objects that are tables keep their identity.
local E = {}
E.__index = E
E.__tostring = function(e) return "E(" .. e.code .. ")" end
local function throw(code) error(setmetatable({code = code}, E)) end
local ok, e = pcall(throw, 404)
print("table error", ok, getmetatable(e) == E, e.code, tostring(e))

-- xpcall with a handler that sees the original object and adds context.
print(xpcall(function() throw(500) end, function(err) return "handled " .. tostring(err) end))
print(xpcall(function(a, b) return a + b end, print, 2, 3))

-- A traceback handler: print the frames, with nothing that varies by address.
local function handler(msg)
  local tb = debug.traceback(msg, 2)
  return (tb:gsub("0x%x+", "ADDR"))
end
local function deep(n) if n == 0 then local t = nil; return t.x end return deep(n - 1) + 1 end
local ok2, tb = xpcall(deep, handler, 3)
print(ok2)
print(tb)

-- Errors inside the handler.
print(xpcall(function() error("first") end, function() error("in handler") end))

-- Nested pcall: the inner error does not escape, the outer one does.
print(pcall(function()
  local inner_ok, inner = pcall(error, "inner", 0)
  error("outer after " .. tostring(inner_ok) .. " " .. inner, 0)
end))

-- assert.
print(pcall(assert, false))
print(pcall(assert, nil, "custom message"))
print(pcall(assert, 1 == 1, "unused"))
print(select("#", assert(1, 2, 3)))
local oka, ea = pcall(assert, false, {code = 1})
print(oka, type(ea), ea.code)

-- Runtime errors and their messages.
local function msg(f, ...) local _, m = pcall(f, ...) return m end
print(msg(function() return 1 + {} end))
print(msg(function() return #nil end))
print(msg(function() local t = {} ; return t.a.b end))
print(msg(function() return ("x") < 1 end))
print(msg(function() return {} < {} end))
print(msg(function() undefinedfunction() end))
print(msg(function() return 1 // 0 end))
print(msg(function() return math.tointeger(2^63) end))
print(msg(function() return ("abc"):rep(-1):x() end))
print(msg(string.rep))
print(msg(setmetatable, 1, {}))
print(msg(function() return 2^53 | 0.5 end))
print(msg(function() local a <const> = 1; return a .. {} end))
print(msg(function() string.format("%d", 1.5) end))
print(msg(function() return tostring() end))
print(load("x = = 1", "=chunk"))
print(load("return 1", "=chunk", "b"))

-- error() with a level that points at the caller's line.
local function checkpositive(n) if n <= 0 then error("must be positive", 2) end return n end
print(pcall(function() return checkpositive(-1) end))

-- Closing a to-be-closed variable when an error passes.
print(pcall(function()
  local guard <close> = setmetatable({}, {__close = function(_, err) print("closing with", err) end})
  error("through close", 0)
end))

-- Errors in coroutines keep their traceback inside the coroutine.
local co = coroutine.create(function() local x = {} ; return x.y.z end)
local okc, errc = coroutine.resume(co)
print(okc, errc)
print((debug.traceback(co):gsub("0x%x+", "ADDR")))

-- Stack overflow is caught.
local function recurse() return 1 + recurse() end
local okr, errr = pcall(recurse)
print("overflow", okr, (errr:match("stack overflow") ~= nil))

-- Memory errors from a huge string.rep are reported as errors.
print(pcall(string.rep, "x", math.maxinteger))
