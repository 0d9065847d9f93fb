--- klikit's command-line tool: `bin/klikit` calls require("klikit.cli").main(arg).
--   local code = require("klikit.cli").main({ "orders", "--day", "today", "--tz", "+07:00" }, io_)
-- main(argv, io_) returns the exit code (0 ok, 1 API error, 2 usage, 3 partial) and never
-- calls os.exit, so specs run it in-process. io_ = { stdout, stderr, stdin, isatty(stream),
-- getenv(name), now() } replaces the process's own (each field optional).
-- Each command is a module klikit.cli.cmd.<name> (dashes as underscores), shaped like
-- LuaRocks' command modules: name, summary, usage, help, an argument spec (options,
-- args) and run(ctx, args) -> exit code.
local core = require("klikit.core")
local args_mod = require("klikit.cli.args")
local fail = require("klikit.cli.fail")

local M = {}

M.COMMANDS = { "orders", "count", "order", "set-status", "brands", "branches", "export-klar", "webhook", "sandbox",
  "help" }

local KNOWN = {}
for _, name in ipairs(M.COMMANDS) do KNOWN[name] = true end

--- The module of a command (nil for an unknown name).
function M.command(name)
  if not KNOWN[name] then return nil end
  return require("klikit.cli.cmd." .. name:gsub("-", "_"))
end

local FD = {}

local function context(io_)
  io_ = io_ or {}
  local ctx = { out = io_.stdout or io.stdout, err = io_.stderr or io.stderr, stdin = io_.stdin or io.stdin,
    getenv = io_.getenv or os.getenv, now = io_.now }
  FD[io.stdin], FD[io.stdout], FD[io.stderr] = 0, 1, 2
  ctx.isatty = io_.isatty or function(stream)
    local fd = FD[stream]
    return fd ~= nil and core.isatty(fd)
  end
  return ctx
end

-- Peak resident memory (VmHWM, kB) of this process, for KLIKIT_CLI_RSS=1.
local function peak_rss()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmHWM:%s*(%d+)"))
end

local function top_help(stream)
  local lines = { "usage: klikit COMMAND [options]    (klikit help COMMAND, klikit COMMAND --help)", "",
    "klikit " .. core.version .. ": the klikit Partner API from the command line.", "", "Commands:" }
  for _, name in ipairs(M.COMMANDS) do
    local c = M.command(name)
    lines[#lines + 1] = string.format("  %-12s %s", name, c.summary)
  end
  for _, l in ipairs {
    "",
    "Credentials and addresses come from the environment only: KLIKIT_PARTNER_KEY,",
    "KLIKIT_SECRET_KEY, KLIKIT_BASE_URL (or KLIKIT_ENV=dev|prod), KLIKIT_CA_FILE, KLIKIT_TZ;",
    "KLAR_TOKEN, KLAR_BASE_URL.",
    "Exit codes: 0 ok, 1 API error, 2 usage, 3 partial (some output, then a failure).",
    "Errors go to stderr as one line (--json: one JSON object); stdout holds only results.",
  } do lines[#lines + 1] = l end
  stream:write(table.concat(lines, "\n"), "\n")
  return fail.OK
end

-- Runs argv (after any leading global options) -> exit code.
local function dispatch(ctx, argv)
  local i = 1
  while type(argv[i]) == "string" and argv[i]:sub(1, 1) == "-" do
    local a = argv[i]
    if a == "--json" then ctx.json = true
    elseif a == "--quiet" or a == "-q" then ctx.quiet = true
    elseif a == "--help" or a == "-h" then return top_help(ctx.out)
    elseif a == "--version" then
      ctx.out:write("klikit ", core.version, "\n")
      return fail.OK
    else
      args_mod.parse({}, { a }, 1) -- the usage error for it (credentials refused with a hint)
    end
    i = i + 1
  end
  local name = argv[i]
  if name == nil then -- the help, on stderr: a usage error
    top_help(ctx.err)
    return fail.USAGE
  end
  local c = M.command(name)
  if not c then fail.usage("unknown command " .. tostring(name):sub(1, 40) .. " (klikit help lists them)") end
  ctx.command = c.name
  local args = args_mod.parse(c, argv, i + 1, c.name)
  ctx.json = ctx.json or args.json
  ctx.quiet = ctx.quiet or args.quiet
  if args.help then
    ctx.out:write(args_mod.help(c))
    return fail.OK
  end
  return c.run(ctx, args)
end

--- argv: the arguments (arg); io_: see above -> exit code.
function M.main(argv, io_)
  local ctx = context(io_)
  local debug_on = ctx.getenv("KLIKIT_CLI_DEBUG") == "1"
  local ok, code = xpcall(function() return dispatch(ctx, argv or {}) end, function(e)
    -- a bug (not a klikit error): its traceback with KLIKIT_CLI_DEBUG=1
    if type(e) ~= "table" and debug_on then return debug.traceback(tostring(e), 2) end
    return e
  end)
  if not ok then
    local err = code
    if type(err) == "string" and err:find("interrupted!", 1, true) then -- Ctrl-C (lua.c's SIGINT hook)
      ctx.err:write("klikit: interrupted\n")
      code = 130
    else
      fail.report(ctx, err, nil, ctx.command)
      code = fail.exit_code(err)
    end
  end
  if ctx.out.flush then ctx.out:flush() end
  if ctx.getenv("KLIKIT_CLI_RSS") == "1" then
    ctx.err:write(string.format("klikit: peak RSS %s kB (VmHWM)\n", tostring(peak_rss())))
  end
  return code
end

return M
