-- A klar.export run in its own process, for the kill-and-resume and lock specs. Reads its
-- settings from the environment (CHILD_*), prints one line, exits 0 on success, 3 on a
-- returned error.
local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
package.cpath = build .. "/?.so;" .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local klikit = require "klikit"
local klar = require "klikit.klar"

local function env(name) return os.getenv("CHILD_" .. name) end
local retry = { max_attempts = 6, base_delay = 0.01, max_delay = 0.05 }
local client = klikit.new { partner_key = env("PARTNER_KEY"), secret_key = env("SECRET_KEY"),
  base_url = env("KLIKIT_URL"), retry = retry }
local kc = klar.new { token = env("KLAR_TOKEN"), base_url = env("KLAR_URL"), retry = retry,
  batch_size = tonumber(env("BATCH")) or 250 }
local summary, err = klar.export { source = client, sink = kc, state_file = env("STATE"), from = env("FROM"),
  to = env("TO") }
if summary then
  io.write(string.format("OK walked=%d sent=%d accepted=%d batches=%d resumed=%s\n", summary.walked, summary.sent,
    summary.accepted, summary.batches, tostring(summary.resumed)))
  os.exit(0)
end
io.write("ERR ", tostring(err), "\n")
os.exit(3)
