-- An uncaught runtime error: the message and traceback go to stderr, status 1.
print("started")
local function inner(t) return t.missing.field end
local function middle(t) local r = inner(t); return r end
local function outer() return middle({}) + 1 end
outer()
print("never reached")
