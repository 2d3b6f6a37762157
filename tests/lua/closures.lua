-- Closures and upvalues: counters, shared upvalues, loops capturing fresh
-- variables, recursion, varargs, tail calls, many live closures.
local function counter(start)
  local n = start
  return function(step) n = n + (step or 1); return n end,
         function() return n end
end
local inc, get = counter(10)
inc(); inc(5)
print("counter", get(), inc(), get())

-- Two closures share one upvalue.
local function pair()
  local shared = 0
  return function() shared = shared + 1 end, function() return shared end
end
local bump, read = pair()
for _ = 1, 7 do bump() end
print("shared", read())

-- Each loop iteration has its own variable.
local fns = {}
for i = 1, 5 do fns[i] = function() return i * i end end
local out = {}
for i = 1, 5 do out[i] = fns[i]() end
print("loop capture", table.concat(out, " "))

-- Upvalue survives after its frame returned, and is closed per block.
local makers = {}
do
  local x = 1
  while x <= 3 do
    local y = x * 100
    makers[x] = function() return y + x end
    x = x + 1
  end
end
print("closed", makers[1](), makers[2](), makers[3]())

-- Recursion through an upvalue.
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print("fib", fib(25))

-- Deep tail calls do not grow the stack.
local function loop(n, acc) if n == 0 then return acc end return loop(n - 1, acc + n) end
print("tail", loop(1000000, 0))

-- Varargs.
local function va(...)
  local n = select("#", ...)
  return n, select(2, ...)
end
print("varargs", va(1, nil, 3, nil))
print("select", select(-1, "a", "b", "c"), select("#"))
local function pass(...) return ... end
print("pass", pass(1, 2, 3))
print("pack/unpack", table.unpack(table.pack(pass("x", "y"))))

-- A million closures alive at once, each with its own upvalue.
local many = {}
for i = 1, 1000000 do many[i] = function() return i end end
local s = 0
for i = 1, #many, 1000 do s = s + many[i]() end
print("many closures", #many, s)
many = nil

-- Functional helpers.
local function map(f, t) local r = {} for i, v in ipairs(t) do r[i] = f(v) end return r end
local function compose(f, g) return function(...) return f(g(...)) end end
local sq_then_neg = compose(function(x) return -x end, function(x) return x * x end)
print("compose", table.concat(map(sq_then_neg, {1, 2, 3, 4}), ","))

-- Memoisation with a closure over a table.
local function memo(f)
  local cache = {}
  return function(n)
    local v = cache[n]
    if v == nil then v = f(n); cache[n] = v end
    return v
  end
end
local mfib
mfib = memo(function(n) if n < 2 then return n end return mfib(n - 1) + mfib(n - 2) end)
print("memo fib", mfib(90))

-- debug.getupvalue / setupvalue names.
local secret = 42
local function peek() return secret end
print("upvalue", debug.getupvalue(peek, 1))
debug.setupvalue(peek, 1, 43)
print("after set", peek(), secret)

-- load with an environment.
local env = {x = 5}
local chunk = load("return x * 2", "chunk", "t", env)
print("load env", chunk())
local f = load(string.dump(function(a) return a + 1 end))
print("dump/load", f(41))
