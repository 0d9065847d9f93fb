--- `klikit orders`: the orders of a range, newest first, each exactly once, streamed.
local env = require("klikit.cli.env")
local fail = require("klikit.cli.fail")
local format = require("klikit.cli.format")
local range = require("klikit.cli.range")
local walk = require("klikit.cli.walk")

local cmd = {}

cmd.name = "orders"
cmd.summary = "Walk the orders of a range, newest first, each exactly once"
cmd.usage = "klikit orders (--from TIME [--to TIME] | --day DAY) [--tz OFFSET] [--status S] [--branch ID]"
  .. " [--provider P] [--format jsonl|csv|table] [--fields LIST] [--concurrency K]"
cmd.help = [[
Streams client:orders{...}: one page in memory at a time (K slices with --concurrency),
so any range runs in constant memory. jsonl writes whole orders unless --fields names
some; csv and table default to the columns below. --fields is the walk's projection: only
those fields are decoded.

Default columns (csv, table): id, created_at, status, provider_id, branch_id,
brands.title, currency, final_price (integer minor units: IDR 13,000 is 1300000).

Exit codes: 0 done; 1 the walk failed before any order was written; 2 usage; 3 the walk
failed after writing some orders (stdout holds them; the error is on stderr).

Examples:
  klikit orders --day yesterday --tz +07:00 --format csv > orders.csv
  klikit orders --from 2026-06-01 --to 2026-07-01 --tz +07:00 --fields id,final_price,brands.title
  klikit orders --from 2026-06-01T00:00:00Z --status cancelled --format table]]

cmd.DEFAULT_FIELDS = { "id", "created_at", "status", "provider_id", "branch_id", "brands.title", "currency",
  "final_price" }

cmd.options = {}
for _, list in ipairs { range.OPTIONS, walk.OPTIONS, format.OPTIONS } do
  for _, o in ipairs(list) do cmd.options[#cmd.options + 1] = o end
end

function cmd.run(ctx, args)
  local params = walk.params(ctx, args)
  local fmt, fields, given = format.choose(ctx, args, cmd.DEFAULT_FIELDS)
  -- the walk decodes only the fields written (the named ones, or the table's columns)
  if given or fmt ~= "jsonl" then params.fields = fields end
  local client = env.klikit(ctx)
  local writer = format.writer(ctx, fmt, fields, false)
  local n, err = walk.run(ctx, client, params, "orders", function(order) writer:row(order) end)
  if n > 0 or not err then writer:finish() end
  client:close()
  if not err then return fail.OK end
  fail.report(ctx, err, n > 0 and { written = n } or nil)
  if n > 0 then return fail.PARTIAL end
  return fail.exit_code(err)
end

return cmd
