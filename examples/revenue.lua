-- Revenue over a range of days in the business's time zone: how many orders, and the sum of
-- their final_price in major units, per currency, cancelled orders left out.
--
--   KLIKIT_PARTNER_KEY=... KLIKIT_SECRET_KEY=... [KLIKIT_BASE_URL=...] \
--   lua5.4 examples/revenue.lua FIRST_DAY LAST_DAY [+07:00]      (YYYY-MM-DD, both included)
--
-- final_price is the order's total in integer minor units (IDR 13,000 is 1300000);
-- final_price_display ("13.000") is only for showing. Major units are minor / 10^places:
-- 2 places for most currencies (IDR, PHP, SGD, THB, MYR, ...), 0 or 3 for a few (below).
local klikit = require "klikit"

local first, last, utc_offset = arg[1], arg[2], arg[3] or os.getenv("KLIKIT_UTC_OFFSET") or "+07:00"
local ok1, from = pcall(klikit.day, first, utc_offset)
local ok2, _, to = pcall(klikit.day, last, utc_offset)
if not (first and last and ok1 and ok2) then
  io.stderr:write("usage: revenue.lua FIRST_DAY LAST_DAY [+HH:MM]   (days as YYYY-MM-DD)\n")
  os.exit(2)
end

-- Decimal places of the minor unit (ISO 4217) where they are not 2.
local PLACES = { JPY = 0, KRW = 0, VND = 0, CLP = 0, ISK = 0, BHD = 3, KWD = 3, OMR = 3, JOD = 3, TND = 3 }

--- 1300000, "IDR" -> "13000.00" (exact: integer arithmetic on the minor units)
local function major(minor, currency)
  local places = PLACES[currency] or 2
  if places == 0 then return string.format("%d", minor) end
  local unit = math.floor(10 ^ places + 0.5)
  local whole = math.floor(minor / unit)
  return string.format("%d.%0" .. places .. "d", whole, minor - whole * unit)
end

local client = klikit.new {} -- KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY, KLIKIT_BASE_URL
local CANCELLED = 3 -- klikit.enums.ORDER_STATUS[3] == "cancelled"

local count, err = client:count_orders { from = from, to = to }
if not count then
  io.stderr:write("count failed: ", tostring(err), "\n")
  os.exit(1)
end

local walked, cancelled, minor, paid = 0, 0, {}, {}
local ok, werr = pcall(function()
  for order in assert(client:orders { from = from, to = to, fields = { "id", "status", "currency", "final_price" } }) do
    walked = walked + 1
    if order.status == CANCELLED then
      cancelled = cancelled + 1
    else
      local currency = order.currency or "?"
      minor[currency] = (minor[currency] or 0) + (order.final_price or 0)
      paid[currency] = (paid[currency] or 0) + 1
    end
  end
end)
if not ok then
  io.stderr:write("walk failed after ", walked, " orders: ", tostring(werr), "\n")
  os.exit(1)
end

print(string.format("Orders created %s .. %s (UTC%s): %d counted, %d walked, %d cancelled",
  first, last, utc_offset, count, walked, cancelled))
local currencies = {}
for c in pairs(minor) do currencies[#currencies + 1] = c end
table.sort(currencies)
for _, c in ipairs(currencies) do
  print(string.format("  revenue %s %s (%d minor units) from %d orders", c, major(minor[c], c), minor[c], paid[c]))
end
if walked ~= count then -- orders arrived or left between the count and the walk
  io.stderr:write("note: the count and the walk differ (orders changed meanwhile)\n")
end
