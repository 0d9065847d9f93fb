--- `klikit order ID`: one order.
local env = require("klikit.cli.env")
local format = require("klikit.cli.format")

local cmd = {}

cmd.name = "order"
cmd.summary = "Show one order"
cmd.usage = "klikit order ID [--format jsonl|csv|table] [--fields LIST]"
cmd.help = [[
GET /orders/{id}. jsonl (the default off a terminal) writes the whole order on one line,
or the --fields named; csv and table write the columns of `klikit orders`.

Examples:
  klikit order 71280866
  klikit order 71280866 --fields id,status,order_status_histories.status]]
cmd.args = { { "ID", required = true } }
cmd.options = format.OPTIONS

function cmd.run(ctx, args)
  local fmt, fields, given = format.choose(ctx, args, require("klikit.cli.cmd.orders").DEFAULT_FIELDS)
  local client = env.klikit(ctx)
  local order, err = client:order(args.positional[1])
  client:close()
  return format.one(ctx, fmt, fields, given, order, err)
end

return cmd
