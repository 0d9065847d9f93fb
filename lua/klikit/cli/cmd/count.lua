--- `klikit count`: orders and revenue of a range, in total or grouped.
local env = require("klikit.cli.env")
local fail = require("klikit.cli.fail")
local format = require("klikit.cli.format")
local range = require("klikit.cli.range")
local walk = require("klikit.cli.walk")
local totals = require("klikit.cli.totals")

local cmd = {}

cmd.name = "count"
cmd.summary = "Count orders and sum revenue, in total or by day, brand, branch, provider, status"
cmd.usage = "klikit count (--from TIME [--to TIME] | --day DAY) [--tz OFFSET] [--by day|brand|branch|provider|status]"
  .. " [--status S] [--branch ID] [--provider P] [--format jsonl|csv|table]"
cmd.help = [[
Walks the range with a projection (id, created_at, final_price, currency, status and the
grouping's fields: a fraction of the full decode) and sums per group and currency:
  orders     every order of the range
  cancelled  those with status 3 (cancelled)
  revenue    the final_price of the orders not cancelled, in major units ("13000.00":
             klikit's integer minor units / 100; JPY and the like 0 places, KWD 3)
  revenue_minor  the same in minor units, exact
--by day groups by the day of created_at in --tz (default: $KLIKIT_TZ, else UTC);
--by brand by the order's brands (an order of several counts once, under all of them);
--by branch shows branch titles (one GET /branches more).

Nothing is written until the walk is complete: a failed walk prints no totals (exit 1).

Examples:
  klikit count --day yesterday --tz +07:00
  klikit count --from 2026-06-01 --to 2026-07-01 --tz +07:00 --by brand --format table]]

cmd.options = {
  { "--by", arg = "GROUP", choices = totals.BY, help = "group by day, brand, branch, provider or status" },
}
for _, list in ipairs { range.OPTIONS, walk.OPTIONS, format.OPTIONS } do
  for _, o in ipairs(list) do
    if o[1] ~= "--fields" then cmd.options[#cmd.options + 1] = o end
  end
end

-- Branch titles by id, for --by branch (nil when they cannot be read: ids are shown).
local function branch_names(client)
  local pager = client:branches()
  if not pager then return nil end
  local names = {}
  while true do
    local b, err = pager:next()
    if err or b == nil then break end
    if type(b) == "table" and b.id ~= nil and type(b.title) == "string" then
      names[type(b.id) == "number" and string.format("%d", b.id) or tostring(b.id)] = b.title
    end
  end
  return names
end

function cmd.run(ctx, args)
  local params, tz = walk.params(ctx, args)
  params.fields = totals.fields(args.by)
  local columns = totals.columns(args.by)
  local fmt = format.choose(ctx, { format = args.format }, columns)
  local client = env.klikit(ctx)
  local t = totals.new(args.by, tz, args.by == "branch" and branch_names(client) or nil)
  local _, err = walk.run(ctx, client, params, "count", function(order) totals.add(t, order) end)
  client:close()
  if err then
    fail.report(ctx, err)
    return fail.exit_code(err)
  end
  local writer = format.writer(ctx, fmt, columns, true)
  for _, row in ipairs(totals.rows(t)) do writer:row(row) end
  writer:finish()
  return fail.OK
end

return cmd
