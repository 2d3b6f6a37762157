-- os.exit(n) ends the program at once with status n; buffered output is flushed.
io.write("before exit\n")
local t <close> = setmetatable({}, {__close = function() print("not closed: os.exit without close") end})
os.exit(3)
print("never reached")
