--- The order walk shared by `klikit orders` and `klikit count`: filters from the command
-- line, client:orders (streamed: one page in memory, or K slices with --concurrency),
-- and the progress line. With the progress line on, the walk's size is asked first with
-- client:count_orders (GET /orders/count, then one size=1 page per 90-day window: a
-- request or two) so the line can show an ETA; off a terminal nothing is counted.
local enums = require("klikit.partner.enums")
local fail = require("klikit.cli.fail")
local range = require("klikit.cli.range")
local progress = require("klikit.cli.progress")

local M = {}

M.FILTER_OPTIONS = {
  { "--status", arg = "STATUS", help = "only this status: a code or a name (placed, accepted, cancelled, ready,"
    .. " delivered, picked_up)" },
  { "--branch", arg = "ID", help = "only this branch id" },
  { "--provider", arg = "ID", help = "only this provider: an id or a name (grabfood, gofood, shopeefood, ...)" },
}
M.OPTIONS = { M.FILTER_OPTIONS[1], M.FILTER_OPTIONS[2], M.FILTER_OPTIONS[3],
  { "--concurrency", arg = "K", help = "walk K slices of the range at once (1..32; same output, same order)" } }

local function integer(name, text)
  if text == nil then return nil end
  if not text:find("^%d+$") or #text > 15 then
    fail.usage(name .. " must be a positive integer, got " .. text:sub(1, 40))
  end
  return tonumber(text)
end

local function provider(text)
  if text == nil then return nil end
  if text:find("^%d+$") then return integer("--provider", text) end
  for id, name in pairs(enums.PROVIDERS) do
    if name == text:lower() then return id end
  end
  local names = {}
  for _, name in pairs(enums.PROVIDERS) do names[#names + 1] = name end
  table.sort(names)
  fail.usage("--provider must be an id or one of " .. table.concat(names, ", ") .. ", got " .. text:sub(1, 40))
end

--- The filters from the command line: { status, branch_id, provider_id } (the library
--- checks the status).
function M.filters(args)
  local status = args.status
  if status and status:find("^%d+$") then status = tonumber(status) end
  return { status = status, branch_id = integer("--branch", args.branch), provider_id = provider(args.provider) }
end

--- The walk's parameters from the command line -> params, tz. A start (--from or --day)
--- is required.
function M.params(ctx, args)
  local from, to, tz = range.range(ctx, args, true)
  local p = M.filters(args)
  p.from, p.to, p.concurrency = from, to, integer("--concurrency", args.concurrency)
  return p, tz
end

-- The count of the walk for the ETA, or nil (never fails the command).
local function count(client, params)
  local q = {}
  for _, k in ipairs { "from", "to", "status", "branch_id", "provider_id" } do q[k] = params[k] end
  local n = client:count_orders(q)
  return n
end

--- Walks client:orders(params) into on_row(order). -> rows, nil | rows, err (err: why the
--- walk stopped; rows already handed to on_row stay written).
function M.run(ctx, client, params, label, on_row)
  local pager, err = client:orders(params)
  if not pager then return 0, err end
  local p = progress.walk(ctx, label, progress.enabled(ctx) and count(client, params) or nil)
  local clear = p.on and ctx.isatty(ctx.out) == true -- rows go to the same terminal
  local n = 0
  while true do
    local order, werr = pager:next()
    if werr then
      p:finish(n, pager.pages)
      return n, werr
    end
    if order == nil then break end
    if clear then p:clear() end
    on_row(order)
    n = n + 1
    p:tick(n, pager.pages)
  end
  p:finish(n, pager.pages)
  return n
end

return M
