-- Read as a chunk from standard input (rum-lua - a b, or rum-lua < file).
print("from stdin", select("#", ...), ...)
print("arg[0] is a string", type(arg[0]) == "string", "#arg", #arg)
local t = {}
for i = 1, 10 do t[i] = i * i end
print(table.concat(t, " "))
