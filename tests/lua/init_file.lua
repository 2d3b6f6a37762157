-- Run by LUA_INIT=@init_file.lua before the command line's chunks.
print("init file ran")
INIT_VALUE = 1234
