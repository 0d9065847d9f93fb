-- klar.export over real HTTP: the sandbox's klikit orders into its fake Klar, exactly once,
-- with the checkpoint, the lookback, rejected and unmappable orders retried, the lock, and
-- SIGKILL at random points.
local sandbox = require "support.sandbox"
local klar = require "klikit.klar"
local core = require "klikit.core"
local util = require "klikit.util"

local TO = "2026-11-01T00:00:00Z"
local FROM = "2025-11-01T00:00:00Z"

local tmp
local function path(name) return tmp .. "/" .. name end

local read_file = require("support.files").read

local function export(state, extra)
  local opts = { source = sandbox.client { retry = { max_attempts = 4, base_delay = 0.01 } },
    sink = sandbox.klar_client { retry = { max_attempts = 6, base_delay = 0.01, max_delay = 0.05 } },
    state_file = path(state), from = FROM, to = TO }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return klar.export(opts)
end

-- What Klar must hold for every sandbox order now: its mapped financial status.
local function expected(records)
  local data, sj = require "klikit_sandbox.data", require "klikit_sandbox.json"
  local out = {}
  for _, r in ipairs(records) do
    local k = assert(klar.from_klikit(core.decode_json(sj.encode(data.order(r)))))
    out[k.id] = k.financialStatus
  end
  return out
end

