--- JSON request bodies: encoded once per call (a retry resends the same bytes), with
-- lua-cjson 2.1.0's missing piece, empty arrays.
local core = require("klikit.core")
local errors = require("klikit.errors")
local cjson = require("cjson.safe").new()

local M = {}
local invalid = errors.invalid

local array_mt = { __name = "klikit.array" }

--- Marks `t` as a JSON array, so that an empty one is sent as [] (not {}).
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

-- lua-cjson 2.1.0 cannot emit an empty array: such tables are swapped for a per-process
-- token before encoding and the encoded token for [] after.
local EMPTY_TOKEN = "klikit-empty-array-" .. core.uuid4()
local EMPTY_PATTERN = ('"' .. EMPTY_TOKEN .. '"'):gsub("%p", "%%%0")

local function prepare(v, depth)
  if type(v) ~= "table" then return v end
  if depth > 64 then invalid("request body nests deeper than 64 levels") end
  if getmetatable(v) == array_mt and next(v) == nil then return EMPTY_TOKEN end
  local copy = {}
  for k, x in pairs(v) do copy[k] = prepare(x, depth + 1) end
  return copy
end

--- Encodes a body table as JSON; raises request_invalid when it cannot be.
function M.encode(v)
  local encoded, why = cjson.encode(prepare(v, 0))
  if not encoded then invalid("request body cannot be encoded as JSON: " .. tostring(why)) end
  local out = encoded:gsub(EMPTY_PATTERN, "[]")
  return out
end

return M
