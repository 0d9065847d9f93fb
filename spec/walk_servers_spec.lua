-- The orders walk against servers that behave as klikit's docs allow but hostile to a time
-- cursor (issue 9). Each behaviour is a sandbox quirk; each walk is compared with what the
-- sandbox holds. Runs under every Lua the Makefile knows (make test-every-lua).
local sandbox = require "support.sandbox"
local walk = require "support.walk"

local DAY = 86400
local FROM, TO = "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"

-- 300 orders over two days, a third of them sharing their second with another, plus a
-- burst of 310 orders in one second.
local function dataset(extra)
  local s = { seed = 7, orders = 300, from = FROM, to = TO, same_second = 30, open = 60,
    bursts = { { at = 40000, count = 310 } } }
  for k, v in pairs(extra or {}) do s[k] = v end
  return sandbox.regenerate(s)
end

local function requests() return sandbox.stats().requests end

-- Walks `params` and asserts every order of the truth exactly once.
local function check(client, params, touched_ok)
  local want = walk.truth(params)
  local got, err = walk.run(client, params)
  assert.is_nil(err, err and tostring(err))
  local touched = touched_ok and sandbox.churned().touched or nil
  local bad = walk.exactly_once(got, want, touched)
  assert.is_nil(bad, bad)
  return got, want
end