describe("klar.export", function()
  setup(function()
    tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir -p " .. tmp) ~= false)
  end)
  teardown(function() os.execute("rm -rf '" .. tmp .. "'") end)
  before_each(function()
    sandbox.reset { data = true }
    sandbox.klar_mode {}
  end)

  it("sends every order once; the next run re-sends only what the lookback covers", function()
    local s = assert(export("full.state"))
    assert.equal(1200, s.walked)
    assert.equal(1200, s.accepted)
    assert.same({}, s.rejected)
    assert.equal(5, s.batches)
    assert.equal(util.parse_time(TO), s.checkpoint)
    local report = sandbox.klar_report()
    assert.equal(1200, report.count)
    local want = expected(sandbox.records())
    for id, status in pairs(want) do
      assert.equal(1, report.uploads[id])
      assert.equal(status, report.financial[id])
    end
    local state = core.decode_json(read_file(path("full.state")))
    assert.equal(s.checkpoint, state.checkpoint)
    assert.is_nil(state.run)
    -- the second run: [checkpoint - 7 days, to)
    local s2 = assert(export("full.state", { to = "2026-11-02T00:00:00Z" }))
    local lo = util.parse_time(TO) - 7 * 86400
    local n = 0
    for _, r in ipairs(sandbox.records()) do if r.created >= lo then n = n + 1 end end
    assert.is_true(n > 0)
    assert.equal(n, s2.walked)
    assert.equal(lo, s2.from)
    report = sandbox.klar_report()
    for _, r in ipairs(sandbox.records()) do
      assert.equal(r.created >= lo and 2 or 1, report.uploads[string.format("%d", r.id)])
    end
  end)

  it("carries an order cancelled after its first export to Klar on the next run", function()
    assert(export("cancel.state", { from = "2026-10-01T00:00:00Z" }))
    local open
    for _, r in ipairs(sandbox.records()) do
      if r.status == 2 or r.status == 4 or r.status == 1 then open = r break end
    end
    local id = string.format("%d", open.id)
    assert.not_equal("cancelled", sandbox.klar_report().financial[id])
    local client = sandbox.client()
    assert(client:update_order_status(id, { status = "cancelled", reason_code = "out_of_items" }))
    local s = assert(export("cancel.state", { to = "2026-11-03T00:00:00Z" }))
    assert.is_true(s.walked > 0)
    local report = sandbox.klar_report()
    assert.equal("cancelled", report.financial[id])
    assert.is_true(report.cancelled_at[id] > 1.7e9)
    assert.equal(2, report.uploads[id])
  end)

  it("reports orders Klar rejects, keeps them in the state file, and retries them next run", function()
    local victims = { string.format("%d", sandbox.records()[10].id), string.format("%d", sandbox.records()[700].id) }
    sandbox.klar_mode { reject = { [victims[1]] = "no thanks", [victims[2]] = "not today" } }
    local s = assert(export("rej.state"))
    assert.equal(1198, s.accepted)
    assert.truthy(s.rejected[victims[1]][1]:find("no thanks", 1, true))
    local state = core.decode_json(read_file(path("rej.state")))
    assert.truthy(state.rejected[victims[2]])
    sandbox.klar_mode {}
    -- the next run's range holds no orders: the two come back by id
    local s2 = assert(export("rej.state", { lookback = 0, to = "2026-11-02T00:00:00Z" }))
    assert.equal(0, s2.walked)
    assert.equal(2, s2.retried)
    assert.equal(2, s2.accepted)
    state = core.decode_json(read_file(path("rej.state")))
    assert.same({}, state.rejected)
    assert.equal(1200, sandbox.klar_report().count)
  end)

  it("reports unmappable orders, sends the rest, and retries them once klikit's data allows", function()
    local bad = sandbox.records()[5].id
    sandbox.quirks { no_currency = { bad } }
    local s = assert(export("unmap.state"))
    local id = string.format("%d", bad)
    assert.equal(1199, s.mapped)
    assert.truthy(s.unmappable[id]:find("currency", 1, true))
    assert.is_nil(sandbox.klar_report().uploads[id])
    sandbox.quirks {}
    local s2 = assert(export("unmap.state", { lookback = 0, to = "2026-11-02T00:00:00Z" }))
    assert.equal(1, s2.accepted)
    assert.equal(1, sandbox.klar_report().uploads[id])
    assert.same({}, core.decode_json(read_file(path("unmap.state"))).unmappable)
  end)

  it("rides out 429s, 5xx and lost answers on both APIs", function()
    sandbox.chaos { rate = 0.15, kinds = { "429", "502", "503html", "lost" }, seed = 12 }
    local s, err = export("chaos.state", { source = sandbox.client { retry = { max_attempts = 10, base_delay = 0.01,
      max_delay = 0.02, max_retry_after = 1 } }, sink = sandbox.klar_client { retry = { max_attempts = 10,
      base_delay = 0.01, max_delay = 0.02, max_retry_after = 1 } } })
    sandbox.chaos { rate = 0 }
    assert(s, tostring(err))
    assert.equal(1200, s.accepted)
    assert.equal(1200, sandbox.klar_report().count)
  end)

  it("refuses a second export on a locked state file at once, changing nothing", function()
    assert(export("lock.state", { to = "2026-06-01T00:00:00Z" }))
    local before = read_file(path("lock.state"))
    local requests = sandbox.stats().requests
    local lock = assert(core.lock(path("lock.state") .. ".lock"))
    local none, err = export("lock.state")
    lock:unlock()
    assert.is_nil(none)
    assert.equal("export_locked", err.code)
    assert.truthy(err.message:find("lock.state", 1, true))
    assert.equal(before, read_file(path("lock.state")))
    assert.equal(requests, sandbox.stats().requests)
  end)

  it("never moves the checkpoint past the present, whatever `to` says", function()
    local s = assert(export("future.state", { from = "2026-10-01T00:00:00Z", to = "2027-06-01T00:00:00Z" }))
    assert.is_true(s.checkpoint <= os.time())
    assert.is_true(core.decode_json(read_file(path("future.state"))).checkpoint <= os.time())
  end)

  it("keeps an old order klikit will not serve pending, and finishes the run", function()
    local victim = string.format("%d", sandbox.records()[3].id)
    sandbox.klar_mode { reject = { [victim] = "no" } }
    assert(export("pending.state"))
    sandbox.klar_mode {}
    sandbox.faults({ { kind = "error", status = 403, code = "auth_forbidden", message = "not your branch" } },
      "/orders/" .. victim)
    local s = assert(export("pending.state", { lookback = 0, to = "2026-11-02T00:00:00Z" }))
    assert.truthy(s.retry_failed[victim]:find("auth_forbidden", 1, true))
    local state = core.decode_json(read_file(path("pending.state")))
    assert.is_nil(state.run)
    assert.truthy(state.rejected[victim])
    s = assert(export("pending.state", { lookback = 0, to = "2026-11-03T00:00:00Z" }))
    assert.equal(1, s.accepted)
    assert.same({}, core.decode_json(read_file(path("pending.state"))).rejected)
  end)

  it("locks the file, not the name: a symlink to a state file in use is locked too", function()
    assert(export("real.state", { to = "2026-06-01T00:00:00Z" }))
    os.execute(string.format("ln -s '%s' '%s'", path("real.state"), path("link.state")))
    local lock = assert(core.lock(path("real.state") .. ".lock"))
    local none, err = export("link.state", { to = "2026-06-01T00:00:00Z" })
    lock:unlock()
    assert.is_nil(none)
    assert.equal("export_locked", err.code)
    assert(export("link.state", { to = "2026-06-02T00:00:00Z" }))
    local p = io.popen("test -L '" .. path("link.state") .. "' && echo link")
    assert.equal("link\n", p:read("*a"))
    p:close()
  end)

  it("refuses a state file that is not an export state, leaving it alone", function()
    for _, body in ipairs { "not json", '{"version":99}', '{"version":1,"rejected":[1,2]}', "[]" } do
      local f = assert(io.open(path("bad.state"), "wb"))
      f:write(body)
      f:close()
      local none, err = export("bad.state")
      assert.is_nil(none)
      assert.equal("export_state_invalid", err.code)
      assert.equal(body, read_file(path("bad.state")))
    end
  end)

  it("reports progress after every batch, and keeps every secret out of the state file", function()
    local seen, lines = {}, {}
    local stream = { write = function(_, ...) for _, x in ipairs { ... } do lines[#lines + 1] = x end end,
      flush = function() end }
    local draw = klar.terminal_progress(stream, true)
    assert(export("progress.state", { on_progress = function(p)
      seen[#seen + 1] = p
      draw(p)
    end }))
    local batches = {}
    for _, p in ipairs(seen) do batches[p.batches] = true end
    for b = 1, 5 do assert.truthy(batches[b], "progress after batch " .. b) end
    for i = 2, #seen do assert.is_true(seen[i].walked >= seen[i - 1].walked) end
    assert.equal("done", seen[#seen].phase)
    assert.equal(1200, seen[#seen].accepted)
    local text = table.concat(lines)
    assert.truthy(text:find("1200 walked, 1200 sent, 1200 accepted", 1, true), text)
    assert.equal("\n", text:sub(-1))
    local state = read_file(path("progress.state"))
    assert.falsy(state:find(sandbox.klar_token, 1, true))
    assert.falsy(state:find(sandbox.secret_key, 1, true))
  end)

  it("raises for a first run without from, and for bad options", function()
    local ok, err = pcall(export, "nofrom.state", { from = false })
    assert.is_false(ok)
    assert.equal("request_invalid", err.code)
    for _, bad in ipairs { { lookback = -1 }, { state_file = "" }, { source = {} }, { from = "yesterday" },
        { mapping = { tax_rate = 5 } }, { filters = { brand = 1 } }, { nonsense = 1 } } do
      ok, err = pcall(export, "x.state", bad)
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
  end)
end)

-- The interpreter this suite runs on, for child processes.
local function interpreter()
  if type(rawget(_G, "jit")) == "table" then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

local function spawn(dir, env)
  local assignments = {}
  for k, v in pairs(env) do assignments[#assignments + 1] = string.format("CHILD_%s='%s'", k, v) end
  local id = tostring(core.monotonic()):gsub("%D", "")
  local pidfile, rcfile, out = dir .. "/pid" .. id, dir .. "/rc" .. id, dir .. "/out" .. id
  -- a subshell waits for the child (so it is reaped) and writes its exit status
  os.execute(string.format(
    "(%s %s spec/support/klar_export_child.lua > %s 2>&1 & echo $! > %s; wait $!; echo $? > %s) >/dev/null 2>&1 &",
    table.concat(assignments, " "), interpreter(), out, pidfile, rcfile))
  local child = { rcfile = rcfile, out = out }
  for _ = 1, 500 do
    child.pid = tonumber(read_file(pidfile) or "")
    if child.pid then break end
    core.sleep(0.01)
  end
  assert(child.pid, "child did not start")
  function child.wait(seconds)
    local deadline = core.monotonic() + seconds
    while core.monotonic() < deadline do
      local rc = tonumber(read_file(rcfile) or "")
      if rc then return rc, read_file(out) end
      core.sleep(0.01)
    end
    os.execute("kill -KILL " .. child.pid .. " 2>/dev/null")
    error("child did not finish in " .. seconds .. " s: " .. tostring(read_file(out)))
  end
  return child
end

describe("klar.export in a child process", function()
  local dir
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
  end)
  teardown(function()
    sandbox.chaos { rate = 0 }
    os.execute("rm -rf '" .. dir .. "'")
  end)

  local function child_env(state, batch)
    sandbox.start()
    return { PARTNER_KEY = sandbox.partner_key, SECRET_KEY = sandbox.secret_key, KLIKIT_URL = sandbox.base_url,
      KLAR_TOKEN = sandbox.klar_token, KLAR_URL = sandbox.url .. "/klar", STATE = dir .. "/" .. state,
      FROM = FROM, TO = TO, BATCH = batch or 250 }
  end

  it("survives 5 SIGKILLs over 2,400 orders: all in Klar, none uploaded more than twice #subprocess", function()
    local seed = tonumber(os.getenv("KLAR_KILL_SEED")) or 2026
    local rand = require("klikit_sandbox.data").prng(seed)
    sandbox.regenerate { orders = 2400 }
    sandbox.chaos { rate = 0.5, kinds = { "slow" }, seed = seed } -- 20 ms on half the requests
    local env = child_env("kill.state", 50)
    local state = env.STATE
    for kill = 1, 5 do
      local child = spawn(dir, env)
      -- let this run get past the batch the last one was killed in (k state writes),
      -- then kill it anywhere: between batches, inside a request, inside a write
      local writes, last, deadline = 0, read_file(state), core.monotonic() + 30
      local want = rand(3)
      while writes < want and core.monotonic() < deadline do
        local now = read_file(state)
        if now ~= last then writes, last = writes + 1, now end
        core.sleep(0.002)
      end
      core.sleep((rand(40) - 1) / 1000)
      os.execute("kill -KILL " .. child.pid)
      local rc, out = child.wait(30)
      assert.equal(137, rc, "kill " .. kill .. " (seed " .. seed .. ") landed after the run ended: " .. tostring(out))
    end
    local rc, out = spawn(dir, env).wait(60)
    sandbox.chaos { rate = 0 }
    assert.equal(0, rc, out)
    assert.truthy(out:find("resumed=true", 1, true), out)
    local report = sandbox.klar_report()
    local data = require "klikit_sandbox.data"
    local want = expected((data.generate { orders = 2400 }))
    local twice = 0
    for id, status in pairs(want) do
      local n = report.uploads[id]
      assert(n == 1 or n == 2, "order " .. id .. " uploaded " .. tostring(n) .. " times (seed " .. seed .. ")")
      if n == 2 then twice = twice + 1 end
      assert.equal(status, report.financial[id])
    end
    assert.equal(2400, report.count)
    assert.is_true(twice <= 5 * 50, "at most one batch per kill sent again")
    io.write(string.format("\n  kill-and-resume: 5 SIGKILLs, 2400 orders, %d sent twice (seed %d)\n", twice, seed))
    assert.is_nil(core.decode_json(read_file(state)).run)
  end)

  it("a second export on the same state file while one runs fails at once with export_locked #subprocess", function()
    sandbox.reset { data = true }
    sandbox.faults({ { kind = "stall", seconds = 1.5 } }, "/klar")
    local env = child_env("busy.state")
    local child = spawn(dir, env)
    local deadline = core.monotonic() + 10
    while #sandbox.requests() == 0 and core.monotonic() < deadline do core.sleep(0.01) end
    core.sleep(0.1)
    local t0 = core.monotonic()
    local none, err = klar.export { source = sandbox.client(), sink = sandbox.klar_client(), state_file = env.STATE,
      from = FROM }
    assert.is_true(core.monotonic() - t0 < 0.5, "it fails at once")
    assert.is_nil(none)
    assert.equal("export_locked", err.code)
    local rc, out = child.wait(30)
    assert.equal(0, rc, out)
    assert.equal(1200, sandbox.klar_report().count)
  end)
end)
