-- `make bench`: klikit's order walk side by side with its peers, in one run, as paired
-- ratios. Starts the bench server (bench/server.lua), proves it answers as the sandbox
-- does (bench/server_check.lua), checks every contender walks the orders exactly (count
-- and distinct ids), then times the contenders round by round (bench/contender.lua, a
-- fresh process per measurement, order rotated each round), times the decoders
-- (bench/decode.lua) and prints the table and the targets (bench/report.lua).
--
-- BENCH_QUICK=1: a smoke run (smaller walks, fewer rounds). Exit status 1 only for a
-- wrong answer (a count or id check, the server check, a contender that failed); a
-- target that is not met prints NOT MET.
local core = require "klikit.core"
local cjson = require "cjson"
local server = require "server"
local report = require "report"

local ROOT = os.getenv("BENCH_ROOT") or "."
local LUA = arg[-1] or "lua5.4"
local QUICK = (os.getenv("BENCH_QUICK") or "") ~= "" and os.getenv("BENCH_QUICK") ~= "0"
local started = core.monotonic()

local SETTINGS = { seed = 42, from = "2026-01-01T00:00:00Z", to = "2026-03-31T00:00:00Z", -- one 89-day window
  orders = QUICK and 5000 or 100000 }
local SMALL, BIG = QUICK and 1000 or 10000, SETTINGS.orders
local SLOW = 100 -- ms of injected latency per request
-- key, orders, latency (ms), rounds
local CONFIGS = {
  { key = "small0", n = SMALL, latency = 0, rounds = QUICK and 3 or 7 },
  { key = "big0", n = BIG, latency = 0, rounds = QUICK and 2 or 5 },
  { key = "small" .. SLOW, n = SMALL, latency = SLOW, rounds = QUICK and 1 or 3 },
}
local SKIPPED = { string.format("%s orders at %d ms, for every contender (a sequential walk makes ~%d requests: "
  .. "~%d s a walk); the %d ms rows walk %s orders, in %d round(s)", report.thousands(BIG), SLOW, BIG / 100,
  BIG / 100 * SLOW / 1000, SLOW, report.thousands(SMALL), CONFIGS[3].rounds) }
local CONTENDERS = {
  { name = "floor", label = "floor: libcurl (klikit.core) + cjson.decode, pages 1..⌈N/100⌉" },
  { name = "luasocket", label = "luasocket (socket.http) + cjson, pages 1..⌈N/100⌉" },
  { name = "klikit", label = "klikit `client:orders{from, to}` (time cursor)" },
  { name = "klikit_fields", label = "klikit with `fields` (5 fields)" },
  { name = "klikit_k8", label = "klikit with `concurrency = 8`" },
  { name = "klikit_k16", label = "klikit with `concurrency = 16`" },
}
local FIELDS = { "id", "created_at", "final_price", "status", "brands.name" }

