-- klikit quickstart: brands, branches, the order count for a month, and a walk over that
-- month's orders. Works against the sandbox (`make demo`) and against the real API:
--
--   KLIKIT_PARTNER_KEY=... KLIKIT_SECRET_KEY=... \
--   KLIKIT_BASE_URL=https://api.dev.shadowchef.co/v1/partner lua5.4 examples/quickstart.lua 2026-06
local klikit = require "klikit"

local month = arg[1] or "2026-06"
local y, m = month:match("^(%d%d%d%d)%-(%d%d)$")
if not y then
  io.stderr:write("usage: quickstart.lua [YYYY-MM]\n")
  os.exit(2)
end
y, m = tonumber(y), tonumber(m)
local from = string.format("%04d-%02d-01T00:00:00Z", y, m)
local to = string.format("%04d-%02d-01T00:00:00Z", m == 12 and y + 1 or y, m == 12 and 1 or m + 1)

local client = klikit.new {} -- KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY, KLIKIT_BASE_URL
print(tostring(client))

print("\nBrands")
for brand in assert(client:brands()) do
  print(string.format("  %-6d %s", brand.id, brand.title))
end

print("\nBranches")
for branch in assert(client:branches()) do
  print(string.format("  %-6d %-22s brands: %s", branch.id, branch.title,
    table.concat(branch.brand_ids or {}, ", ")))
end

local count, err = client:count_orders { from = from, to = to }
if not count then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(string.format("\nOrders created in %s: %d", month, count))

-- Reads carry integer codes; klikit.enums names them (5 is "delivered", 9 "picked_up").
local STATUS, TYPE = klikit.enums.ORDER_STATUS, klikit.enums.ORDER_TYPES

-- A failed walk raises an error naming its code, HTTP status and request_id; pcall hands
-- back the error table (err.code, err.status, err.request_id ...).
local seen, revenue = 0, 0
local ok, walk_err = pcall(function()
  for order in assert(client:orders { from = from, to = to, size = 50 }) do
    seen = seen + 1
    local brand = order.brands and order.brands[1] and order.brands[1].title or "?"
    print(string.format("  %s  #%-9d %-10s %-9s %-30s %s %s", order.created_at, order.id,
      STATUS[order.status] or tostring(order.status), TYPE[order.type] or tostring(order.type),
      brand, order.currency or "", order.final_price_display or "?"))
    if order.status ~= 3 then revenue = revenue + (order.final_price or 0) end
  end
end)
if not ok then
  io.stderr:write("walk failed after ", seen, " orders: ", tostring(walk_err), "\n")
  os.exit(1)
end
print(string.format("\nTotal: %d orders walked (count said %d); revenue excluding cancelled: %.2f",
  seen, count, revenue / 100))
if seen ~= count then
  io.stderr:write("mismatch between the walk and the count\n")
  os.exit(1)
end