describe("walks against servers the docs allow", function()
  local client
  before_each(function()
    client = sandbox.client { retry = { max_attempts = 1 } }
  end)
  after_each(function() sandbox.reset { data = true } end)

  describe("same-second orders in an unstable order", function()
    it("random tie order per request, 310 orders in one second, pages of 100", function()
      dataset()
      sandbox.quirks { ties = "random" }
      local got = check(client, { from = FROM, to = TO, size = 100 })
      assert.is_true(#got >= 610)
    end)

    it("ties ordered by updated_at while orders change status under a status filter", function()
      -- the newest second holds 80 open orders; every request moves one of them
      dataset { bursts = { { at = 2 * DAY - 1, count = 80 } }, open = 80 }
      sandbox.quirks { ties = "updated" }
      sandbox.churn { status = 1, seed = 3, from = "2026-01-02T23:59:59Z", to = TO }
      for _, status in ipairs { 1, 2, 4 } do
        check(client, { from = FROM, to = TO, size = 7, status = status }, true)
      end
      assert.is_true(sandbox.churned().changed >= 3)
    end)

    it("pages of 1 over seconds holding several orders", function()
      dataset { bursts = {} }
      sandbox.quirks { ties = "random" }
      check(client, { from = "2026-01-01T10:00:00Z", to = "2026-01-01T16:00:00Z", size = 1 })
    end)
  end)

  describe("created_at that cannot be read, or is printed rounded", function()
    it("a fifth of the rows without created_at (absent, null, empty, garbage)", function()
      dataset()
      sandbox.quirks { missing = 0.2 }
      check(client, { from = FROM, to = TO, size = 25 })
    end)

    it("timestamps without a zone (not RFC 3339: their instant is unknown), on some rows or all", function()
      dataset()
      sandbox.quirks { time_format = "some_nozone" }
      check(client, { from = FROM, to = TO, size = 10 })
      sandbox.quirks { time_format = "nozone" }
      check(client, { from = FROM, to = TO, size = 50 })
    end)

    for _, rounding in ipairs { "round", "ceil", "floor" } do
      it("millisecond creation times printed to the second (" .. rounding .. ")", function()
        dataset { ms = true }
        sandbox.quirks { rounding = rounding, ties = "random" }
        check(client, { from = FROM, to = TO, size = 9 })
      end)
    end

    it("offsets, fractions and Z mixed from row to row", function()
      dataset { ms = true }
      sandbox.quirks { time_format = "mixed" }
      check(client, { from = FROM, to = TO, size = 13 })
    end)
  end)

  describe("pages that say less or more than they hold", function()
    it("a total that lags the rows by two", function()
      dataset()
      sandbox.quirks { total = "lag" }
      check(client, { from = FROM, to = TO, size = 50 })
      check(client, { from = FROM, to = TO, size = 7 })
    end)

    it("a total below the rows while ties shuffle: walk_incomplete, never a silent loss", function()
      -- the rows seen disprove the total, and a shuffled list has no other proof of its end
      sandbox.regenerate { seed = 2078, orders = 114, from = "2026-01-01T00:00:00Z", to = "2026-01-01T01:00:00Z",
        open = 90, bursts = { { at = 1497, count = 108 } } }
      sandbox.quirks { total = "lag", ties = "random", past_end = "last_page", missing = 0.05 }
      local params = { from = "2026-01-01T00:00:00Z", to = "2026-01-01T01:00:00Z", size = 10 }
      local got, err = walk.run(client, params)
      if err then
        assert.equal("walk_incomplete", err.code)
        assert.truthy(err.message:find("below the", 1, true), err.message)
      else
        assert.is_nil(walk.exactly_once(got, walk.truth(params)))
      end
    end)

    it("a total 2 too high, and no total at all", function()
      dataset()
      sandbox.quirks { total = "inflate" }
      check(client, { from = FROM, to = TO, size = 50 })
      sandbox.quirks { total = "absent", ties = "random" }
      check(client, { from = FROM, to = TO, size = 50 })
    end)

    it("a server that serves fewer rows than asked and says so in data.size", function()
      dataset()
      sandbox.quirks { max_size = 17 }
      check(client, { from = FROM, to = TO, size = 100 })
    end)

    it("a server that serves fewer rows than asked and echoes the size asked for", function()
      dataset()
      sandbox.quirks { max_size = 17, echo_size = false }
      check(client, { from = FROM, to = TO, size = 100 })
    end)
  end)

  describe("servers that never run out of pages", function()
    it("past-the-end pages repeat the last page, without a total: the walk ends", function()
      dataset()
      sandbox.quirks { past_end = "last_page", total = "absent", ties = "random" }
      local before = requests()
      check(client, { from = FROM, to = TO, size = 100 })
      assert.is_true(requests() - before < 200, "too many requests")
    end)

    it("a cache that answers the same page whatever the query: a named error, quickly", function()
      dataset()
      sandbox.quirks { ignore_query = true }
      local before = requests()
      local _, err = walk.run(client, { from = FROM, to = TO, size = 100 })
      assert.is_table(err)
      assert.truthy(err.code == "walk_out_of_range" or err.code == "walk_incomplete", err.code)
      assert.is_false(err.retryable)
      assert.is_true(requests() - before <= 60, "requests: " .. (requests() - before))
    end)

    it("branches: past-the-end repeats without a total end the walk with every branch once", function()
      local before = requests()
      sandbox.quirks { past_end = "last_page", total = "absent" }
      local ids = {}
      for b in client:branches { size = 2 } do ids[#ids + 1] = b.id end
      assert.equal(4, #ids)
      sandbox.quirks { past_end = "last_page" }
      ids = {}
      for b in client:branches { size = 2 } do ids[#ids + 1] = b.id end
      assert.equal(4, #ids)
      assert.is_true(requests() - before < 20)
    end)

    it("branches: a server that clamps the size without saying so", function()
      sandbox.quirks { max_size = 1, echo_size = false }
      local ids = {}
      for b in client:branches { size = 3 } do ids[#ids + 1] = b.id end
      assert.equal(4, #ids)
    end)
  end)

  describe("what an independent hostile server found (spec/walk_servers_spec.lua keeps them)", function()
    -- Either every order that stayed put exactly once, or a named walk error: never a
    -- walk that ends "complete" after losing or repeating one.
    local function honest(params, touched)
      local want = walk.truth(params)
      local got, err = walk.run(client, params)
      if err then
        assert.truthy(err.code:find("^walk_"), tostring(err))
        return "error"
      end
      local bad = walk.exactly_once(got, want, touched and sandbox.churned().touched or nil)
      assert.is_nil(bad, bad)
      return "complete"
    end

    it("times printed rounded up or with fractions, row by row, over ties in one millisecond", function()
      for seed = 1, 6 do
        dataset { seed = seed, ms = true, same_second = 60, bursts = {} }
        sandbox.quirks { time_format = "mixed", rounding = "ceil", ties = "random" }
        check(client, { from = FROM, to = TO, size = 2 })
      end
    end)

    it("orders deleted during the walk of a busy second whose ties shuffle", function()
      for seed = 1, 4 do
        dataset { seed = seed, bursts = { { at = 40000, count = 150 } } }
        sandbox.quirks { ties = "random" }
        sandbox.churn { delete = 1, seed = seed, from = "2026-01-01T11:06:40Z", to = "2026-01-01T11:06:41Z" }
        honest({ from = FROM, to = TO, size = 10 }, true)
      end
    end)

    it("a server that answers every page number with page 1, without a total", function()
      dataset { bursts = { { at = 40000, count = 250 } } }
      sandbox.quirks { ignore_page = true, total = "absent" }
      assert.equal("error", honest { from = FROM, to = TO, size = 10 })
    end)

    it("an id sent as a number on one page and as a string on the next", function()
      dataset()
      sandbox.quirks { id_format = "flap", ties = "random" }
      check(client, { from = FROM, to = TO, size = 5 })
    end)

    it("no readable time while orders keep arriving: a named error in bounded requests", function()
      dataset { bursts = {} }
      sandbox.quirks { missing = 1, max_size = 5 }
      sandbox.churn { arrive = 1, mode = "inside", seed = 2, from = FROM, to = TO }
      local before = requests()
      local _, err = walk.run(client, { from = FROM, to = TO, size = 10 })
      assert.equal("walk_incomplete", err and err.code)
      assert.is_true(requests() - before < 1500, "requests: " .. (requests() - before))
    end)
  end)

  it("a server that lists oldest first fails the walk with walk_unsorted", function()
    dataset()
    sandbox.quirks { order = "asc" }
    local got, err = walk.run(client, { from = FROM, to = TO, size = 50 })
    assert.equal("walk_unsorted", err and err.code)
    assert.equal(0, #got)
    assert.truthy(tostring(err):find("newest first", 1, true))
  end)

  describe("where the rows are", function()
    it("rows under data.results and under data itself", function()
      dataset()
      sandbox.quirks { list_key = "results" }
      check(client, { from = FROM, to = TO, size = 60 })
      sandbox.quirks { list_key = "bare" }
      check(client, { from = FROM, to = TO, size = 60 })
    end)

    it("a list under a key it does not know is unexpected_shape, never an empty walk", function()
      sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
        body = '{"request_id":"r1","data":{"items":[{"id":1}],"total":150,"page":1,"size":100}}' } }, "/orders")
      local got, err = walk.run(client, { from = FROM, to = TO })
      assert.equal(0, #got)
      assert.equal("unexpected_shape", err and err.code)
      assert.is_false(err.retryable)
      assert.equal("r1", err.request_id)
    end)

    it("a row without an id is unexpected_shape", function()
      sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
        body = '{"request_id":"r2","data":{"orders":[{"created_at":"2026-01-02T00:00:00Z"}],"total":1}}' } },
        "/orders")
      local _, err = walk.run(client, { from = FROM, to = TO })
      assert.equal("unexpected_shape", err and err.code)
    end)
  end)

  describe("fractional bounds", function()
    it("are sent as given, and the walk and the count hold exactly the orders in range", function()
      dataset { ms = true, bursts = {} }
      sandbox.quirks { time_format = "fraction" }
      local truth = sandbox.truth { from = FROM, to = TO }
      -- bounds in the middle of two orders' seconds, just after each
      local lo, hi = truth.created[200] + 0.0005, truth.created[20] + 0.0005
      local params = { from = lo, to = hi, size = 30 }
      local got, want = check(client, params)
      assert.equal(#want, #got)
      assert.equal(#want, client:count_orders { from = lo, to = hi })
      local q = sandbox.requests()[1].query
      assert.truthy(q:find("%.0?%d*5Z") or q:find("%.%d+Z"), q)
      -- RFC 3339 strings keep every digit given
      local from_s = require("klikit.util").format_time(lo)
      check(client, { from = from_s, to = "2026-01-02T23:59:59.999Z", size = 50 })
    end)
  end)

  describe("an empty window", function()
    for _, mode in ipairs { "object", "204" } do
      it("answered with " .. (mode == "204" and "a 204 and no body" or "data: {}") .. " is an empty page", function()
        dataset()
        sandbox.quirks { empty = mode }
        local got, err = walk.run(client, { from = "2025-01-01T00:00:00Z", to = "2025-06-01T00:00:00Z" })
        assert.is_nil(err, err and tostring(err))
        assert.equal(0, #got)
        -- and a window after a non-empty one
        check(client, { from = "2025-12-01T00:00:00Z", to = TO, size = 100 })
        assert.equal(0, client:count_orders { from = "2025-01-01T00:00:00Z", to = "2025-06-01T00:00:00Z" })
      end)
    end
  end)

  it("a 12-month walk in the common case needs at most 10% more requests than ceil(n / size)", function()
    sandbox.reset { data = true }
    local before = requests()
    local got = check(client, { size = 100 })
    local used = requests() - before
    assert.is_true(used <= math.ceil(#got / 100) * 1.1, used .. " requests for " .. #got)
    assert.is_true(DAY > 0)
  end)
end)
