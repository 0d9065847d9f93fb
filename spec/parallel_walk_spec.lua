-- client:orders{ ..., concurrency = K }: the same exactly-once walk over K time slices at
-- once, newest first overall. (make test also runs the walk specs with WALK_CONCURRENCY=2
-- and 8, so every hostile server mode of spec/walk_servers_spec.lua and the model-based
-- spec run against parallel walks too.)
local sandbox = require "support.sandbox"
local walk = require "support.walk"
local cjson = require "cjson"
local core = require "klikit.core"

local YEAR = { from = "2025-11-01T00:00:00Z", to = "2026-11-01T00:00:00Z" }

local function with(params, extra)
  local p = {}
  for k, v in pairs(params) do p[k] = v end
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

describe("parallel walks (concurrency = K)", function()
  after_each(function()
    sandbox.chaos { rate = 0 }
    sandbox.reset { data = true }
  end)

  it("yield every order once, newest first, as the sequential walk does", function()
    sandbox.reset { data = true }
    local want = walk.truth(YEAR)
    local _, _, sequential = walk.run(sandbox.client(), with(YEAR, { size = 50 }))
    for _, k in ipairs { 2, 8, 16 } do
      local got, err, pager = walk.run(sandbox.client(), with(YEAR, { concurrency = k, size = 50 }))
      assert.is_nil(err)
      assert.same(want, got)
      -- small ranges cost a few requests more (each part's last page is short)
      assert.is_true(pager.pages <= sequential.pages * 1.25, k .. ": " .. pager.pages .. " requests, sequential "
        .. sequential.pages)
    end
  end)

  it("K=8 overlaps the requests: at 100 ms a request the walk takes a fraction of the time #timing", function()
    sandbox.reset { data = true }
    sandbox.control_latency(0.1)
    local t0 = core.monotonic()
    local one, _, p1 = walk.run(sandbox.client(), with(YEAR, { size = 50 }))
    local t1 = core.monotonic()
    local eight, _, p8 = walk.run(sandbox.client(), with(YEAR, { size = 50, concurrency = 8 }))
    local t2 = core.monotonic()
    sandbox.control_latency(0)
    assert.same(one, eight)
    print(string.format("\n  parallel walk, 100 ms a request: sequential %.2f s (%d requests), K=8 %.2f s (%d): %.2fx",
      t1 - t0, p1.pages, t2 - t1, p8.pages, (t2 - t1) / (t1 - t0)))
    assert.is_true(t2 - t1 < 0.4 * (t1 - t0))
  end)

  for _, k in ipairs { 2, 8 } do
    it("K=" .. k .. ": exactly once while orders arrive, change and vanish, under chaos, with retries", function()
      sandbox.reset { data = true }
      local want = walk.truth(YEAR)
      sandbox.churn { arrive = 1, mode = "inside", status = 1, delete = 1, seed = 7 + k, limit = 60,
        from = YEAR.from, to = YEAR.to }
      sandbox.chaos { rate = 0.15, kinds = { "429", "502", "503html", "reset", "truncate" }, seed = k }
      local client = sandbox.client { retry = { max_attempts = 10, base_delay = 0.005, max_delay = 0.02 } }
      local got, err = walk.run(client, with(YEAR, { concurrency = k }))
      sandbox.chaos { rate = 0 }
      assert.is_nil(err, tostring(err))
      local bad = walk.exactly_once(got, want, sandbox.churned().touched)
      assert.is_nil(bad, bad)
    end)
  end

  it("a failed slice fails the walk with its error; pager:resume() goes on without repeats", function()
    sandbox.reset { data = true }
    local want = walk.truth(YEAR)
    sandbox.chaos { rate = 0.2, kinds = { "502" }, seed = 11 }
    local pager = assert(sandbox.client():orders(with(YEAR, { concurrency = 8 }))) -- one attempt a call
    local got, failures = {}, 0
    while true do
      local order, err = pager:next()
      if err then
        assert.equal(502, err.status, tostring(err))
        failures = failures + 1
        assert.is_true(failures < 200)
        pager:resume()
      elseif not order then
        break
      else
        got[#got + 1] = order.id
      end
    end
    sandbox.chaos { rate = 0 }
    assert.is_true(failures > 0)
    assert.same(want, got)
  end)

  it("killed mid-way, resumes from pager:state() (as JSON) with or without concurrency", function()
    sandbox.reset { data = true }
    local want = walk.truth(YEAR)
    for _, case in ipairs { { stop = 1, k = 8 }, { stop = 333, k = 8 }, { stop = 640 }, { stop = 1190, k = 4 } } do
      local pager = assert(sandbox.client():orders(with(YEAR, { concurrency = 8, size = 40 })))
      local got = {}
      for _ = 1, case.stop do got[#got + 1] = assert(pager:next()).id end
      local state = cjson.decode(cjson.encode(pager:state()))
      pager = nil -- luacheck: ignore 311 (the first walk is abandoned, as a killed process's)
      collectgarbage()
      for order in assert(sandbox.client():orders { resume = state, concurrency = case.k }) do
        got[#got + 1] = order.id
      end
      assert.same(want, got, "stopped after " .. case.stop)
    end
  end)

  it("never sends faster than rate_limit, K=16", function()
    sandbox.reset { data = true }
    local now, sent = 1000, {}
    local inner = require("klikit.transport.curl").new {}
    local counting = { request = function(_, req)
      sent[#sent + 1] = now
      return inner:request(req)
    end }
    local client = sandbox.client { transport = counting, rate_limit = 120, clock = function() return now end,
      sleep = function(s) now = now + s end }
    local got, err = walk.run(client, with(YEAR, { concurrency = 16, size = 25 }))
    assert.is_nil(err)
    assert.equal(#walk.truth(YEAR), #got)
    -- a token bucket of 2 a second holding 20: any span of t seconds has at most 20 + 2t requests
    for i = 1, #sent do
      for j = i, #sent do
        assert.is_true(j - i + 1 <= 20 + 2 * (sent[j] - sent[i]) + 1e-9,
          string.format("%d requests in %.2f s", j - i + 1, sent[j] - sent[i]))
      end
    end
    assert.is_true(#sent > 40)
  end)

  it("never sends faster than rate_limit with 16 slices really in flight (libcurl multi, real clock)", function()
    sandbox.reset { data = true }
    local sent = {}
    local client = sandbox.client { rate_limit = 600, -- 10 a second, bursts of 100
      on_request = function() sent[#sent + 1] = core.monotonic() end }
    local got, err = walk.run(client, with(YEAR, { concurrency = 16, size = 8 }))
    assert.is_nil(err)
    assert.equal(#walk.truth(YEAR), #got)
    assert.is_true(#sent > 150, #sent .. " requests")
    -- on_request fires when an answer is in: a request sent at s answered by s + 0.5
    for i = 1, #sent do
      for j = i, #sent do
        assert.is_true(j - i + 1 <= 100 + 10 * (sent[j] - sent[i] + 0.5) + 1,
          string.format("%d requests in %.2f s", j - i + 1, sent[j] - sent[i]))
      end
    end
  end)

  it("a total that lies wildly neither loses orders nor makes the walk cut its range without end", function()
    -- (it does cost requests: every part's end is found only by an empty page; see the issue note)
    sandbox.reset { data = true }
    local want = walk.truth(YEAR)
    sandbox.quirks { total = "huge" }
    local _, serr, sequential = walk.run(sandbox.client(), with(YEAR, { size = 50 }))
    assert.is_nil(serr)
    for _, k in ipairs { 2, 8 } do
      local got, err, pager = walk.run(sandbox.client(), with(YEAR, { size = 50, concurrency = k }))
      assert.is_nil(err)
      assert.same(want, got)
      assert.is_true(#pager.walk.slices <= 2 * k + 4 * math.ceil(#want / 50), #pager.walk.slices .. " slices")
      print(string.format("\n  total a million too high, K=%d: %d slices, %d requests (sequential %d)", k,
        #pager.walk.slices, pager.pages, sequential.pages))
    end
    sandbox.quirks {}
  end)

  it("count_orders counts the 90-day windows of a long range K at a time", function()
    sandbox.reset { data = true }
    local want = #walk.truth(YEAR)
    for _, k in ipairs { 1, 4, 8 } do
      local n, err, meta = sandbox.client():count_orders(with(YEAR, { concurrency = k }))
      assert.is_nil(err)
      assert.equal(want, n)
      assert.equal(5, meta.windows)
    end
    local _, err = sandbox.client():count_orders(with(YEAR, { concurrency = 0 }))
    assert.equal("request_invalid", err.code)
  end)

  it("branches fetch the pages after the first K at a time, with the same proof of completeness", function()
    sandbox.reset { data = true }
    local function ids(params)
      local out = {}
      for b in assert(sandbox.client():branches(params)) do out[#out + 1] = b.id end
      return out
    end
    local want = ids { size = 1 }
    assert.equal(4, #want)
    local modes = { {}, { past_end = "last_page" }, { total = "lag" }, { max_size = 1, echo_size = false } }
    for _, quirks in ipairs(modes) do
      sandbox.quirks(quirks)
      for _, k in ipairs { 2, 4 } do
        assert.same(want, ids { size = 1, concurrency = k })
        assert.same(want, ids { size = 3, concurrency = k })
      end
    end
    sandbox.quirks {}
    local pager = assert(sandbox.client():branches { size = 1, concurrency = 4 })
    assert(pager:all())
    local sequential = assert(sandbox.client():branches { size = 1 })
    assert(sequential:all())
    assert.is_true(pager.pages <= sequential.pages + 1, pager.pages .. " vs " .. sequential.pages)
  end)

  it("refuses a concurrency that is not an integer from 1 to 32, before sending anything", function()
    local client = sandbox.client()
    for _, bad in ipairs { 0, 33, 2.5, "8", true } do
      local pager, err = client:orders(with(YEAR, { concurrency = bad }))
      assert.is_nil(pager)
      assert.equal("request_invalid", err.code)
      assert.truthy(err.message:find("concurrency", 1, true))
    end
    local _, err = client:orders { resume = {}, concurrency = 0 }
    assert.equal("request_invalid", err.code)
  end)
end)
