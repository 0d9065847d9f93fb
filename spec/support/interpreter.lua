-- The interpreter this suite runs on, for the specs that start another Lua process:
-- its command (lua5.1, lua5.3, lua5.4, luajit) and the Lua ABI of its module trees.
local M = {}
local jit = rawget(_G, "jit")
M.command = type(jit) == "table" and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
M.abi = type(jit) == "table" and "5.1" or _VERSION:match("%d+%.%d+")
return M
