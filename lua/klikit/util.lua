--- Small pure helpers: argument checks and RFC 3339 time handling.
local errors = require("klikit.errors")

local M = {}
local invalid = errors.invalid

local function is_integer(v)
  return type(v) == "number" and v == math.floor(v) and v > -2^53 and v < 2^53
end
M.is_integer = is_integer

-- A failure's meta also reads as its error (meta.code, tostring(meta)): LuaJIT's assert,
-- given assert(nil, err, meta), raises its last argument, so `assert(client:order(1))`
-- in OpenResty raises something that still says what went wrong.
local function finish(a, b, c, ...)
  if a == nil and errors.is_error(b) and type(c) == "table" and getmetatable(c) == nil then
    setmetatable(c, { __index = b, __tostring = function() return tostring(b) end })
  end
  return a, b, c, ...
end

--- Wraps every method of `class` (not its metamethods) so that calling one on anything
--- but an instance (client.order(1) instead of client:order(1)) raises request_invalid
--- naming the mistake, rather than a Lua error from deep inside.
function M.guard_methods(class, what)
  for name, fn in pairs(class) do
    if type(fn) == "function" and name:sub(1, 2) ~= "__" then
      class[name] = function(self, ...)
        if getmetatable(self) ~= class then
          invalid(string.format("%s:%s(...) is a method: call it with a colon on a %s", what, name, what))
        end
        return finish(fn(self, ...))
      end
    end
  end
end

--- Checks an optional integer argument within [lo, hi] (hi may be nil).
function M.check_int(name, v, lo, hi)
  if v == nil then return nil end
  if not is_integer(v) or v < lo or (hi and v > hi) then
    invalid(string.format("%s must be an integer in %d..%s, got %s", name, lo,
      hi and string.format("%d", hi) or "", tostring(v)))
  end
  return v
end

--- Checks that `t` only has keys listed in `allowed` (catches typos such as `form`).
function M.check_keys(what, t, allowed)
  if t == nil then return {} end
  if type(t) ~= "table" then invalid(what .. " expects a table of parameters, got " .. type(t)) end
  for k in pairs(t) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      table.sort(names)
      invalid(string.format("%s: unknown parameter %s (known: %s)", what, tostring(k),
        table.concat(names, ", ")))
    end
  end
  return t
end

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  local floor = math.floor
  if m <= 2 then y = y - 1 end
  local era = floor((y >= 0 and y or y - 399) / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local DAYS_IN_MONTH = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function days_in_month(y, m)
  if m == 2 and (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) then return 29 end
  return DAYS_IN_MONTH[m]
end

-- An RFC 3339 date-time -> whole Unix seconds (UTC) and the fraction as written (".5",
-- ".123456789" or ""), or nil.
local function parse_parts(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, frac, zone =
    s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if mo < 1 or mo > 12 or d < 1 or d > days_in_month(y, mo) or h > 23 or mi > 59 or sec > 60 then
    return nil
  end
  if frac == "." then return nil end
  local offset
  if zone == "Z" or zone == "z" then
    offset = 0
  else
    local sign, oh, om = zone:match("^([%+%-])(%d%d):(%d%d)$")
    if not sign or tonumber(oh) > 23 or tonumber(om) > 59 then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + math.min(sec, 59) - offset, frac
end

-- The walk parses every row's created_at: the common "YYYY-MM-DDTHH:MM:SSZ" is read byte
-- by byte, its date parsed once and remembered (a walk's rows share few dates).
local days, days_n = {}, 0
local byte, sub = string.byte, string.sub
local function digits(a, b)
  if a < 48 or a > 57 or b < 48 or b > 57 then return nil end
  return (a - 48) * 10 + b - 48
end
local function parse_utc_seconds(s)
  if #s ~= 20 then return nil end
  local t, h1, h2, c1, m1, m2, c2, s1, s2, z = byte(s, 11, 20)
  if z ~= 90 or c1 ~= 58 or c2 ~= 58 or (t ~= 84 and t ~= 116 and t ~= 32) then return nil end
  local h, mi, sec = digits(h1, h2), digits(m1, m2), digits(s1, s2)
  if not h or not mi or not sec or h > 23 or mi > 59 or sec > 60 then return nil end
  local date = sub(s, 1, 10)
  local base = days[date]
  if base == nil then
    base = parse_parts(date .. "T00:00:00Z") or false
    if days_n >= 4096 then days, days_n = {}, 0 end
    days[date], days_n = base, days_n + 1
  end
  if not base then return nil end
  return base + h * 3600 + mi * 60 + math.min(sec, 59)
end

--- Parses an RFC 3339 date-time; returns Unix seconds (may be fractional) or nil. A time
-- without a zone is not RFC 3339 and gives nil: the instant it names is unknown.
function M.parse_time(s)
  if type(s) == "string" then
    local t = parse_utc_seconds(s)
    if t then return t end
  end
  local whole, frac = parse_parts(s)
  if not whole then return nil end
  if frac ~= "" then return whole + tonumber("0" .. frac) end
  return whole
end

--- Formats Unix seconds as RFC 3339 UTC: whole seconds, or with the fraction (up to
--- microseconds, trailing zeros dropped) when `t` has one.
function M.format_time(t)
  local whole = math.floor(t)
  local base = os.date("!%Y-%m-%dT%H:%M:%S", whole)
  if t == whole then return base .. "Z" end
  local frac = string.format("%.6f", t - whole):match("^0(%.%d-)0*$")
  if frac == nil or frac == "." then return base .. "Z" end
  return base .. frac .. "Z"
end

--- Accepts an RFC 3339 string or Unix seconds; returns (wire string, epoch seconds). The
-- wire string is UTC and keeps every fractional digit the caller gave: a bound is sent
-- as precisely as it was asked for, never cut to whole seconds.
function M.check_time(name, v)
  if v == nil then return nil end
  if type(v) == "number" then
    if v ~= v or v < 0 or v > 253402300799 then
      invalid(name .. " must be Unix seconds between 1970 and 9999, got " .. tostring(v))
    end
    return M.format_time(v), v
  elseif type(v) == "string" then
    local whole, frac = parse_parts(v)
    if not whole or whole < 0 or whole > 253402300799 then
      invalid(string.format("%s must be RFC 3339 (e.g. 2026-06-01T00:00:00Z) or Unix seconds, got %q",
        name, v:sub(1, 60)))
    end
    local t = frac ~= "" and whole + tonumber("0" .. frac) or whole
    return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. frac .. "Z", t
  end
  invalid(name .. " must be an RFC 3339 string or Unix seconds, got " .. type(v))
end

return M
