--- JSON request bodies: encoded once per call (a retry resends the same bytes), with
-- object members in sorted order, so the same fields give the same bytes in every process
-- (a server that compares an Idempotency-Key's body byte for byte sees the same request),
-- and with lua-cjson 2.1.0's missing piece, empty arrays (klikit.array).
local cjson = require("cjson.safe").new()
local errors = require("klikit.errors")

local M = {}
local invalid = errors.invalid

local array_mt = { __name = "klikit.array" }

--- Marks `t` as a JSON array, so that an empty one is sent as [] (not {}).
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

local encode

-- A table whose keys are exactly 1..n -> n; else nil. Positive integer keys with holes
-- are refused: such a list cannot be sent as it is meant.
local function list_length(t)
  local n, max = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k % 1 ~= 0 then return nil end
    n = n + 1
    if k > max then max = k end
  end
  if n > 0 and max ~= n then
    invalid("request body cannot be encoded as JSON: a list with holes (keys up to " .. max .. ", " .. n .. " set)")
  end
  if n > 0 then return n end
  return nil
end

local function encode_table(t, depth, out)
  if depth > 64 then invalid("request body nests deeper than 64 levels") end
  local n = list_length(t)
  if n or (getmetatable(t) == array_mt and next(t) == nil) then
    out[#out + 1] = "["
    for i = 1, n or 0 do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], depth + 1, out)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" and type(k) ~= "number" then
      invalid("request body cannot be encoded as JSON: a table key is a " .. type(k))
    end
    keys[#keys + 1] = type(k) == "number" and string.format("%.14g", k) or k
  end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    encode(k, depth + 1, out)
    out[#out + 1] = ":"
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    encode(v, depth + 1, out)
  end
  out[#out + 1] = "}"
end

function encode(v, depth, out)
  if type(v) == "table" then return encode_table(v, depth, out) end
  local s, why = cjson.encode(v)
  if not s then invalid("request body cannot be encoded as JSON: " .. tostring(why)) end
  out[#out + 1] = s
end

--- Encodes a body table as JSON; raises request_invalid when it cannot be.
function M.encode(v)
  local out = {}
  encode(v, 0, out)
  return table.concat(out)
end

return M
