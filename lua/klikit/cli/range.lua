--- Time arguments: --from/--to as RFC 3339, Unix seconds, or a date YYYY-MM-DD (that
-- day's midnight in --tz); --day today|yesterday|YYYY-MM-DD for a whole day in --tz.
-- --tz is a fixed UTC offset (+07:00; UTC or Z for +00:00), else KLIKIT_TZ. A date without
-- a zone is a usage error: the day would silently be UTC's.
local util = require("klikit.util")
local day = require("klikit.day")
local fail = require("klikit.cli.fail")

local M = {}

M.OPTIONS = {
  { "--from", arg = "TIME", help = "start (inclusive): RFC 3339, Unix seconds, or YYYY-MM-DD (midnight in --tz)" },
  { "--to", arg = "TIME", help = "end (exclusive), same forms; default: now" },
  { "--day", arg = "DAY", help = "a whole day in --tz: today, yesterday or YYYY-MM-DD (instead of --from/--to)" },
  { "--tz", arg = "OFFSET", help = "the business's UTC offset for dates and days, e.g. +07:00 (default: $KLIKIT_TZ)" },
}

--- The UTC offset from --tz or KLIKIT_TZ ("+07:00"), or nil. Raises a usage error.
function M.tz(ctx, args)
  local tz = args.tz or ctx.getenv("KLIKIT_TZ")
  if tz == nil or tz == "" then return nil end
  if tz == "UTC" or tz == "Z" or tz == "utc" then return "+00:00" end
  local ok = pcall(day.day, "1970-01-02", tz)
  if not ok then fail.usage("--tz must be a UTC offset like +07:00 or -05:30 (or UTC), got " .. tz:sub(1, 40)) end
  return tz
end

local function need_tz(name, tz)
  if not tz then
    fail.usage(name .. " is a date: give the business's UTC offset with --tz (e.g. --tz +07:00, or --tz UTC)"
      .. " or set KLIKIT_TZ")
  end
end

--- One time argument -> a value for the library (RFC 3339 string or Unix seconds).
function M.time(name, text, tz)
  if text == nil then return nil end
  if text:find("^%d+$") and #text <= 12 then return tonumber(text) end
  if text:find("^%d%d%d%d%-%d%d%-%d%d$") then
    need_tz(name, tz)
    local ok, from = pcall(day.day, text, tz)
    if not ok then fail.usage(name .. ": " .. text .. " is not a date") end
    return from
  end
  local ok = pcall(util.check_time, name, text)
  if not ok or not util.parse_time(text) then
    fail.usage(name .. " must be RFC 3339 (2026-06-01T00:00:00Z), Unix seconds or YYYY-MM-DD, got "
      .. text:sub(1, 60))
  end
  return text
end

--- from, to (library values), tz from --from/--to/--day/--tz. required: a start must be
--- given (--from or --day).
function M.range(ctx, args, required)
  local tz = M.tz(ctx, args)
  if args.day then
    if args.from or args.to then fail.usage("--day takes the place of --from/--to: give one or the other") end
    local d = args.day
    if d ~= "today" and d ~= "yesterday" and not d:find("^%d%d%d%d%-%d%d%-%d%d$") then
      fail.usage("--day must be today, yesterday or YYYY-MM-DD, got " .. d:sub(1, 40))
    end
    need_tz("--day", tz)
    local ok, from, to = pcall(day.day, d, tz, ctx.now and ctx.now())
    if not ok then fail.usage("--day: " .. d .. " is not a date") end
    return from, to, tz
  end
  if required and not args.from then fail.usage("give a range: --from TIME [--to TIME], or --day DAY") end
  local from, to = M.time("--from", args.from, tz), M.time("--to", args.to, tz)
  local function seconds(v) return type(v) == "number" and v or (v and util.parse_time(v)) end
  local f, t = seconds(from), seconds(to)
  if f and t and t < f then fail.usage("--to is earlier than --from") end
  return from, to, tz
end

--- Seconds east of UTC of an offset "+07:00".
function M.offset_seconds(tz)
  local sign, h, m = (tz or "+00:00"):match("^([+-])(%d%d):(%d%d)$")
  if not sign then return 0 end
  return (sign == "-" and -1 or 1) * (tonumber(h) * 3600 + tonumber(m) * 60)
end

return M
