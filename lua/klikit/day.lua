--- Days in the business's time zone, as the [from, to) a walk or a count takes.
--   local from, to = klikit.day("2026-11-28", "+07:00")
--     -> "2026-11-27T17:00:00Z", "2026-11-28T17:00:00Z"
--   klikit.day("today", "+07:00"), klikit.day("yesterday", "-05:30")
-- klikit filters on created_at instants, so "a day" is the 24 hours between two local
-- midnights. Offsets are fixed (no daylight-saving rules): the zones klikit serves
-- (Indonesia, Malaysia, Singapore, Thailand, ...) have none.
local errors = require("klikit.errors")
local util = require("klikit.util")

local M = {}

local function offset_seconds(text)
  local sign, h, m
  if type(text) == "string" then sign, h, m = text:match("^([+-])(%d%d):(%d%d)$") end
  if not sign or tonumber(h) > 14 or tonumber(m) > 59 then
    errors.invalid("klikit.day: the UTC offset must look like \"+07:00\" (from -14:00 to +14:00), got "
      .. errors.visible(tostring(text)):sub(1, 40))
  end
  return (sign == "-" and -1 or 1) * (tonumber(h) * 3600 + tonumber(m) * 60)
end

--- date: "YYYY-MM-DD", "today" or "yesterday"; utc_offset: "+07:00"; now: Unix seconds
--- (default os.time()) -> from, to: RFC 3339 UTC strings. Raises request_invalid.
---@param date string "YYYY-MM-DD", "today" or "yesterday"
---@param utc_offset string "+07:00"
---@param now? number Unix seconds
---@return string from
---@return string to
function M.day(date, utc_offset, now)
  local offset = offset_seconds(utc_offset)
  local midnight
  if date == "today" or date == "yesterday" then
    now = now or os.time()
    midnight = math.floor((now + offset) / 86400) * 86400 - offset
    if date == "yesterday" then midnight = midnight - 86400 end
  else
    local t = type(date) == "string" and date:find("^%d%d%d%d%-%d%d%-%d%d$") and util.parse_time(date .. "T00:00:00Z")
    if not t then
      errors.invalid("klikit.day: the date must be \"YYYY-MM-DD\", \"today\" or \"yesterday\", got "
        .. errors.visible(tostring(date)):sub(1, 40))
    end
    midnight = t - offset
  end
  return util.format_time(midnight), util.format_time(midnight + 86400)
end

return M
