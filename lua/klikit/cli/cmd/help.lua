--- `klikit help [COMMAND]`: the commands, or one command's help.
local fail = require("klikit.cli.fail")
local args_mod = require("klikit.cli.args")

local cmd = {}

cmd.name = "help"
cmd.summary = "Show the commands, or one command's help"
cmd.usage = "klikit help [COMMAND]"
cmd.help = ""
cmd.args = { { "COMMAND" } }
cmd.options = {}

function cmd.run(ctx, args)
  local cli = require("klikit.cli")
  local name = args.positional[1]
  if not name then
    return cli.main({ "--help" }, { stdout = ctx.out, stderr = ctx.err, stdin = ctx.stdin, getenv = ctx.getenv,
      isatty = ctx.isatty })
  end
  local c = cli.command(name)
  if not c then fail.usage("unknown command " .. name:sub(1, 40) .. " (klikit help lists them)") end
  ctx.out:write(args_mod.help(c))
  return fail.OK
end

return cmd
