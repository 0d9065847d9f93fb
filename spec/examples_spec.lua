-- The examples as a user runs them: each script in a child process of this suite's Lua,
-- from the checkout, with nothing in its environment but PATH, the module paths and the
-- sandbox's KLIKIT_* (and KLAR_*) variables; its output is checked against the sandbox's
-- truth (the seeded records the sandbox serves). examples/openresty is run by
-- spec/openresty_spec.lua (the OpenResty group), inside nginx.
local sandbox = require "support.sandbox"
local interpreter = require "support.interpreter"
local util = require "klikit.util"
local klikit = require "klikit"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local root
local function checkout()
  if not root then
    local p = assert(io.popen("pwd"))
    root = p:read("*l")
    p:close()
  end
  return root
end

-- Runs examples/<script> with args; -> output (stdout and stderr), exit status.
local function run(script, args, env)
  sandbox.start()
  local dir = checkout()
  local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
  if build:sub(1, 1) ~= "/" then build = dir .. "/" .. build end
  local vars = {
    PATH = "/usr/bin:/bin",
    LUA_PATH = dir .. "/lua/?.lua;" .. dir .. "/lua/?/init.lua;;",
    LUA_CPATH = build .. "/?.so;;",
    KLIKIT_PARTNER_KEY = sandbox.partner_key,
    KLIKIT_SECRET_KEY = sandbox.secret_key,
    KLIKIT_BASE_URL = sandbox.base_url,
  }
  for k, v in pairs(env or {}) do vars[k] = v end
  local assignments = {}
  for k, v in pairs(vars) do assignments[#assignments + 1] = k .. "=" .. quote(v) end
  local quoted = {}
  for i, a in ipairs(args or {}) do quoted[i] = quote(a) end
  local cmd = string.format("cd %s && env -i %s %s examples/%s %s 2>&1; echo \"exit:$?\"", quote(dir),
    table.concat(assignments, " "), interpreter.command, script, table.concat(quoted, " "))
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  local body, status = out:match("^(.*)exit:(%d+)%s*$")
  return body, tonumber(status)
end

-- The seeded records created in [from, to) (RFC 3339 strings), newest first.
local function records_between(from, to)
  local records = sandbox.records()
  local lo, hi = util.parse_time(from), util.parse_time(to)
  local out = {}
  for _, r in ipairs(records) do
    if r.created >= lo and r.created < hi then out[#out + 1] = r end
  end
  return out
end

local CANCELLED = 3
local OFFSET = "+07:00"

describe("examples", function()
  setup(function()
    sandbox.start()
    sandbox.reset { data = true }
  end)
  teardown(function() sandbox.reset { data = true } end)

  it("orders_today.lua: orders per brand of one day in the business's time zone #subprocess", function()
    local records = sandbox.records()
    local day = os.date("!%Y-%m-%d", records[100].created + 7 * 3600) -- a day with orders, at +07:00
    local from, to = klikit.day(day, OFFSET)
    local want, total, cancelled = {}, 0, 0
    for _, r in ipairs(records_between(from, to)) do
      want[r.brand_id] = want[r.brand_id] or { orders = 0, cancelled = 0 }
      want[r.brand_id].orders = want[r.brand_id].orders + 1
      total = total + 1
      if r.status == CANCELLED then
        want[r.brand_id].cancelled = want[r.brand_id].cancelled + 1
        cancelled = cancelled + 1
      end
    end
    assert.is_true(total > 0)
    local out, status = run("orders_today.lua", { day, OFFSET })
    assert.equal(0, status, out)
    assert.truthy(out:find("created_at in [" .. from .. ", " .. to .. ")", 1, true), out)
    local got = {}
    for id, n, c in out:gmatch("brand (%d+)%s.-%s(%d+) orders %((%d+) cancelled%)") do
      got[tonumber(id)] = { orders = tonumber(n), cancelled = tonumber(c) }
    end
    assert.same(want, got)
    assert.truthy(out:find(string.format("total: %d orders (%d cancelled)", total, cancelled), 1, true), out)

    -- "today" (the default) in the zone given by KLIKIT_UTC_OFFSET
    local tfrom, tto = klikit.day("today", "+05:30")
    out, status = run("orders_today.lua", {}, { KLIKIT_UTC_OFFSET = "+05:30" })
    assert.equal(0, status, out)
    assert.truthy(out:find("created_at in [" .. tfrom .. ", " .. tto .. ")", 1, true), out)
    assert.truthy(out:find(string.format("total: %d orders", #records_between(tfrom, tto)), 1, true), out)

    out, status = run("orders_today.lua", { "2026-13-01" })
    assert.equal(2, status)
    assert.truthy(out:find("usage", 1, true))
  end)

  it("revenue.lua: the count and the sum of final_price over days, in major units #subprocess", function()
    local data = require "klikit_sandbox.data"
    -- four months: the walk and the count span two 90-day windows
    local first, last = "2026-03-01", "2026-06-30"
    local from = klikit.day(first, OFFSET)
    local _, to = klikit.day(last, OFFSET)
    local count, cancelled, minor, paid = 0, 0, 0, 0
    for _, r in ipairs(records_between(from, to)) do
      count = count + 1
      if r.status == CANCELLED then
        cancelled = cancelled + 1
      else
        minor, paid = minor + data.order(r).final_price, paid + 1
      end
    end
    assert.is_true(count > 100 and cancelled > 0)
    local out, status = run("revenue.lua", { first, last, OFFSET })
    assert.equal(0, status, out)
    assert.truthy(out:find(string.format("%d counted, %d walked, %d cancelled", count, count, cancelled), 1, true), out)
    local major = string.format("%d.%02d", math.floor(minor / 100), minor % 100) -- IDR: 2 places
    assert.truthy(out:find(string.format("revenue IDR %s (%d minor units) from %d orders", major, minor, paid), 1,
      true), out)
  end)

  it("cancel_order.lua: cancels an open order with a reason code, and says so when it cannot #subprocess", function()
    local open
    for _, r in ipairs(sandbox.records()) do
      if r.status == 1 or r.status == 2 then open = r break end
    end
    assert.truthy(open)
    local out, status = run("cancel_order.lua", { open.id, "customer_request" })
    assert.equal(0, status, out)
    assert.truthy(out:find("order " .. open.id .. " cancelled (reason customer_request): status cancelled at ", 1,
      true), out)
    local order = assert(sandbox.client():order(open.id))
    assert.equal(CANCELLED, order.status)
    assert.equal("customer_request", order.cancellation_reason)

    out, status = run("cancel_order.lua", { open.id }) -- again: already cancelled
    assert.equal(3, status, out)
    assert.truthy(out:find("order " .. open.id .. " cannot be cancelled now", 1, true), out)
    sandbox.reset { data = true }
  end)

  it("export_to_klar.lua: every sandbox order lands in the fake Klar once #subprocess", function()
    sandbox.klar_reset()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. quote(dir)))
    local n = #sandbox.records()
    local out, status = run("export_to_klar.lua", { dir .. "/klar.state", "2025-11-01" },
      { KLAR_TOKEN = sandbox.klar_token, KLAR_BASE_URL = sandbox.url .. "/klar" })
    os.execute("rm -rf " .. quote(dir))
    assert.equal(0, status, out)
    assert.truthy(out:find(string.format("walked %d orders, sent %d, Klar accepted %d in ", n, n, n), 1, true), out)
    assert.equal(n, sandbox.klar_report().count)
  end)

  it("quickstart.lua: brands, branches, a month's count and walk #subprocess", function()
    local from, to = "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"
    local n = #records_between(from, to)
    local out, status = run("quickstart.lua", { "2026-06" })
    assert.equal(0, status, out)
    assert.truthy(out:find(string.format("Orders created in 2026-06: %d", n), 1, true), out)
    assert.truthy(out:find(string.format("Total: %d orders walked (count said %d)", n, n), 1, true), out)
    assert.is_nil(out:find("completed", 1, true)) -- status 5 is "delivered" (klikit.enums)
    assert.truthy(out:find(" delivered ", 1, true))
  end)
end)
