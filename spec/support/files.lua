-- Small file and shell helpers the specs share (Lua 5.1 to 5.4).
local M = {}

--- The whole file at `path`, or nil.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- Runs `cmd` with os.execute -> whether it exited 0 (5.1 gives the status, 5.2+ a boolean).
function M.sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

--- What `cmd` prints on stdout.
function M.output(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return out
end

return M
