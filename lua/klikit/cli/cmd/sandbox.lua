--- `klikit sandbox [run|start|stop]`: the local stand-in for the Partner API and Klar
-- (sandbox/sandboxctl), for trying the other commands without credentials.
local fail = require("klikit.cli.fail")

local cmd = {}

cmd.name = "sandbox"
cmd.summary = "Run the local sandbox (a stand-in for the Partner API and Klar) to try things"
cmd.usage = "klikit sandbox [run | start | stop [DIR]]"
cmd.help = [[
  run          in the foreground (Ctrl-C stops it); prints its URL and test credentials
  start        in the background; prints KEY=VALUE lines (KLIKIT_BASE_URL, KLIKIT_PARTNER_KEY,
               KLIKIT_SECRET_KEY, KLAR_BASE_URL, KLAR_TOKEN, KLIKIT_SANDBOX_DIR, ...)
  stop [DIR]   stops the sandbox started in DIR (default: $KLIKIT_SANDBOX_DIR)

Needs nginx with lua-nginx-module (Debian: nginx-light libnginx-mod-http-lua). The
sandbox ships with the source tree (sandbox/sandboxctl) and `make install` puts it in
PREFIX/share/klikit/sandbox; a LuaRocks install has none (exit 2 says so).
$KLIKIT_SANDBOXCTL names another sandboxctl.

Example:
  eval "$(klikit sandbox start | sed 's/^/export /')"
  klikit count --day 2026-06-15 --tz +07:00 --by brand
  klikit sandbox stop]]
cmd.args = { { "ACTION" }, { "DIR" } }
cmd.options = {}

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Where sandboxctl is: $KLIKIT_SANDBOXCTL, else beside this module in the source tree
--- (lua/klikit/cli/cmd -> sandbox/), else in an installed tree
--- (share/lua/5.x/klikit/cli/cmd -> share/klikit/sandbox/). nil when none is.
function cmd.locate(ctx)
  local override = ctx.getenv("KLIKIT_SANDBOXCTL")
  if override and override ~= "" then return exists(override) and override or nil, override end
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) ~= "@" then return nil end
  local dir = src:sub(2):match("^(.*)/[^/]*$") or "."
  for _, rel in ipairs { "/../../../../sandbox/sandboxctl", "/../../../../../klikit/sandbox/sandboxctl" } do
    if exists(dir .. rel) then return dir .. rel end
  end
  return nil
end

-- Runs a shell command, its output to `out` -> its exit status.
local function run_captured(command, out)
  local p = io.popen(command .. " 2>&1; echo \"klikit-exit=$?\"", "r")
  if not p then return 1 end
  local text = p:read("*a") or ""
  p:close()
  local status = tonumber(text:match("klikit%-exit=(%d+)%s*$")) or 1
  out:write((text:gsub("klikit%-exit=%d+%s*$", "")))
  return status
end

function cmd.run(ctx, args)
  local action, dir = args.positional[1] or "run", args.positional[2]
  if action ~= "run" and action ~= "start" and action ~= "stop" then
    fail.usage("the sandbox actions are run, start and stop, got " .. action:sub(1, 40))
  end
  local ctl, named = cmd.locate(ctx)
  if not ctl then
    ctx.err:write("klikit sandbox: ", named and ("KLIKIT_SANDBOXCTL names " .. named .. ", which does not exist")
      or "the sandbox is not installed with this klikit (it ships with the source tree: run"
      .. " bin/klikit or sandbox/sandboxctl from a checkout, or `make install` from one)", "\n")
    return fail.USAGE
  end
  if action == "run" then
    local ok, _, code = os.execute(quote(ctl) .. " run")
    if type(ok) == "number" then return ok == 0 and fail.OK or fail.API end -- Lua 5.1
    return (ok and fail.OK) or (code == 130 and fail.OK) or fail.API
  elseif action == "start" then
    local status = run_captured(quote(ctl) .. " start", ctx.out)
    if status == 0 then
      ctx.err:write("klikit sandbox: started; stop it with: klikit sandbox stop (with KLIKIT_SANDBOX_DIR exported)\n")
    end
    return status == 0 and fail.OK or fail.API
  end
  dir = dir or ctx.getenv("KLIKIT_SANDBOX_DIR")
  if not dir or dir == "" then fail.usage("stop needs the sandbox's DIR (or KLIKIT_SANDBOX_DIR in the environment)") end
  return run_captured(quote(ctl) .. " stop " .. quote(dir), ctx.err) == 0 and fail.OK or fail.API
end

return cmd
