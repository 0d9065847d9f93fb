-- The OpenResty spec group (make test-openresty, tag #openresty): klikit installed for
-- LuaJIT inside nginx (lua-nginx-module), against the sandbox. The shared transport
-- contract runs through the cosocket transport here; make test-openresty also runs the
-- walk, write and retry specs through it (KLIKIT_SPEC_TRANSPORT=ngx).
local forward = require "support.ngx_forward"

require("transport.contract").run("ngx (cosockets inside nginx) #openresty",
  function(opts) return forward.new(opts) end, {
  describe = describe, it = it, setup = setup, teardown = teardown, before_each = before_each,
  after_each = after_each, assert = assert }, { ca_file = false })

local sandbox = require "support.sandbox"
local openresty = require "support.openresty"
local parallel = require "support.parallel"
local walk = require "support.walk"
local cjson = require "cjson.safe"
local core = require "klikit.core"

local function get(url)
  local resp, code, message = core.new_transport {}:request { method = "GET", url = url, timeout = 60 }
  assert(resp, tostring(code) .. " " .. tostring(message))
  return cjson.decode(resp.body), resp.status
end

describe("klikit inside OpenResty #openresty", function()
  local server
  setup(function()
    server = openresty.shared()
  end)
  after_each(function()
    sandbox.reset { data = true }
  end)

  it("refuses options that have no meaning for cosockets, naming them", function()
    for _, case in ipairs {
      { { ca_file = "/etc/ssl/certs/ca-certificates.crt" }, "lua_ssl_trusted_certificate" },
      { { proxy = "http://127.0.0.1:3128" }, "proxies are not supported" },
      { { pool_size = 0 }, "pool_size" }, { { keepalive = 0 }, "keepalive" }, { { pool = "" }, "pool" },
    } do
      local ok, raised = pcall(forward.new(case[1]).request, forward.new(case[1]),
        { method = "GET", url = sandbox.base_url .. "/brands" })
      assert.is_false(ok)
      assert.truthy(tostring(raised):find(case[2], 1, true), tostring(raised))
      assert.truthy(tostring(raised):find("request_invalid", 1, true), tostring(raised))
    end
  end)

  it("verifies TLS through cosockets: the sandbox's CA where trusted, tls_verify_failed elsewhere", function()
    local untrusted = get(server.url2 .. "/tls?base_url=" .. server.tls.base_url)
    assert.equal("tls_verify_failed", untrusted.code)
    local trusted = get(server.url .. "/tls?base_url=" .. server.tls.base_url)
    assert.equal(404, trusted.status) -- order 1 does not exist: the answer came through verified TLS
  end)

  it("one worker serves 20 concurrent klikit calls in < 2x one; the same through curl takes >= 10x", function()
    local id = sandbox.records()[1].id
    sandbox.control_latency(0.2)
    get(server.url .. "/call?id=" .. id) -- the worker's client exists and a connection is pooled
    local one = parallel.get { server.url .. "/call?id=" .. id }
    local urls, curl_urls = {}, {}
    for i = 1, 20 do
      urls[i] = server.url .. "/call?id=" .. id
      curl_urls[i] = server.url .. "/call?transport=curl&id=" .. id
    end
    local together, statuses = parallel.get(urls)
    local blocked = parallel.get(curl_urls)
    sandbox.control_latency(0)
    for _, s in ipairs(statuses) do assert.equal(200, s) end
    print(string.format("\n  OpenResty: one call %.3f s; 20 at once %.3f s through cosockets, %.3f s through curl",
      one, together, blocked))
    assert.is_true(together < 2 * one, together .. " s for 20, " .. one .. " s for one")
    assert.is_true(blocked >= 10 * one, blocked .. " s through curl, " .. one .. " s for one")
  end)

  it("walks 1,200 orders inside nginx exactly once while orders arrive and chaos is on", function()
    local params = { from = "2025-11-01T00:00:00Z", to = "2026-11-01T00:00:00Z" }
    local want = walk.truth(params)
    assert.is_true(#want >= 1000)
    sandbox.churn { arrive = 1, mode = "inside", seed = 5, limit = 40, from = params.from, to = params.to }
    sandbox.chaos { rate = 0.1, kinds = { "429", "502", "503html", "reset", "truncate", "slow" }, seed = 3 }
    local out = get(server.url .. "/walk?from=" .. params.from .. "&to=" .. params.to .. "&size=100")
    sandbox.chaos { rate = 0 }
    assert.is_nil(out.code, tostring(out.code) .. ": " .. tostring(out.message))
    local bad = walk.exactly_once(out.ids, want, sandbox.churned().touched)
    assert.is_nil(bad, bad)
    print(string.format("\n  OpenResty walk: %d orders in %d requests under chaos", #out.ids, out.requests))
  end)

  it("walks in 8 light threads at once: exactly once under chaos and arrivals, and faster", function()
    local params = { from = "2025-11-01T00:00:00Z", to = "2026-11-01T00:00:00Z" }
    local want = walk.truth(params)
    sandbox.churn { arrive = 1, mode = "inside", seed = 9, limit = 40, from = params.from, to = params.to }
    sandbox.chaos { rate = 0.1, kinds = { "429", "502", "503html", "reset", "truncate" }, seed = 4 }
    local url = server.url .. "/walk?from=" .. params.from .. "&to=" .. params.to .. "&size=50"
    local out = get(url .. "&concurrency=8")
    sandbox.chaos { rate = 0 }
    assert.is_nil(out.code, tostring(out.code) .. ": " .. tostring(out.message))
    local bad = walk.exactly_once(out.ids, want, sandbox.churned().touched)
    assert.is_nil(bad, bad)
    sandbox.reset { data = true }
    sandbox.control_latency(0.05)
    local one = get(url)
    local eight = get(url .. "&concurrency=8")
    sandbox.control_latency(0)
    assert.same(one.ids, eight.ids)
    print(string.format("\n  OpenResty walk at 50 ms a request: %.2f s in %d requests; concurrency 8: %.2f s in %d",
      one.elapsed, one.requests, eight.elapsed, eight.requests))
    assert.is_true(eight.elapsed < one.elapsed * 0.4, eight.elapsed .. " s vs " .. one.elapsed .. " s")
  end)
end)

describe("klikit.webhook.handler inside OpenResty (2 workers) #openresty", function()
  local hooks
  local SECRET = "whsec_test_n3ver_print"
  setup(function()
    sandbox.start()
    hooks = openresty.start { workers = 2, settings = { base_url = sandbox.base_url, partner_key = sandbox.partner_key,
      secret_key = sandbox.secret_key, webhook_secret = SECRET, on_event_sleep = 1 } }
  end)
  teardown(function() hooks.stop() end)

  local function wait_delivered(seconds)
    local deadline = os.time() + seconds
    local report
    repeat
      report = sandbox.webhook_report()
      if report.pending == 0 then return report end
      os.execute("sleep 0.1")
    until os.time() > deadline
    error("deliveries still pending after " .. seconds .. " s")
  end

  it("100 deliveries: the documented answers, each event processed once, acks fast while on_event sleeps 1 s",
    function()
      sandbox.reset()
      local deliveries, kind = {}, {}
      local rand = require("klikit_sandbox.data").prng(42)
      local records = sandbox.records()
      local function orders(n)
        local ids = {}
        for k = 1, n do ids[k] = records[rand(#records)].id end
        return ids
      end
      for i = 1, 80 do deliveries[#deliveries + 1] = { event_id = "evt-" .. i, orders = orders(1 + rand(2)) } end
      local later = {}
      for _ = 1, 10 do -- duplicates: the same event again, the same body
        local of = deliveries[rand(80)]
        later[#later + 1] = { event_id = of.event_id, orders = of.orders }
      end
      for i = 1, 5 do later[#later + 1] = { event_id = "bad-" .. i, orders = orders(1), bad_signature = true } end
      local names = { "x-klikit-signature", "x-klikit-event-id", "x-klikit-event-type" }
      for i = 1, 5 do
        later[#later + 1] = { event_id = "missing-" .. i, orders = orders(1), missing_header = names[i % 3 + 1] }
      end
      for _, d in ipairs(deliveries) do kind[d.event_id] = "ok" end
      for _, d in ipairs(later) do
        kind[d.event_id] = d.bad_signature and "bad" or d.missing_header and "missing" or "ok"
      end
      -- the 80 events; then their 10 duplicates and 10 invalid deliveries
      -- klikit delivers "a few requests per second per branch": here 200 a second, so all 80
      -- on_event timers sleep at the same time
      local spec = { target = hooks.url .. "/webhook", secret = SECRET, max_attempts = 2, retry_delay = 0.05,
        spacing = 0.005, deliveries = deliveries }
      sandbox.webhooks(spec)
      wait_delivered(20)
      spec.deliveries = later
      sandbox.webhooks(spec)
      local report = wait_delivered(20)
      local answers, ack = {}, {}
      for _, d in ipairs(report.deliveries) do
        local first = d.attempts[1]
        answers[#answers + 1] = { id = d.event_id, status = first.status, body = first.body, tries = #d.attempts }
        if first.status == 200 then ack[#ack + 1] = first.ms end
      end
      local received, dup, n401, n400 = {}, 0, 0, 0
      for _, a in ipairs(answers) do
        local k = kind[a.id]
        if k == "bad" then
          assert.equal(401, a.status)
          assert.equal(2, a.tries) -- klikit retries a failed delivery
          assert.same({ error = "invalid signature" }, cjson.decode(a.body))
          n401 = n401 + 1
        elseif k == "missing" then
          assert.equal(400, a.status)
          assert.same({ error = "missing klikit headers" }, cjson.decode(a.body))
          n400 = n400 + 1
        else
          assert.equal(200, a.status)
          local body = cjson.decode(a.body)
          if body.status == "received" then
            assert.is_nil(received[a.id], a.id .. " received twice")
            received[a.id] = true
          else
            assert.same({ status = "duplicate-ignored" }, body)
            dup = dup + 1
          end
        end
      end
      local unique = 0
      for _ in pairs(received) do unique = unique + 1 end
      assert.equal(80, unique)
      assert.equal(10, dup)
      assert.equal(5, n401)
      assert.equal(5, n400)
      os.execute("sleep 1.5") -- on_event sleeps 1 s after the ack
      local processed = get(hooks.url .. "/processed")
      local n = 0
      for id, times in pairs(processed) do
        assert.equal("ok", kind[id], id)
        assert.equal(1, times, id .. " processed " .. times .. " times")
        n = n + 1
      end
      assert.equal(80, n)
      table.sort(ack)
      local p99 = ack[math.ceil(#ack * 0.99)]
      print(string.format("\n  webhooks: 100 deliveries, 80 processed once each, ack p50 %d ms, p99 %d ms",
        ack[math.ceil(#ack * 0.5)], p99))
      assert.is_true(p99 < 20, "p99 ack " .. p99 .. " ms")
    end)

  it("reads a body nginx buffered to a temp file, and x_klikit_* headers with a warning", function()
    sandbox.reset()
    get(hooks.url .. "/reset")
    sandbox.webhooks { target = hooks.url .. "/webhook", secret = SECRET, max_attempts = 1, deliveries = {
      { event_id = "big-1", count = 60 }, -- well over client_body_buffer_size (16k)
      { event_id = "underscored-1", underscore_headers = true },
    } }
    local report = wait_delivered(20)
    for _, d in ipairs(report.deliveries) do
      assert.equal(200, d.attempts[1].status, d.event_id)
      assert.same({ status = "received" }, cjson.decode(d.attempts[1].body))
    end
    os.execute("sleep 1.3")
    assert.same({ ["big-1"] = 1, ["underscored-1"] = 1 }, get(hooks.url .. "/processed"))
    local log = hooks.errors()
    assert.truthy(log:find("a client request body is buffered to a temporary file", 1, true))
    local warning = "klikit webhook underscored-1: header x_klikit_signature read as x-klikit-signature"
    assert.truthy(log:find(warning, 1, true), log:sub(-1500))
    assert.is_nil(log:find(SECRET, 1, true))
  end)
end)

describe("examples/openresty: the receiver and GET /today as a user runs them #openresty", function()
  local example
  local SECRET = "whsec_example_n3ver_print"
  local function utc(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end
  setup(function()
    sandbox.start()
    local now = os.time()
    sandbox.regenerate { seed = 11, orders = 400, from = utc(now - 3 * 86400), to = utc(now - 60) }
    example = openresty.start_example { KLIKIT_PARTNER_KEY = sandbox.partner_key,
      KLIKIT_SECRET_KEY = sandbox.secret_key, KLIKIT_BASE_URL = sandbox.base_url, KLIKIT_WEBHOOK_SECRET = SECRET }
  end)
  teardown(function()
    example.stop()
    sandbox.reset { data = true }
  end)

  local function deliver(deliveries)
    sandbox.webhooks { target = example.url .. "/klikit/webhook", secret = SECRET, max_attempts = 1,
      deliveries = deliveries }
    local deadline = os.time() + 20
    repeat
      local report = sandbox.webhook_report()
      if report.pending == 0 then return report.deliveries end
      os.execute("sleep 0.1")
    until os.time() > deadline
    error("deliveries still pending")
  end

  it("acknowledges each delivery as documented, then fetches every new order once with client:order", function()
    local truth = sandbox.truth {}
    local a, b, c = string.format("%d", truth.ids[1]), string.format("%d", truth.ids[2]),
      string.format("%d", truth.ids[3])
    local answers = {}
    deliver { -- first the events, then (at once) their retries and the invalid ones
      { event_id = "ex-1", orders = { a, b } },
      { event_id = "ex-2", type = "klikit.order.status.updated", orders = { c } },
    }
    for _, d in ipairs(deliver {
      { event_id = "ex-1", orders = { a, b } },                 -- klikit's retry, the same id
      { event_id = "ex-3", orders = { c }, bad_signature = true },
      { event_id = "ex-4", orders = { c }, missing_header = "x-klikit-event-id" },
      { event_id = "ex-5", orders = { a, b } }, -- a retry under a new id ("unique per attempt"): same bytes
      { event_id = "ex-6", orders = { c }, underscore_headers = true }, -- nginx drops x_klikit_* here
    }) do answers[#answers + 1] = string.format("%d %s", d.attempts[1].status, tostring(d.attempts[1].body)) end
    assert.same({ '200 {"status":"received"}', '200 {"status":"received"}', '200 {"status":"duplicate-ignored"}',
      '401 {"error":"invalid signature"}', '400 {"error":"missing klikit headers"}',
      '200 {"status":"duplicate-ignored"}', '400 {"error":"missing klikit headers"}' }, answers)
    local log
    for _ = 1, 100 do
      log = example.errors()
      if select(2, log:gsub("klikit example: order %d+ fetched", "")) >= 2 then break end
      os.execute("sleep 0.05")
    end
    for _, id in ipairs { a, b } do
      local _, n = log:gsub("klikit example: order " .. id .. " fetched: status %d+, IDR %d+", "")
      assert.equal(1, n, "order " .. id .. " fetched " .. n .. " times")
    end
    assert.is_nil(log:find("order " .. c .. " fetched", 1, true)) -- not a created.v2 event
    assert.is_nil(log:find(SECRET, 1, true))
    assert.is_nil(log:find(sandbox.secret_key, 1, true))
  end)

  it("GET /today counts the day's orders and sums the revenue of those not cancelled, in the given offset", function()
    local client = sandbox.client { transport = "curl" }
    for _, offset in ipairs { "+00:00", "+07:00", "-05:30" } do
      local sign, h, m = offset:match("^([+-])(%d%d):(%d%d)$")
      local secs = (sign == "-" and -1 or 1) * (tonumber(h) * 3600 + tonumber(m) * 60)
      local now = os.time()
      local from = math.floor((now + secs) / 86400) * 86400 - secs
      local count, minor = 0, 0
      for order in assert(client:orders { from = from, to = from + 86400 }) do
        count = count + 1
        if order.status ~= 3 then minor = minor + order.final_price end
      end
      local today, status = get(example.url .. "/today?utc_offset=" .. offset:gsub("%+", "%%2B"))
      assert.equal(200, status, example.errors():sub(-2000))
      assert.equal(os.date("!%Y-%m-%d", from + secs), today.date)
      assert.equal(count, today.orders)
      assert.equal(minor, today.revenue_minor.IDR or 0)
      assert.is_true(count > 0, "no orders today in " .. offset)
    end
    local bad, status = get(example.url .. "/today?utc_offset=7")
    assert.equal(400, status)
    assert.equal("utc_offset must look like +07:00", bad.error)
  end)
end)
