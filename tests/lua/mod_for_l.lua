-- A module for the -l option: require "mod_for_l" returns this table.
print("loading module", ...)
return {answer = 42, name = "mod_for_l"}
