--- `klikit set-status ID STATUS [--reason CODE]`: moves an order along its state machine.
local env = require("klikit.cli.env")
local format = require("klikit.cli.format")

local cmd = {}

cmd.name = "set-status"
cmd.summary = "Change an order's status (accepted, ready, picked_up, rejected, cancelled)"
cmd.usage = "klikit set-status ID STATUS [--reason CODE] [--idempotency-key KEY] [--format jsonl|csv|table]"
cmd.help = [[
PATCH /orders/{id}/status through client:update_order_status. STATUS is accepted, ready,
picked_up, rejected or cancelled; rejected and cancelled need --reason (e.g.
out_of_items). The request carries an Idempotency-Key (a fresh one, or --idempotency-key:
run the same command again with the same key and klikit replays the first answer instead
of applying it twice). Writes the answer: { id, status, updated_at }.

Exit codes: 0 changed; 1 refused by klikit (state_invalid_transition: the order cannot
move there from its status; resource_not_found); 2 a status or reason the library
refuses before sending.

Examples:
  klikit set-status 71280866 accepted
  klikit set-status 71280866 cancelled --reason out_of_items]]
cmd.args = { { "ID", required = true }, { "STATUS", required = true } }
cmd.options = {
  { "--reason", arg = "CODE", help = "the reason code (required for rejected and cancelled)" },
  { "--idempotency-key", arg = "KEY", help = "1..64 printable characters; the same key replays, never re-applies" },
}
for _, o in ipairs(format.OPTIONS) do cmd.options[#cmd.options + 1] = o end

cmd.FIELDS = { "id", "status", "updated_at" }

function cmd.run(ctx, args)
  local fmt, fields, given = format.choose(ctx, args, cmd.FIELDS)
  local client = env.klikit(ctx)
  local res, err = client:update_order_status(args.positional[1],
    { status = args.positional[2], reason_code = args.reason },
    args.idempotency_key and { idempotency_key = args.idempotency_key } or nil)
  client:close()
  return format.one(ctx, fmt, fields, given, res, err)
end

return cmd
