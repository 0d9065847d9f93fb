-- Deterministic JSON encoder for the sandbox: sorted object keys (so a replayed answer is
-- byte-identical), explicit arrays (lua-cjson 2.1.0 would encode {} for an empty list).
local M = {}

local array_mt = { __name = "json.array" }
M.null = setmetatable({}, { __tostring = function() return "null" end })

function M.array(t)
  return setmetatable(t or {}, array_mt)
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function number(v)
  if v ~= v or v == math.huge or v == -math.huge then error("json: cannot encode " .. tostring(v)) end
  if v == math.floor(v) and v > -2^53 and v < 2^53 then return string.format("%d", v) end
  for p = 15, 17 do
    local s = string.format("%." .. p .. "g", v)
    if tonumber(s) == v then return s end
  end
  return string.format("%.17g", v)
end

local encode

local function encode_table(t, out)
  if getmetatable(t) == array_mt or (t[1] ~= nil and getmetatable(t) == nil and next(t, #t) == nil) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = quote(k)
    out[#out + 1] = ":"
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    encode(v, out)
  end
  out[#out + 1] = "}"
end

encode = function(v, out)
  local t = type(v)
  if v == nil or v == M.null then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then out[#out + 1] = number(v)
  elseif t == "string" then out[#out + 1] = quote(v)
  elseif t == "table" then encode_table(v, out)
  else error("json: cannot encode a " .. t) end
end

function M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

return M
