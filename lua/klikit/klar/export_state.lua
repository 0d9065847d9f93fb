--- The export's state file: where the last complete run ended (checkpoint), the run in
-- progress (its range, the klikit walk's state after the last batch Klar accepted, and
-- the ids still to retry), and the orders Klar rejected or that could not be mapped.
-- JSON, written whole and atomically (temp file, fsync, rename) by klikit.core; guarded
-- by an flock on "<state_file>.lock" that the kernel drops when the process dies.
--
--   { "version": 1, "checkpoint": <unix s>,
--     "run": { "from": <unix s>, "to": <unix s>, "checkpoint": <unix s, min(to, start of the run)>,
--              "walk": <pager state>, "retry": [ids], "phase": "walk"|"retry" },
--     "rejected": { "<id>": ["message", ...] }, "unmappable": { "<id>": "message" } }
local core = require("klikit.core")
local errors = require("klikit.errors")
local json = require("klikit.http.json")

local M = {}
M.VERSION = 1
M.MAX_BYTES = 64 * 1024 * 1024

local function state_error(path, why)
  return errors.new { code = "export_state_invalid", api = "klar",
    message = string.format("export state %s: %s", path, why) }
end
M.error = state_error

--- Takes the lock of `path` -> lock | nil, err (export_locked when another run holds it).
function M.lock(path)
  local lock, why = core.lock(path .. ".lock")
  if lock then return lock end
  if tostring(why):find("locked by another process", 1, true) then
    return nil, errors.new { code = "export_locked", api = "klar", message = string.format(
      "another export is running on %s (it holds %s.lock); nothing was changed", path, path) }
  end
  return nil, state_error(path, why)
end

local function is_time(v) return v == nil or (type(v) == "number" and v == v and v >= 0 and v < 1e11) end

local function valid(s)
  if type(s) ~= "table" or s.version ~= M.VERSION or not is_time(s.checkpoint) then return false end
  if type(s.rejected) ~= "table" or type(s.unmappable) ~= "table" then return false end
  for id, msgs in pairs(s.rejected) do
    if type(id) ~= "string" or type(msgs) ~= "table" then return false end
  end
  for id, msg in pairs(s.unmappable) do
    if type(id) ~= "string" or type(msg) ~= "string" then return false end
  end
  local run = s.run
  if run == nil then return true end
  if type(run) ~= "table" or not is_time(run.from) or not is_time(run.to) or not is_time(run.checkpoint)
    or type(run.retry) ~= "table"
    or (run.walk ~= nil and type(run.walk) ~= "table") or (run.phase ~= "walk" and run.phase ~= "retry") then
    return false
  end
  for _, id in ipairs(run.retry) do if type(id) ~= "string" then return false end end
  return true
end

--- Reads the state -> state (a fresh one when the file does not exist) | nil, err.
function M.read(path)
  local f, why, errno = io.open(path, "rb")
  if not f then
    if errno ~= 2 then return nil, state_error(path, "cannot be read: " .. tostring(why)) end -- 2: ENOENT
    return { version = M.VERSION, rejected = {}, unmappable = {} }
  end
  local body = f:read(M.MAX_BYTES + 1) or ""
  f:close()
  if #body > M.MAX_BYTES then return nil, state_error(path, "is larger than 64 MiB") end
  local s, kind, msg = core.decode_json(body)
  if kind then return nil, state_error(path, "is not JSON (" .. tostring(msg) .. ")") end
  -- empty JSON objects come back as empty tables, so {} maps read as {}
  if type(s) == "table" then
    s.rejected = s.rejected or {}
    s.unmappable = s.unmappable or {}
  end
  if not valid(s) then
    return nil, state_error(path, "is not a klikit export state (version " .. M.VERSION
      .. "); move it aside to start over")
  end
  return s
end

--- Writes the state atomically -> true | nil, err.
function M.write(path, s)
  local body = json.encode { version = M.VERSION, checkpoint = s.checkpoint, run = s.run,
    rejected = s.rejected, unmappable = s.unmappable } -- cjson writes an empty table as {}
  local ok, why = core.write_atomic(path, body)
  if not ok then return nil, state_error(path, why) end
  return true
end

return M
