-- Orders per brand for one day in the business's time zone (default: today).
--
--   KLIKIT_PARTNER_KEY=... KLIKIT_SECRET_KEY=... [KLIKIT_BASE_URL=...] \
--   lua5.4 examples/orders_today.lua [today|yesterday|YYYY-MM-DD] [+07:00]
--
-- The UTC offset defaults to KLIKIT_UTC_OFFSET, else +07:00 (Jakarta, Bangkok). klikit
-- filters on created_at instants, so "a day" is the 24 hours between two local midnights:
-- klikit.day turns the date into that [from, to). The walk builds only the fields this report
-- reads (a projection), and `brands` is a list: an order is counted under each of its brands.
local klikit = require "klikit"

local date = arg[1] or "today"
local utc_offset = arg[2] or os.getenv("KLIKIT_UTC_OFFSET") or "+07:00"
local ok, from, to = pcall(klikit.day, date, utc_offset)
if not ok then
  io.stderr:write("usage: orders_today.lua [today|yesterday|YYYY-MM-DD] [+HH:MM]\n", tostring(from), "\n")
  os.exit(2)
end

local client = klikit.new {} -- KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY, KLIKIT_BASE_URL
local CANCELLED = 3 -- klikit.enums.ORDER_STATUS[3] == "cancelled": reads carry integers

local brands, total, cancelled = {}, 0, 0
local fields = { "id", "status", "brands.id", "brands.title" }
local walked, err = pcall(function()
  for order in assert(client:orders { from = from, to = to, fields = fields }) do
    total = total + 1
    if order.status == CANCELLED then cancelled = cancelled + 1 end
    for _, brand in ipairs(order.brands or {}) do
      local b = brands[brand.id]
      if not b then
        b = { id = brand.id, title = brand.title or "?", orders = 0, cancelled = 0 }
        brands[brand.id] = b
      end
      b.orders = b.orders + 1
      if order.status == CANCELLED then b.cancelled = b.cancelled + 1 end
    end
  end
end)
if not walked then
  io.stderr:write("walk failed: ", tostring(err), "\n")
  os.exit(1)
end

print(string.format("Orders on %s (UTC%s), created_at in [%s, %s)", date, utc_offset, from, to))
local list = {}
for _, b in pairs(brands) do list[#list + 1] = b end
table.sort(list, function(a, b) return a.orders > b.orders or (a.orders == b.orders and a.id < b.id) end)
for _, b in ipairs(list) do
  print(string.format("  brand %-6d %-28s %5d orders (%d cancelled)", b.id, b.title, b.orders, b.cancelled))
end
print(string.format("total: %d orders (%d cancelled)", total, cancelled))
