--- One value as one line of JSON, with every number exact. lua-cjson 2.1.0 writes numbers
-- with at most 14 significant digits: a latitude of -8.124293388269452 would come out as
-- -8.1242933882695 and an integer past 10^14 in exponent form. Such numbers (rare: only
-- those 14 digits do not give back) are swapped for a per-process token before encoding
-- and the token for the exact text after: integers in full, other numbers as the
-- shortest of 15, 16 or 17 significant digits that reads back as the same double. The
-- value is left as it was.
local core = require("klikit.core")
local cjson = require("cjson.safe").new()

local M = {}

local PREFIX = "klikit-number-" .. core.uuid4() .. "-"
local PATTERN = '"' .. PREFIX:gsub("%p", "%%%0") .. '(%d+)"'
local floor, format, tonumber, type, pairs = math.floor, string.format, tonumber, type, pairs

local function exact(v)
  if v == floor(v) and v > -2 ^ 63 and v < 2 ^ 63 then return format("%d", v) end
  for digits = 15, 17 do
    local s = format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return format("%.17g", v)
end

-- Whether cjson's 14 digits give `v` back.
local function fits(v)
  if v == floor(v) then return v > -1e14 and v < 1e14 end
  return tonumber(format("%.14g", v)) == v
end

local function swap(t, depth, swapped)
  if depth > 100 then return end
  for k, v in pairs(t) do
    local tv = type(v)
    if tv == "number" then
      if v == v and v ~= 1 / 0 and v ~= -1 / 0 and not fits(v) then
        local n = #swapped + 1
        swapped[n] = { t, k, v }
        t[k] = PREFIX .. n
      end
    elseif tv == "table" then
      swap(v, depth + 1, swapped)
    end
  end
end

--- value -> JSON text | nil, why
function M.encode(value)
  local swapped = {}
  if type(value) == "table" then swap(value, 0, swapped) end
  local text, why = cjson.encode(value)
  for _, s in ipairs(swapped) do s[1][s[2]] = s[3] end -- put the numbers back
  if not text then return nil, why end
  if #swapped > 0 then
    text = text:gsub(PATTERN, function(n) return exact(swapped[tonumber(n)][3]) end)
  end
  return text
end

M.number = exact

return M
