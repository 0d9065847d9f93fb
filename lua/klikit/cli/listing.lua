--- A listing command over a pager method of the client (`klikit brands`, `klikit branches`):
-- every row streamed to the chosen format.
local env = require("klikit.cli.env")
local fail = require("klikit.cli.fail")
local format = require("klikit.cli.format")

local M = {}

--- name, the client method, summary, default columns, help -> a command module.
function M.new(name, method, summary, default_fields, help)
  local cmd = { name = name, summary = summary, options = format.OPTIONS, help = help,
    usage = "klikit " .. name .. " [--format jsonl|csv|table] [--fields LIST]", DEFAULT_FIELDS = default_fields }
  function cmd.run(ctx, args)
    local fmt, fields, given = format.choose(ctx, args, default_fields)
    local client = env.klikit(ctx)
    local pager, err = client[method](client)
    local writer = format.writer(ctx, fmt, fields, given)
    local n = 0
    while pager do
      local row
      row, err = pager:next()
      if err or row == nil then break end
      writer:row(row)
      n = n + 1
    end
    client:close()
    if n > 0 or not err then writer:finish() end
    if not err then return fail.OK end
    fail.report(ctx, err, n > 0 and { written = n } or nil)
    return n > 0 and fail.PARTIAL or fail.exit_code(err)
  end
  return cmd
end

return M