local failures = {}
local function fail(msg)
  failures[#failures + 1] = msg
  print("FAILED: " .. msg)
end
local function progress(fmt, ...) io.stderr:write("bench: ", string.format(fmt, ...), "\n") end

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- One contender in a fresh process -> its JSON result (status ok | n/a | error).
local function measure(name, base_url, range, check)
  local cmd = table.concat({ quote(LUA), quote(ROOT .. "/bench/contender.lua"), name, quote(base_url),
    quote(range.from), quote(range.to), string.format("%d", range.n), check and "check" or "" }, " ")
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("*a")
  p:close()
  local line = out:match("([^\n]*)\n?$")
  local ok, res = pcall(cjson.decode, line)
  if not ok or type(res) ~= "table" then return { status = "error", message = out } end
  return res
end

-- Does this build accept the option? (an unknown one is request_invalid, before any request)
local function supports(s, range, option, value)
  local client = require("klikit").new { partner_key = "pk_test_klikit", secret_key = "sk_test_s3cr3t_never_print_me",
    base_url = s.base_url(0) }
  local ok, pager, err = pcall(client.orders, client, { from = range.from, to = range.to, [option] = value })
  if not ok then pager, err = nil, pager end
  client:close()
  return pager ~= nil or not (type(err) == "table" and err.code == "request_invalid"), err
end

local function machine()
  local f = io.open("/proc/cpuinfo")
  local cpu = f and f:read("*a"):match("model name%s*:%s*([^\n]+)") or "?"
  if f then f:close() end
  local p = io.popen("nproc")
  local cores = p:read("*l")
  p:close()
  return string.format("%s, %s cores; %s; libcurl %s; the bench server (nginx, 2 workers) on the same cores",
    cpu, cores, type(rawget(_G, "jit")) == "table" and rawget(_G, "jit").version or _VERSION, core.curl_version)
end

print(string.format("# klikit bench%s — %s", QUICK and " (BENCH_QUICK: a smoke run, not for the README)" or "",
  os.date("!%Y-%m-%d %H:%M UTC")))
print(machine())
print("")

local s = server.start(SETTINGS)
local ranges = s.info { SMALL, BIG }.ranges
local by_n = {}
for _, r in ipairs(ranges) do by_n[math.floor(r.n)] = r end
for _, n in ipairs { SMALL, BIG } do
  if not by_n[n] then fail(string.format("the newest %d orders share a second with older ones", n)) end
end
print(string.format("Bench server: %s orders pre-encoded%s; walks of the newest %s (%s .. %s) and all %s (%s .. %s).",
  report.thousands(SETTINGS.orders), s.load_seconds > 0 and string.format(" (encoded now in %.1f s, cached)",
  s.load_seconds) or " (from the cache)", report.thousands(SMALL), ranges[1].from, ranges[1].to,
  report.thousands(BIG), ranges[2].from, ranges[2].to))

local sandbox_url = os.getenv("KLIKIT_SANDBOX_URL")
if sandbox_url then
  local ok, n = require("server_check").run(sandbox_url, s, SETTINGS, ranges)
  if ok then print(string.format("Server check: %d answers byte-identical to the sandbox's (but request_id).", n))
  else fail("server check: " .. n) end
else
  print("Server check: skipped (no KLIKIT_SANDBOX_URL: run through `make bench`).")
end

local unsupported = {}
for name, opt in pairs { klikit_fields = { "fields", FIELDS }, klikit_k8 = { "concurrency", 8 },
  klikit_k16 = { "concurrency", 16 } } do
  local ok, err = supports(s, ranges[1], opt[1], opt[2])
  if not ok then unsupported[name] = tostring(err) end
end
local active = {}
for _, c in ipairs(CONTENDERS) do
  if not unsupported[c.name] then active[#active + 1] = c
  else print(string.format("%s: n/a (not supported by this build: %s)", c.label, unsupported[c.name])) end
end

-- Correctness before timing (also the warm-up): every contender walks each range once.
print("")
for _, n in ipairs { SMALL, BIG } do
  for _, c in ipairs(active) do
    local before = s.requests()
    local res = measure(c.name, s.base_url(0), by_n[n], true)
    local requests = s.requests() - before
    if res.status ~= "ok" then fail(string.format("%s, %d orders: %s", c.name, n, tostring(res.message)))
    elseif res.count ~= n or res.ids ~= n then
      fail(string.format("%s walked %.0f orders (%.0f distinct ids) of %d", c.name, res.count or -1, res.ids or -1, n))
    else
      print(string.format("check: %-13s %7s orders, %7s distinct ids, %5d requests: ok", c.name,
        report.thousands(n), report.thousands(res.ids), requests))
    end
  end
end
if #failures > 0 then
  s.stop()
  print("\nbench: correctness failures, no timing")
  os.exit(1)
end

-- Timed rounds: round r measures every contender once, the order rotated by r.
local results = {}
for _, cfg in ipairs(CONFIGS) do
  local res = {}
  results[cfg.key] = res
  for r = 1, cfg.rounds do
    progress("%s orders, %d ms latency, round %d of %d (%.0f s so far)", report.thousands(cfg.n), cfg.latency, r,
      cfg.rounds, core.monotonic() - started)
    for k = 0, #active - 1 do
      local c = active[(r - 1 + k) % #active + 1]
      local before = s.requests()
      local m = measure(c.name, s.base_url(cfg.latency), by_n[cfg.n], false)
      if m.status ~= "ok" then fail(string.format("%s, %d orders, %d ms: %s", c.name, cfg.n, cfg.latency,
        tostring(m.message)))
      elseif m.count ~= cfg.n then fail(string.format("%s walked %.0f orders of %d", c.name, m.count or -1, cfg.n))
      else
        m.round, m.requests = r, s.requests() - before
        res[c.name] = res[c.name] or {}
        table.insert(res[c.name], m)
      end
    end
  end
end

-- A page of 100 orders for the decoders.
local page_body = assert(core.new_transport {}:request { url = s.base_url(0) .. "/orders?size=100&from="
  .. by_n[BIG].from .. "&to=" .. by_n[BIG].to, headers = { Authorization = "Basic " .. core.base64(
    "pk_test_klikit:sk_test_s3cr3t_never_print_me") } }).body
s.stop()

print("\n## Walks\n")
print("Median over rounds; ×floor and ×luasocket are medians of per-round ratios (each round runs every "
  .. "contender once, in rotated order, each in a fresh process). CPU is the walking process's own "
  .. "(os.clock); peak RSS is its VmHWM. Requests are counted by the server.\n")
report.walk_table(CONFIGS, CONTENDERS, results, unsupported)
print("\nSkipped: " .. table.concat(SKIPPED, "; ") .. ".")

print("\n## Decoding\n")
progress("decode microbenchmark")
require("decode").run(page_body, QUICK and 5 or 25, QUICK and 3 or 10, FIELDS)

print("\n## Targets\n")
local function pair(key, a, b, metric)
  local ra = results[key] and results[key][a]
  local rb = results[key] and results[key][b]
  return ra and rb and report.paired(ra, rb, metric) or nil
end
local targets = {}
for _, cfg in ipairs { CONFIGS[1], CONFIGS[2] } do
  targets[#targets + 1] = { text = string.format("klikit walk ≤ 1.05× luasocket+cjson (wall, %s orders, 0 ms)",
    report.thousands(cfg.n)), value = pair(cfg.key, "klikit", "luasocket", "wall"), limit = 1.05 }
end
for _, cfg in ipairs { CONFIGS[1], CONFIGS[2] } do
  targets[#targets + 1] = { text = string.format("`fields` ≤ 0.34× the full walk's CPU (%s orders, 0 ms)",
    report.thousands(cfg.n)), value = pair(cfg.key, "klikit_fields", "klikit", "cpu"), limit = 0.34,
    note = unsupported.klikit_fields and "not supported by this build" }
end
targets[#targets + 1] = { text = string.format("`concurrency = 8` ≤ 0.2× the sequential walk (wall, %s orders, %d ms)",
  report.thousands(SMALL), SLOW), value = pair(CONFIGS[3].key, "klikit_k8", "klikit", "wall"), limit = 0.2,
  note = unsupported.klikit_k8 and "not supported by this build" }
