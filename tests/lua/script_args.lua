-- The script sees its arguments as ... and in arg[1..n]; arg[0] is the script.
print("arg[0]", arg[0])
print("#arg", #arg, "select('#', ...)", select("#", ...))
for i = 1, #arg do print(i, arg[i], (select(i, ...))) end
print("interpreter at a negative index", type(arg[-1]))
local lowest = 0
while arg[lowest - 1] ~= nil do lowest = lowest - 1 end
print("options before the script", -lowest - 1)
