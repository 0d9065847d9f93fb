-- Orders over real HTTP: walks, filters, count, single order; checked against the
-- sandbox's data regenerated from the same seed.
local sandbox = require "support.sandbox"

local JUNE_FROM, JUNE_TO = "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"

-- Expected orders (newest first) for a created_at window and a predicate.
local function expected(from, to, keep)
  local records, data = sandbox.records()
  local lo, hi = data.parse_time(from), data.parse_time(to)
  local ids = {}
  for _, r in ipairs(records) do
    if r.created >= lo and r.created < hi and (not keep or keep(r)) then ids[#ids + 1] = r.id end
  end
  return ids
end

local function walk_ids(iter)
  local ids = {}
  for order in iter do ids[#ids + 1] = order.id end
  return ids
end

local function query_of(req)
  local q = {}
  for k, v in req.query:gmatch("([^&=]+)=([^&]*)") do q[k] = v end
  return q
end

local lua_assert = _G.assert
describe("client:orders", function()
  before_each(function() sandbox.reset() end)

  it("walks every page of a month, newest first, each order once", function()
    local client = sandbox.client()
    local want = expected(JUNE_FROM, JUNE_TO)
    assert.is_true(#want > 50)
    local got = walk_ids(client:orders { from = JUNE_FROM, to = JUNE_TO, size = 10 })
    assert.same(want, got)
    local pages = sandbox.requests()
    -- each request after the first re-reads the boundary second, so a page brings >= 9 new
    assert.is_true(#pages >= math.ceil(#want / 10) and #pages <= math.ceil(#want / 9) + 1, #pages)
    local previous_to
    for i, req in ipairs(pages) do
      local q = query_of(req)
      assert.equal("/orders", req.path)
      assert.equal("1", q.page)
      assert.equal("10", q.size)
      assert.equal("2026-06-01T00%3A00%3A00Z", q.from)
      if i == 1 then assert.equal("2026-07-01T00%3A00%3A00Z", q.to) end
      assert.is_true(previous_to == nil or q.to < previous_to) -- the cursor only moves back
      previous_to = q.to
    end
  end)

  it("yields full order objects shaped like klikit's", function()
    local client = sandbox.client()
    local order = client:orders { from = JUNE_FROM, to = JUNE_TO, size = 1 }:next()
    assert.is_true(math.type == nil and order.id == math.floor(order.id) or math.type(order.id) == "integer")
    assert.equal(398, order.business_id)
    assert.is_string(order.created_at)
    assert.equal("IDR", order.currency)
    local price = order.final_price
    assert.is_true(math.type == nil and price == math.floor(price) or math.type(price) == "integer")
    assert.is_table(order.cart_v2)
    assert.is_string(order.cart_v2[1].id) -- a string id, as in the captured payload
    assert.truthy(order.cart_v2[1].price:match("^%d+%.%d%d$"))
    assert.is_table(order.order_status_histories)
  end)

  it("applies the status, provider_id and branch_id filters", function()
    local client = sandbox.client()
    local cases = {
      { { status = 3 }, function(r) return r.status == 3 end },
      { { provider_id = 9 }, function(r) return r.provider_id == 9 end },
      { { branch_id = 5913, provider_id = 6 }, function(r) return r.branch.id == 5913 and r.provider_id == 6 end },
    }
    for _, c in ipairs(cases) do
      local params = { from = JUNE_FROM, to = JUNE_TO, size = 100 }
      for k, v in pairs(c[1]) do params[k] = v end
      local want = expected(JUNE_FROM, JUNE_TO, c[2])
      assert.is_true(#want > 0)
      assert.same(want, walk_ids(client:orders(params)))
    end
  end)

  it("treats from as inclusive and to as exclusive; takes Unix seconds too", function()
    local records, data = sandbox.records()
    local r = records[100]
    local at = data.format_time(r.created)
    local client = sandbox.client()
    local got = walk_ids(client:orders { from = at, to = r.created + 1 })
    assert.same({ r.id }, got)
    assert.same({}, walk_ids(client:orders { from = r.created - 3600, to = at }))
  end)

  it("walks everything when no window is given, with flat memory", function()
    local client = sandbox.client()
    local pager = client:orders { size = 25 }
    local all, _ = sandbox.records()
    collectgarbage("collect")
    local base = collectgarbage("count")
    local peak, n = 0, 0
    for order in pager do
      n = n + 1
      assert.equal(all[n].id, order.id)
      if n % 25 == 0 then
        collectgarbage("collect")
        peak = math.max(peak, collectgarbage("count") - base)
      end
    end
    assert.equal(#all, n)
    assert.is_true(pager.pages <= math.ceil(#all / 24) + 1)
    -- one page of 25 orders is ~200 KiB of Lua tables; 48 pages held at once would be ~10 MiB
    assert.is_true(peak < 2048, "memory grew by " .. peak .. " KiB")
  end)

  it("supports pager:next() and pager:all()", function()
    local client = sandbox.client()
    local pager = client:orders { from = JUNE_FROM, to = JUNE_TO, size = 40 }
    local first = pager:next()
    assert.equal(expected(JUNE_FROM, JUNE_TO)[1], first.id)
    local rest = pager:all()
    assert.equal(#expected(JUNE_FROM, JUNE_TO) - 1, #rest)
    assert.is_nil(pager:next())
  end)

  it("rejects bad parameters with request_invalid before sending", function()
    local client = sandbox.client()
    for _, params in ipairs {
      { size = 0 }, { size = 101 }, { size = 2.5 }, { page = 2 }, { from = "yesterday" },
      { from = "2026-02-30T00:00:00Z" }, { to = "2026-06-01" }, { from = JUNE_TO, to = JUNE_FROM },
      { provider_id = -1 }, { branch_id = "5913" }, { status = true }, { form = JUNE_FROM }, { from = 0 / 0 },
    } do
      local pager, err, meta = client:orders(params)
      assert.is_nil(pager)
      assert.equal("request_invalid", err.code)
      assert.same({}, meta)
      -- Lua's own assert raises the error object itself (busted's assert is luassert)
      -- (Lua 5.1's own assert takes only a string message: there, error(err) is the idiom)
      if _VERSION ~= "Lua 5.1" or rawget(_G, "jit") then
        local ok, raised = pcall(function() for _ in lua_assert(client:orders(params)) do end end)
        assert.is_false(ok)
        assert.equal("request_invalid", raised.code)
        assert.truthy(tostring(raised):find("request_invalid", 1, true))
      end
    end
    assert.equal(0, #sandbox.requests())
  end)

  it("ends cleanly on an empty page even if total says more, and on orders = null", function()
    local client = sandbox.client()
    sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
      body = '{"request_id":"r1","data":{"orders":[],"page":1,"size":10,"total":500}}' } }, "/orders")
    assert.same({}, walk_ids(client:orders { size = 10 }))
    sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
      body = '{"request_id":"r2","data":{"orders":null,"page":1,"size":10,"total":0}}' } }, "/orders")
    assert.same({}, walk_ids(client:orders { size = 10 }))
  end)
end)

describe("client:count_orders", function()
  before_each(function() sandbox.reset() end)

  it("calls /orders/count, and on data = {} counts with /orders?size=1", function()
    local client = sandbox.client()
    local n, err = client:count_orders { from = JUNE_FROM, to = JUNE_TO, provider_id = 9 }
    assert.is_nil(err)
    assert.equal(#expected(JUNE_FROM, JUNE_TO, function(r) return r.provider_id == 9 end), n)
    local seen = sandbox.requests()
    assert.equal(2, #seen)
    assert.equal("/orders/count", seen[1].path)
    assert.equal("/orders", seen[2].path)
    local q = query_of(seen[2])
    assert.equal("1", q.size)
    assert.equal("1", q.page)
    assert.equal("9", q.provider_id)
  end)

  it("uses a number when the count endpoint ever returns one", function()
    local client = sandbox.client()
    sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
      body = '{"request_id":"r","data":{"count":7}}' } }, "/orders/count")
    assert.equal(7, client:count_orders { from = JUNE_FROM, to = JUNE_TO })
    sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
      body = '{"request_id":"r","data":12}' } }, "/orders/count")
    assert.equal(12, client:count_orders {})
    assert.equal(2, #sandbox.requests())
  end)

  it("sums 90-day windows for a longer range", function()
    local client = sandbox.client()
    local from, to = "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z" -- 151 days
    local n, err = client:count_orders { from = from, to = to }
    assert.is_nil(err)
    assert.equal(#expected(from, to), n)
    local windows = 0
    for _, req in ipairs(sandbox.requests()) do
      if req.path == "/orders" then windows = windows + 1 end
    end
    assert.equal(2, windows)
  end)

  it("passes the server's request_invalid_range through", function()
    sandbox.faults({ { kind = "error", status = 400, code = "request_invalid_range",
      message = "date range exceeds the 90-day maximum" } }, "/orders/count")
    local n, err = sandbox.client():count_orders { from = JUNE_FROM, to = JUNE_TO }
    assert.is_nil(n)
    assert.equal("request_invalid_range", err.code)
    assert.equal(400, err.status)
    assert.truthy(err.request_id)
  end)

  it("rejects parameters that only make sense for walks", function()
    local n, err = sandbox.client():count_orders { size = 5 }
    assert.is_nil(n)
    assert.equal("request_invalid", err.code)
  end)
end)

describe("client:order", function()
  before_each(function() sandbox.reset() end)

  it("fetches one order by integer or string id", function()
    local client = sandbox.client()
    local records = sandbox.records()
    local r = records[7]
    local order = assert(client:order(r.id))
    assert.equal(r.id, order.id)
    assert.equal(r.branch.id, order.branch_id)
    assert.equal(r.id, client:order(tostring(r.id)).id)
    assert.equal("/orders/" .. r.id, sandbox.requests()[1].path)
  end)

  it("returns resource_not_found with a request_id for an unknown order", function()
    local order, err = sandbox.client():order(1)
    assert.is_nil(order)
    assert.equal("resource_not_found", err.code)
    assert.equal(404, err.status)
    assert.is_false(err.retryable)
    assert.truthy(err.request_id:match("^%x+$"))
    assert.equal("GET", err.method)
  end)

  it("refuses ids that are not positive integers or safe strings", function()
    local client = sandbox.client()
    for _, id in ipairs { 0, -5, 1.5, "", "../brands", "a b", "x?y", string.rep("9", 200), {}, true } do
      local order, err = client:order(id)
      assert.is_nil(order)
      assert.equal("request_invalid", err.code)
    end
    assert.equal(0, #sandbox.requests())
  end)
end)
