--- klikit request bodies: validation and normalisation of the documented shapes.
-- Validators raise request_invalid with a message saying what to fix.
local errors = require("klikit.errors")
local util = require("klikit.util")
local json = require("klikit.http.json")

local M = {}
local invalid = errors.invalid

--- A shallow copy of a non-empty fields table (the caller's table is never modified).
function M.fields(what, fields)
  if type(fields) ~= "table" then invalid(what .. " expects a table of fields, got " .. type(fields)) end
  local copy = {}
  for k, v in pairs(fields) do
    if type(k) ~= "string" then invalid(what .. ": field names must be strings") end
    copy[k] = v
  end
  if next(copy) == nil then invalid(what .. ": no fields to send") end
  return copy
end

function M.text(name, v, min, max)
  if type(v) ~= "string" or #v < min or #v > max then
    invalid(string.format("%s must be a string of %d to %d bytes", name, min, max))
  end
  return v
end

--- A list of positive integer ids; `nonempty` requires at least one.
function M.ids(name, list, nonempty)
  if type(list) ~= "table" then invalid(name .. " must be a list of ids") end
  local n = #list
  for k in pairs(list) do
    if not util.is_integer(k) or k < 1 or k > n then invalid(name .. " must be a list (1..n), not a map") end
  end
  if nonempty and n == 0 then invalid(name .. " needs at least one id") end
  local out = json.array {}
  for i = 1, n do
    if not util.is_integer(list[i]) or list[i] < 1 then
      invalid(string.format("%s[%d] must be a positive integer id, got %s", name, i, tostring(list[i])))
    end
    out[i] = list[i]
  end
  return out
end

-- A provider id key: integer or numeric string -> string (klikit keys maps by string ids).
local function provider_key(name, k)
  if util.is_integer(k) and k >= 1 then return string.format("%d", k) end
  if type(k) == "string" and k:find("^%d+$") then return k end
  invalid(name .. ": keys must be provider ids (1 = klikit), got " .. tostring(k))
end

-- A map keyed by provider id: keys become strings, each value checked by fn(key, value).
local function by_provider(name, map, what, fn)
  if type(map) ~= "table" then invalid(name .. " must be a map of provider id -> " .. what) end
  local out = {}
  for k, v in pairs(map) do
    local key = provider_key(name, k)
    out[key] = fn(key, v)
  end
  return out
end

--- { [provider id] = bool }: keys become strings. Providers left out are hidden.
function M.visibilities(name, map)
  return by_provider(name, map, "boolean", function(key, v)
    if type(v) ~= "boolean" then invalid(name .. "[" .. key .. "] must be true or false") end
    return v
  end)
end

--- { [provider id] = { [ISO 4217] = { price, takeAwayPrice } } }; provider "1" is required.
function M.prices(name, map)
  local out = by_provider(name, map, "currency -> prices", function(key, per_currency)
    if type(per_currency) ~= "table" or next(per_currency) == nil then
      invalid(name .. "[" .. key .. "] must map currency codes to { price, takeAwayPrice }")
    end
    local prices = {}
    for currency, p in pairs(per_currency) do
      if type(currency) ~= "string" or not currency:find("^%u%u%u$") then
        invalid(name .. "[" .. key .. "]: currency keys are ISO 4217 codes such as IDR")
      end
      if type(p) ~= "table" or type(p.price) ~= "number" or p.price < 0
        or (p.takeAwayPrice ~= nil and (type(p.takeAwayPrice) ~= "number" or p.takeAwayPrice < 0)) then
        invalid(name .. "[" .. key .. "][" .. currency .. "] needs price (and takeAwayPrice) >= 0")
      end
      prices[currency] = { price = p.price, takeAwayPrice = p.takeAwayPrice }
    end
    return prices
  end)
  if not out["1"] then
    invalid(name .. " must include provider \"1\" (klikit's own marketplace); klikit rejects items without it")
  end
  return out
end

--- { ["0".."6"] = { disabled, slots = { { startTime, endTime } } } } with HHMM integers.
-- Accepts the read shape (start_time/end_time, integer day keys) and sends camelCase.
function M.available_times(name, map)
  if type(map) ~= "table" then invalid(name .. " must be a map of weekday (0..6) -> { disabled, slots }") end
  local out = {}
  for day, spec in pairs(map) do
    local key = tostring(day)
    if not key:find("^[0-6]$") then invalid(name .. ": weekday keys are 0..6, got " .. key) end
    if type(spec) ~= "table" then invalid(name .. "[" .. key .. "] must be { disabled, slots }") end
    local slots = json.array {}
    for i, slot in ipairs(spec.slots or {}) do
      local s = slot.startTime or slot.start_time
      local e = slot.endTime or slot.end_time
      for _, t in ipairs { s, e } do
        if not util.is_integer(t) or t < 0 or t > 2359 or t % 100 > 59 then
          invalid(string.format("%s[%s].slots[%d]: times are HHMM integers 0..2359, e.g. 900 for 09:00",
            name, key, i))
        end
      end
      if e <= s then invalid(string.format("%s[%s].slots[%d] ends before it starts", name, key, i)) end
      slots[i] = { startTime = s, endTime = e }
    end
    if spec.disabled ~= nil and type(spec.disabled) ~= "boolean" then
      invalid(name .. "[" .. key .. "].disabled must be a boolean")
    end
    out[key] = { disabled = spec.disabled == true, slots = slots }
  end
  return out
end

--- A locale map { en = "...", id = "..." } with at least one entry.
function M.locale(name, map)
  if type(map) ~= "table" or next(map) == nil then
    invalid(name .. " must be a locale map such as { en = \"Pizzas\" }")
  end
  for k, v in pairs(map) do
    if type(k) ~= "string" or not k:find("^%l%l$") or type(v) ~= "string" then
      invalid(name .. ": keys are ISO 639-1 codes (en, id, ...) and values strings")
    end
  end
  return map
end

--- [{ brandID, branchID }] (brand_id/branch_id accepted), at least one store.
function M.stores(name, list)
  if type(list) ~= "table" or #list == 0 then invalid(name .. " needs at least one { brandID, branchID }") end
  local out = json.array {}
  for i, s in ipairs(list) do
    local brand = type(s) == "table" and (s.brandID or s.brand_id)
    local branch = type(s) == "table" and (s.branchID or s.branch_id)
    if not util.is_integer(brand) or brand < 1 or not util.is_integer(branch) or branch < 1 then
      invalid(string.format("%s[%d] must be { brandID = <id>, branchID = <id> }", name, i))
    end
    out[i] = { brandID = brand, branchID = branch }
  end
  return out
end

function M.boolean(name, v, required)
  if v == nil and not required then return nil end
  if type(v) ~= "boolean" then invalid(name .. " must be true or false") end
  return v
end

--- The body of sync and populate: stores, sections { [id] = { sequence, availableTimes } },
--- fieldIncludeOnSync. A non-empty availableTimes is overlap-checked by klikit (send {}).
function M.sync(name)
  return function(fields)
    fields = M.fields(name, fields)
    fields.stores = M.stores(name .. ".stores", fields.stores)
    if fields.sections ~= nil then
      if type(fields.sections) ~= "table" then invalid(name .. ".sections must be a map of section id -> {...}") end
      local sections = {}
      for id, s in pairs(fields.sections) do
        local key = tostring(id)
        if not key:find("^%d+$") or type(s) ~= "table" then
          invalid(name .. ".sections: keys are section ids, values { sequence, availableTimes }")
        end
        local copy = {}
        for k, v in pairs(s) do copy[k] = v end
        if copy.availableTimes ~= nil then
          copy.availableTimes = M.available_times(name .. ".sections[" .. key .. "].availableTimes",
            copy.availableTimes)
        end
        sections[key] = copy
      end
      fields.sections = sections
    end
    if fields.fieldIncludeOnSync ~= nil then
      local list = json.array {}
      for i, f in ipairs(fields.fieldIncludeOnSync) do
        if type(f) ~= "string" then invalid(name .. ".fieldIncludeOnSync must be a list of field names") end
        list[i] = f
      end
      fields.fieldIncludeOnSync = list
    end
    return fields
  end
end

return M
