-- Coroutines: generators, wrap, status, yield across pcall, errors, close,
-- and many coroutines alive at once.
local function range(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i) end
  end)
end
local acc = {}
for v in range(5) do acc[#acc + 1] = v end
print("generator", table.concat(acc, " "))

-- Values go both ways through resume/yield.
local co = coroutine.create(function(a, b)
  print("start", a, b)
  local c = coroutine.yield(a + b)
  print("got", c)
  local d, e = coroutine.yield(c * 2)
  print("got", d, e)
  return "done", 99
end)
print("status", coroutine.status(co))
print("resume", coroutine.resume(co, 1, 2))
print("status", coroutine.status(co))
print("resume", coroutine.resume(co, 10))
print("resume", coroutine.resume(co, "x", "y"))
print("status", coroutine.status(co))
print("resume dead", coroutine.resume(co))

-- running, isyieldable, status "running" and "normal".
local main, ismain = coroutine.running()
print("main", type(main), ismain, coroutine.isyieldable())
local outer
outer = coroutine.create(function()
  local inner = coroutine.create(function()
    print("outer seen from inner", coroutine.status(outer))
    print("inner yieldable", coroutine.isyieldable())
  end)
  coroutine.resume(inner)
  print("outer itself", coroutine.status(outer))
end)
coroutine.resume(outer)

-- Yield across pcall (allowed in 5.4), and an error caught inside the coroutine.
local guarded = coroutine.wrap(function()
  local ok, err = pcall(function()
    coroutine.yield("yield inside pcall")
    error("after yield", 0)
  end)
  coroutine.yield("pcall returned " .. tostring(ok) .. " " .. err)
  local ok2, v = pcall(coroutine.yield, "yield as the pcall'd function")
  return "end " .. tostring(ok2) .. " " .. tostring(v)
end)
print(guarded())
print(guarded())
print(guarded())
print(guarded("resumed value"))

-- Errors inside a coroutine come back from resume; wrap re-raises them.
local bad = coroutine.create(function() local x = nil; return x.field end)
local ok, msg = coroutine.resume(bad)
print("error resume", ok, msg, coroutine.status(bad))
local okw, ew = pcall(coroutine.wrap(function() error({code = 7}) end))
print("wrap error", okw, type(ew), ew.code)
print("wrap error msg", select(2, pcall(coroutine.wrap(function() error("oops") end))))
print("resume dead wrap", pcall(coroutine.wrap(function() end)) )

-- coroutine.close runs pending to-be-closed variables.
local closing = coroutine.create(function()
  local res <close> = setmetatable({}, {__close = function() print("closed resource") end})
  coroutine.yield("holding")
end)
print(coroutine.resume(closing))
print("close", coroutine.close(closing), coroutine.status(closing))

-- Producer / consumer pipeline with a filter.
local function producer()
  return coroutine.create(function()
    for i = 1, 10 do coroutine.yield(i) end
    return nil
  end)
end
local function filter(src)
  return coroutine.create(function()
    while true do
      local _, v = coroutine.resume(src)
      if v == nil then return nil end
      if v % 2 == 1 then coroutine.yield(v * v) end
    end
  end)
end
local f = filter(producer())
local got = {}
while true do
  local _, v = coroutine.resume(f)
  if v == nil then break end
  got[#got + 1] = v
end
print("pipeline", table.concat(got, ","))

-- 100 000 coroutines alive, each suspended with its own stack.
local cos = {}
for i = 1, 100000 do
  cos[i] = coroutine.create(function(x) local y = coroutine.yield(x * 2); return x + y end)
  coroutine.resume(cos[i], i)
end
local total = 0
for i = 1, #cos do
  local _, v = coroutine.resume(cos[i], 1)
  total = total + v
end
print("many coroutines", #cos, total, coroutine.status(cos[1]))

-- Deep recursion inside a coroutine.
local deep = coroutine.wrap(function()
  local function down(n) if n == 0 then return 0 end return 1 + down(n - 1) end
  return down(10000)
end)
print("deep", deep())