targets[#targets + 1] = { text = string.format(
  "`concurrency = 16` ≤ 0.12× the sequential walk (wall, %s orders, %d ms)", report.thousands(SMALL), SLOW),
  value = pair(CONFIGS[3].key, "klikit_k16", "klikit", "wall"), limit = 0.12,
  note = unsupported.klikit_k16 and "not supported by this build" }
for _, k in ipairs { "klikit_k8", "klikit_k16" } do
  targets[#targets + 1] = { text = string.format("`%s` requests ≤ 1.1× the sequential walk's (%s orders)", k,
    report.thousands(BIG)), value = pair("big0", k, "klikit", "requests"), limit = 1.1,
    note = unsupported[k] and "not supported by this build" }
end
for _, c in ipairs { CONTENDERS[3], CONTENDERS[4], CONTENDERS[5], CONTENDERS[6] } do
  targets[#targets + 1] = { text = string.format("%s: peak RSS at %s ≤ 1.2× at %s orders", c.label,
    report.thousands(BIG), report.thousands(SMALL)), value = report.rss_ratio(results, "big0", "small0", c.name),
    limit = 1.2, note = unsupported[c.name] and "not supported by this build" }
end
report.targets(targets)

print(string.format("\nWhole run: %.0f s.", core.monotonic() - started))
if #failures > 0 then
  print(string.format("bench: %d failure(s):\n  %s", #failures, table.concat(failures, "\n  ")))
  os.exit(1)
end
