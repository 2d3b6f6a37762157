-- A syntax error: nothing runs, the message names the file and line, status 1.
print("never printed")
local function broken(
  return 1
end
