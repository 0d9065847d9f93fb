-- The nightly klikit -> Klar export (run it from cron). Credentials come from the
-- environment: KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY, KLIKIT_BASE_URL, KLAR_TOKEN (and
-- KLAR_BASE_URL for another Klar host). Usage: export_to_klar.lua [state file] [first day]
local klikit = require "klikit"
local klar = require "klikit.klar"

local state_file, first_day = arg[1] or "klar-export.state", arg[2] or "2026-01-01"
local sink = klar.new {}
local summary, err = klar.export { source = klikit.new {}, sink = sink, state_file = state_file,
  from = first_day .. "T00:00:00Z", on_progress = klar.terminal_progress() }
if not summary then
  io.stderr:write("klar export failed: ", tostring(err), "\n")
  os.exit(1)
end
print(string.format("walked %d orders, sent %d, Klar accepted %d in %d batches; checkpoint %s",
  summary.walked, summary.sent, summary.accepted, summary.batches, os.date("!%Y-%m-%dT%H:%M:%SZ", summary.checkpoint)))
for id, messages in pairs(summary.rejected) do print("  rejected " .. id .. ": " .. messages[1]) end
for id, why in pairs(summary.unmappable) do print("  not mappable " .. id .. ": " .. why) end
local st = sink:status()
if st then
  print(string.format("Klar status: %s orders in total, last batch %s, last success %s", tostring(st.total),
    tostring(st.last_batch_count), st.last_success and os.date("!%Y-%m-%dT%H:%M:%SZ", st.last_success) or "never"))
end
os.exit((next(summary.rejected) or next(summary.unmappable)) and 3 or 0)
