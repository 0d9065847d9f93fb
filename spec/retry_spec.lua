-- Retries: what is retried, waits (backoff, Retry-After), deadline, the hook, the rate
-- limiter, walk resume, and the two resilience runs (10,000 orders under 20% faults;
-- 500 status changes whose answers get lost after the write was applied).
local sandbox = require "support.sandbox"
local retry = require "klikit.http.retry"

-- A fake clock that only moves when the client sleeps.
local function fake_time()
  local t = { now = 1000, slept = {} }
  t.clock = function() return t.now end
  t.sleep = function(s) t.slept[#t.slept + 1] = s; t.now = t.now + s end
  return t
end

local function client_with(policy, extra)
  local t = fake_time()
  local opts = { retry = policy, sleep = t.sleep, clock = t.clock }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return sandbox.client(opts), t
end

describe("retry policy", function()
  before_each(function() sandbox.reset { data = true } end)

  it("retries a 502 and succeeds, waiting at most base_delay", function()
    sandbox.faults { { kind = "error", status = 502, code = "downstream_unavailable" } }
    local client, t = client_with { base_delay = 0.5 }
    local data, err, meta = client:request("GET", "/brands")
    assert.is_nil(err)
    assert.truthy(data)
    assert.equal(2, meta.attempts)
    assert.equal(1, #t.slept)
    assert.is_true(t.slept[1] >= 0 and t.slept[1] <= 0.5)
  end)

  it("retries 429, 500, 503 HTML, resets, cuts and timeouts, and never 4xx", function()
    local retried = {
      { kind = "error", status = 429, code = "RATE_LIMITED", headers = { ["Retry-After"] = "2" } },
      { kind = "error", status = 500, code = "INTERNAL" },
      { kind = "raw", status = 503, body = "<html><title>503</title></html>" },
      { kind = "raw", status = 504, body = "" },
      { kind = "close" },
      { kind = "raw", status = 200, content_type = "application/json", body = '{"request_id":"x","data":{' },
    }
    for _, f in ipairs(retried) do
      sandbox.faults { f }
      local client = client_with {}
      local _, err, meta = client:request("GET", "/brands")
      assert.is_nil(err, f.kind)
      assert.equal(2, meta.attempts, f.kind)
    end
    for _, f in ipairs {
      { kind = "error", status = 400, code = "request_invalid" },
      { kind = "error", status = 401, code = "auth_missing" },
      { kind = "error", status = 403, code = "auth_forbidden" }, { kind = "error", status = 404, code = "not_found" },
      { kind = "error", status = 409, code = "state_invalid_transition" },
      { kind = "error", status = 422, code = "INVALID_TRANSITION" }, { kind = "error", status = 501, code = "x" },
    } do
      sandbox.faults { f }
      local client, t = client_with {}
      local _, err, meta = client:request("GET", "/brands")
      assert.equal(f.status, err.status)
      assert.equal(1, meta.attempts)
      assert.equal(0, #t.slept)
    end
  end)

  it("retries a timeout", function()
    sandbox.faults { { kind = "stall", seconds = 1.5 } }
    local client = client_with({}, { timeout = 0.3 })
    local _, err, meta = client:request("GET", "/brands")
    assert.is_nil(err)
    assert.equal(2, meta.attempts)
  end)

  it("honours Retry-After in seconds and as an HTTP-date, and returns one beyond the cap", function()
    sandbox.faults { { kind = "error", status = 429, code = "rate_limit_exceeded",
      headers = { ["Retry-After"] = "7" } } }
    local client, t = client_with {}
    assert.truthy(client:request("GET", "/brands"))
    assert.same({ 7 }, t.slept)
    assert.equal(30, retry.parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 30))
    assert.equal(0, retry.parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 90))
    assert.is_nil(retry.parse_retry_after("soon", 0))
    sandbox.faults { { kind = "error", status = 429, code = "rate_limit_exceeded",
      headers = { ["Retry-After"] = "3600" } } }
    local data, err, meta = client:request("GET", "/brands")
    assert.is_nil(data)
    assert.equal("rate_limit_exceeded", err.code)
    assert.equal(3600, err.retry_after)
    assert.equal(1, meta.attempts)
    assert.same({ 7 }, t.slept) -- no hour-long sleep
  end)

  it("grows waits exponentially with jitter up to the cap, and stops at max_attempts", function()
    sandbox.faults { { kind = "error", status = 503, code = "x", times = 10 } }
    math.randomseed(3)
    local client, t = client_with { max_attempts = 5, base_delay = 1, max_delay = 3 }
    local _, err, meta = client:request("GET", "/brands")
    assert.equal(503, err.status)
    assert.equal(5, meta.attempts)
    assert.equal(5, err.attempts)
    assert.equal(4, #t.slept)
    for i, s in ipairs(t.slept) do assert.is_true(s >= 0 and s <= math.min(3, 2 ^ (i - 1)), s) end
  end)

  it("stops at the per-call deadline", function()
    sandbox.faults { { kind = "error", status = 503, code = "x", times = 50 } }
    local client, t = client_with { max_attempts = 50, base_delay = 1, max_delay = 1, deadline = 5 }
    local _, err, meta = client:request("GET", "/brands")
    assert.equal(503, err.status)
    assert.is_true(meta.attempts < 50)
    local total = 0
    for _, s in ipairs(t.slept) do total = total + s end
    assert.is_true(total < 5)
  end)

  it("retries a write with the same Idempotency-Key and the same bytes; applied once", function()
    local r
    for _, x in ipairs(sandbox.records()) do if x.status == 1 then r = x; break end end
    sandbox.faults({ { kind = "close" } }, "/orders/" .. r.id .. "/status")
    local client = client_with {}
    local data, err, meta = client:update_order_status(r.id, { status = "accepted" })
    assert.is_nil(err)
    assert.equal("accepted", data.status)
    assert.equal(2, meta.attempts)
    local seen = sandbox.requests()
    assert.equal(2, #seen)
    assert.equal(seen[1].body, seen[2].body)
    assert.equal(seen[1].headers["idempotency-key"], seen[2].headers["idempotency-key"])
  end)

  it("reports every attempt to on_request without any secret", function()
    sandbox.faults { { kind = "error", status = 502, code = "downstream_unavailable" } }
    local events = {}
    local client = client_with({}, { on_request = function(e) events[#events + 1] = e end })
    assert.truthy(client:request("GET", "/brands"))
    assert.equal(2, #events)
    assert.same({ "GET", "/brands", 1, 502, "downstream_unavailable" },
      { events[1].method, events[1].path, events[1].attempt, events[1].status, events[1].code })
    assert.equal(2, events[2].attempt)
    assert.equal(200, events[2].status)
    assert.is_string(events[2].request_id)
    assert.is_number(events[2].elapsed)
    for _, e in ipairs(events) do
      for _, v in pairs(e) do assert.is_nil(tostring(v):find(sandbox.secret_key, 1, true)) end
    end
  end)

  it("reports each attempt's own outcome, never an earlier attempt's status", function()
    sandbox.faults { { kind = "error", status = 502, code = "downstream_unavailable" },
      { kind = "stall", seconds = 1.5 } }
    local events = {}
    local client = client_with({ max_attempts = 2 },
      { timeout = 0.3, on_request = function(e) events[#events + 1] = e end })
    local _, err, meta = client:request("GET", "/brands")
    assert.equal("timeout", err.code)
    assert.equal(502, events[1].status)
    assert.is_nil(events[2].status)
    assert.is_nil(events[2].request_id)
    assert.is_nil(meta.status)
    assert.is_nil(meta.request_id)
  end)

  it("opts.retry = false makes one attempt", function()
    sandbox.faults { { kind = "error", status = 502, code = "downstream_unavailable" } }
    local client = client_with {}
    local _, err, meta = client:request("GET", "/brands", { retry = false })
    assert.equal(502, err.status)
    assert.equal(1, meta.attempts)
    local _, bad = client:request("GET", "/brands", { retry = { max_attempts = 0 } })
    assert.equal("request_invalid", bad.code)
  end)

  it("a client-side rate limit spaces requests instead of bouncing off 429s", function()
    local client, t = client_with({}, { rate_limit = 60 }) -- one a second, bursts of 10
    for _ = 1, 15 do assert.truthy(client:request("GET", "/orders/order-types")) end
    local total = 0
    for _, s in ipairs(t.slept) do total = total + s end
    assert.is_true(total >= 4.9 and total <= 5.1, total)
  end)

  it("a failed walk resumes from the page that failed, yielding nothing twice", function()
    local util = require "klikit.util"
    local client = sandbox.client()
    local pager = client:orders { from = "2026-06-01T00:00:00Z", to = "2026-07-01T00:00:00Z", size = 10 }
    local ids = {}
    for _ = 1, 15 do ids[#ids + 1] = pager:next().id end
    sandbox.faults { { kind = "error", status = 502, code = "downstream_unavailable" } }
    local err
    repeat -- drain the buffered page; the next fetch fails
      local item
      item, err = pager:next()
      if item then ids[#ids + 1] = item.id end
    until not item
    assert.equal(502, err.status)
    for order in pager:resume() do ids[#ids + 1] = order.id end
    local seen = {}
    for _, id in ipairs(ids) do
      assert.is_nil(seen[id])
      seen[id] = true
    end
    local lo, hi = util.parse_time("2026-06-01T00:00:00Z"), util.parse_time("2026-07-01T00:00:00Z")
    local want = 0
    for _, r in ipairs(sandbox.records()) do if r.created >= lo and r.created < hi then want = want + 1 end end
    assert.equal(want, #ids)
  end)
end)

describe("resilience runs", function()
  local extra
  setup(function() extra = sandbox.start_extra { SANDBOX_ORDERS = 10000, SANDBOX_OPEN = 600, SANDBOX_SEED = 7 } end)
  teardown(function() if extra then extra.stop() end end)

  it("walks 10,000 orders while 20% of requests fail, every order exactly once", function()
    extra.control("POST", "chaos", { rate = 0.2, seed = 11, stall_seconds = 1 })
    local t = fake_time()
    local client = require("klikit").new { partner_key = sandbox.partner_key, secret_key = sandbox.secret_key,
      base_url = extra.base_url, timeout = 0.5, retry = { max_attempts = 10 }, sleep = t.sleep, clock = t.clock }
    local records = require("klikit_sandbox.data").generate { orders = 10000, open = 600, seed = 7 }
    local attempts = 0
    client.on_request = function() attempts = attempts + 1 end
    local started = os.time()
    local seen, n = {}, 0
    for order in client:orders { size = 100 } do
      assert.is_nil(seen[order.id])
      seen[order.id] = true
      n = n + 1
      assert.equal(records[n].id, order.id)
    end
    assert.equal(10000, n)
    local stats = extra.control("GET", "stats")
    local injected = 0
    for _, c in pairs(stats.injected) do injected = injected + c end
    extra.control("POST", "chaos", { rate = 0 })
    print(string.format("\n  10,000 orders: %d attempts, %d injected faults %s, ~%d s wall, %.1f s of backoff waits",
      attempts, injected, require("cjson").encode(stats.injected), os.time() - started,
      (function() local s = 0 for _, x in ipairs(t.slept) do s = s + x end return s end)()))
    assert.is_true(injected >= 10)
  end)

  it("sends 500 status changes while answers are lost after the write; each applied once", function()
    extra.control("POST", "chaos", { rate = 0.3, kinds = { "lost", "502", "reset" }, seed = 5 })
    local t = fake_time()
    local client = require("klikit").new { partner_key = sandbox.partner_key, secret_key = sandbox.secret_key,
      base_url = extra.base_url, retry = { max_attempts = 10 }, sleep = t.sleep, clock = t.clock }
    local records = require("klikit_sandbox.data").generate { orders = 10000, open = 600, seed = 7 }
    local NEXT = { [1] = { status = "accepted" }, [2] = { status = "ready" },
      [4] = { status = "cancelled", reason_code = "out_of_items" } }
    local sent, attempts = 0, 0
    for _, r in ipairs(records) do
      if sent == 500 then break end
      if NEXT[r.status] then
        local data, err, meta = client:update_order_status(r.id, NEXT[r.status])
        assert.is_nil(err, err and tostring(err))
        assert.equal(NEXT[r.status].status, data.status)
        attempts = attempts + meta.attempts
        sent = sent + 1
      end
    end
    assert.equal(500, sent)
    local stats = extra.control("GET", "stats")
    extra.control("POST", "chaos", { rate = 0 })
    local changed, twice = 0, 0
    for _, n in pairs(stats.transitions) do
      changed = changed + 1
      if n ~= 1 then twice = twice + 1 end
    end
    print(string.format("\n  500 status changes: %d attempts, lost answers %d, applied %d orders, %d more than once",
      attempts, stats.injected.lost or 0, changed, twice))
    assert.equal(500, changed)
    assert.equal(0, twice)
    assert.is_true((stats.injected.lost or 0) >= 50)
  end)
end)
