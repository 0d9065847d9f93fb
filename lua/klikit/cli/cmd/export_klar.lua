--- `klikit export-klar`: the exactly-once klikit -> Klar export (klikit.klar.export).
local util = require("klikit.util")
local json_line = require("klikit.cli.json_line")
local env = require("klikit.cli.env")
local fail = require("klikit.cli.fail")
local range = require("klikit.cli.range")
local walk = require("klikit.cli.walk")
local progress = require("klikit.cli.progress")

local cmd = {}

cmd.name = "export-klar"
cmd.summary = "Export the orders to Klar, exactly once (resumable; the nightly job)"
cmd.usage = "klikit export-klar --state FILE [--from TIME] [--to TIME] [--lookback DURATION] [--dry-run]"
  .. " [--status S] [--branch ID] [--provider P] [--format text|jsonl]"
cmd.help = [[
Runs klar.export: walks the orders of [start, to), maps them to Klar's order import and
uploads them in batches; after every batch the state file records the position, so a
killed run resumes where it stopped (only the batch in flight is sent again). The first
run needs --from; later runs start at the checkpoint less --lookback (default 7d), and
first retry the orders Klar rejected or that could not be mapped before. Another export
holding the state file's lock fails at once (export_locked).

--dry-run walks and maps what the next run would send and has Klar validate it (the
validate endpoint stores nothing); the state file is read, never written or locked.

Credentials: KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY, KLIKIT_BASE_URL; KLAR_TOKEN (and
KLAR_BASE_URL for another Klar host).

Exit codes: 0 every order is in Klar; 1 the run failed before Klar stored anything (run it
again: it resumes); 2 usage; 3 partial: the run failed after Klar stored batches (run it
again), or it finished with orders rejected or unmappable (listed; retried next run).

Examples:
  klikit export-klar --state /var/lib/klikit/klar.state --from 2026-01-01 --tz +07:00
  klikit export-klar --state /var/lib/klikit/klar.state --dry-run]]

cmd.options = {
  { "--state", arg = "FILE", help = "the state file (checkpoint, walk position, pending orders)" },
  { "--from", arg = "TIME", help = "the first run's start: RFC 3339, Unix seconds, or YYYY-MM-DD in --tz" },
  { "--to", arg = "TIME", help = "the end (exclusive); default: now" },
  { "--tz", arg = "OFFSET", help = "UTC offset for dates (+07:00; default $KLIKIT_TZ)" },
  { "--lookback", arg = "DURATION", help = "later runs re-send this much before the checkpoint: seconds,"
    .. " or 12h, 7d (default 7d)" },
  { "--dry-run", flag = true, help = "map and have Klar validate, store nothing, leave the state file alone" },
  { "--format", arg = "FMT", choices = { "text", "jsonl" }, help = "the summary as text lines (default) or one"
    .. " JSON line" },
}
for _, o in ipairs(walk.FILTER_OPTIONS) do cmd.options[#cmd.options + 1] = o end

local UNITS = { s = 1, m = 60, h = 3600, d = 86400 }

local function lookback(text)
  if text == nil then return nil end
  local n, unit = text:match("^(%d+)([smhd]?)$")
  if not n or #n > 9 then
    fail.usage("--lookback must be seconds or a duration like 12h or 7d, got " .. text:sub(1, 40))
  end
  local v = tonumber(n) * UNITS[unit ~= "" and unit or "s"]
  if v > 90 * 86400 then fail.usage("--lookback is at most 90 days, got " .. text) end
  return v
end

local function seconds(v)
  if type(v) == "number" then return v end
  return v and util.parse_time(v)
end

local function time_text(t)
  return t and util.format_time(t) or "-"
end

local function count(t)
  local n = 0
  for _ in pairs(t or {}) do n = n + 1 end
  return n
end

local function sorted(t)
  local keys = {}
  for k in pairs(t or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function first_message(v)
  if type(v) == "table" then return tostring(v[1]) end
  return tostring(v)
end

local function summary_text(out, s)
  if s.dry_run then
    out:write(string.format("dry run of [%s, %s): walked %d orders, mapped %d; Klar would accept %d of %d;"
      .. " %d pending from earlier runs would be retried\n", time_text(s.from), time_text(s.to), s.walked, s.mapped,
      s.valid, s.sent, s.pending))
  else
    out:write(string.format("exported [%s, %s): walked %d orders, sent %d, Klar accepted %d in %d batches;"
      .. " retried %d; checkpoint %s\n", time_text(s.from), time_text(s.to), s.walked, s.sent, s.accepted, s.batches,
      s.retried or 0, time_text(s.checkpoint)))
  end
  local rejected = s.dry_run and s.invalid or s.rejected
  for _, id in ipairs(sorted(rejected)) do out:write("rejected ", id, ": ", first_message(rejected[id]), "\n") end
  for _, id in ipairs(sorted(s.unmappable)) do
    out:write("unmappable ", id, ": ", first_message(s.unmappable[id]), "\n")
  end
  for _, id in ipairs(sorted(s.retry_failed)) do out:write("not retried ", id, ": ", s.retry_failed[id], "\n") end
end

local function pending(s)
  return count(s.dry_run and s.invalid or s.rejected) + count(s.unmappable) + count(s.retry_failed)
end

function cmd.run(ctx, args)
  if not args.state or args.state == "" then fail.usage("--state FILE is required (the export's checkpoint)") end
  local tz = range.tz(ctx, args)
  local from, to = range.time("--from", args.from, tz), range.time("--to", args.to, tz)
  local filters = walk.filters(args)
  if next(filters) == nil then filters = nil end
  local opts = { source = env.klikit(ctx), sink = env.klar(ctx), state_file = args.state, from = from, to = to,
    lookback = lookback(args.lookback), filters = filters, on_progress = progress.export(ctx) }
  local summary, err
  if args.dry_run then
    local lb = opts.lookback or require("klikit.klar.export").LOOKBACK
    local f, t = seconds(from), seconds(to)
    summary, err = require("klikit.cli.klar_dry_run").run { source = opts.source, sink = opts.sink,
      path = args.state, from = f and math.floor(f), to = t and math.ceil(t), lookback = lb, filters = filters,
      on_progress = opts.on_progress }
  else
    summary, err = require("klikit.klar").export(opts)
  end
  opts.source:close()
  opts.sink:close()
  if not summary then
    local done = err.summary and (err.summary.batches or 0) > 0
    fail.report(ctx, err, done and { batches = err.summary.batches } or nil)
    if done then return fail.PARTIAL end
    return fail.exit_code(err)
  end
  if args.format == "jsonl" then
    ctx.out:write((json_line.encode(summary) or "{}"), "\n")
  else
    summary_text(ctx.out, summary)
  end
  return pending(summary) > 0 and fail.PARTIAL or fail.OK
end

return cmd
