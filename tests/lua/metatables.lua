-- Metatables: __index (table and function, chains), __newindex, __call, __eq,
-- __lt, __le, __concat, __len, __close, arithmetic, __tostring, __name, __pairs.
local Vec = {}
Vec.__index = Vec
local function vec(x, y) return setmetatable({x = x, y = y}, Vec) end
function Vec.__add(a, b) return vec(a.x + b.x, a.y + b.y) end
function Vec.__sub(a, b) return vec(a.x - b.x, a.y - b.y) end
function Vec.__mul(a, b)
  if type(a) == "number" then return vec(a * b.x, a * b.y) end
  if type(b) == "number" then return vec(a.x * b, a.y * b) end
  return a.x * b.x + a.y * b.y
end
function Vec.__unm(a) return vec(-a.x, -a.y) end
function Vec.__eq(a, b) return a.x == b.x and a.y == b.y end
function Vec.__lt(a, b) return a:len2() < b:len2() end
function Vec.__le(a, b) return a:len2() <= b:len2() end
function Vec.__len(a) return 2 end
function Vec.__tostring(a) return "(" .. a.x .. "," .. a.y .. ")" end
function Vec.__concat(a, b) return tostring(a) .. tostring(b) end
function Vec.__call(self, k) return self[k] end
function Vec.__idiv(a, n) return vec(a.x // n, a.y // n) end
function Vec.__mod(a, n) return vec(a.x % n, a.y % n) end
function Vec.__div(a, n) return vec(a.x / n, a.y / n) end
function Vec.__pow(a, n) return vec(a.x ^ n, a.y ^ n) end
function Vec:len2() return self.x * self.x + self.y * self.y end

local a, b = vec(1, 2), vec(3, 4)
print("add", tostring(a + b), "sub", tostring(b - a), "dot", a * b, "scale", tostring(2 * a))
print("unm", tostring(-a), "idiv", tostring(b // 2), "mod", tostring(b % 3))
print("div", tostring(b / 2), "pow", tostring(a ^ 2))
print("eq", a == vec(1, 2), a == b, a ~= b, rawequal(a, vec(1, 2)))
print("lt", a < b, b < a, "le", a <= vec(2, 1), b <= a, "gt", b > a, "ge", a >= b)
print("len", #a, rawlen(a), "concat", a .. b, a .. "!", "?" .. b)
print("call", a("x"), a("y"))

-- __index as a function and inheritance chains.
local Base = {kind = "base", hello = function(self) return "hello from " .. self.name end}
local Mid = setmetatable({kind = "mid"}, {__index = Base})
local obj = setmetatable({name = "obj"}, {__index = Mid})
print("chain", obj.kind, obj:hello(), rawget(obj, "kind"))
local computed = setmetatable({}, {__index = function(t, k) return k .. "!" end})
print("computed", computed.foo, computed[1])

-- __newindex: a table target and a function that logs.
local store = {}
local proxy = setmetatable({}, {__newindex = store, __index = store})
proxy.a = 1
print("newindex table", rawget(proxy, "a"), store.a, proxy.a)
local log = {}
local logged = setmetatable({}, {__newindex = function(t, k, v)
  log[#log + 1] = k .. "=" .. tostring(v)
  rawset(t, k, v)
end})
logged.x = 1; logged.y = 2; logged.x = 3
print("newindex fn", table.concat(log, " "), logged.x)

-- A read-only table.
local function readonly(t)
  return setmetatable({}, {__index = t, __newindex = function() error("read-only table", 2) end,
                           __len = function() return #t end})
end
local ro = readonly({1, 2, 3})
print("readonly", #ro, ro[2], pcall(function() ro[1] = 5 end))

-- __close on to-be-closed variables: order, errors and normal exits.
do
  local function res(name)
    return setmetatable({}, {__close = function(_, err) print("close", name, err) end})
  end
  do
    local r1 <close> = res("first")
    local r2 <close> = res("second")
    print("in block")
  end
  print(pcall(function()
    local r3 <close> = res("third")
    error("block failed", 0)
  end))
  local function early()
    local r4 <close> = res("fourth")
    return "returned"
  end
  print(early())
  for i, v in ipairs({"loop"}) do local r5 <close> = res(v) end
  local nothing <close> = nil
end

-- __pairs, __name and __metatable.
local custom = setmetatable({}, {__pairs = function(t)
  local i = 0
  return function() i = i + 1; if i <= 3 then return i, i * 10 end end, t, nil
end})
local items = {}
for k, v in pairs(custom) do items[#items + 1] = k .. ":" .. v end
print("pairs", table.concat(items, " "))
local guarded = setmetatable({}, {__metatable = "locked"})
print("metatable", getmetatable(guarded), pcall(setmetatable, guarded, {}))
local named = setmetatable({}, {__name = "MyType"})
print("name", (tostring(named):gsub("0x%x+", "ADDR"):gsub(": [%x]+$", ": ADDR")))

-- Strings have a metatable whose __index is string.
print("string meta", getmetatable("").__index == string, ("x"):rep(2))

-- Bitwise metamethods.
local Bits = {}
Bits.__band = function(a, b) return "band" end
Bits.__bor = function(a, b) return "bor" end
Bits.__bxor = function(a, b) return "bxor" end
Bits.__shl = function(a, b) return "shl" end
Bits.__shr = function(a, b) return "shr" end
Bits.__bnot = function(a) return "bnot" end
local bits = setmetatable({}, Bits)
print("bitwise", bits & 1, bits | 1, bits ~ 1, bits << 1, bits >> 1, ~bits)

-- A class with many instances.
local Account = {}
Account.__index = Account
function Account.new(balance) return setmetatable({balance = balance}, Account) end
function Account:deposit(v) self.balance = self.balance + v end
local accounts = {}
for i = 1, 100000 do
  local acc = Account.new(i)
  acc:deposit(1)
  accounts[i] = acc
end
local total = 0
for _, acc in ipairs(accounts) do total = total + acc.balance end
print("accounts", total)
