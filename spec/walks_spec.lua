-- Walks over long ranges (90-day windows) and walks while new orders arrive.
local sandbox = require "support.sandbox"
local orders_mod = require "klikit.http.time_cursor"

local DAY = 86400

local function parse(t) return require("klikit.util").parse_time(t) end

local function query_of(req)
  local q = {}
  for k, v in req.query:gmatch("([^&=]+)=([^&]*)") do q[k] = v:gsub("%%3A", ":") end
  return q
end

describe("windows", function()
  it("splits a range into windows of at most 90 days, newest first, covering it exactly", function()
    local from, to = parse("2025-11-01T00:00:00Z"), parse("2026-11-01T00:00:00Z")
    local w = orders_mod.windows(from, to)
    assert.equal(5, #w)
    assert.equal(to, w[1].to)
    assert.equal(from, w[#w].from)
    for i, x in ipairs(w) do
      assert.is_true(x.to - x.from <= 90 * DAY and x.to > x.from)
      if i > 1 then assert.equal(w[i - 1].from, x.to) end
    end
    assert.same({ { from = from, to = from + 90 * DAY } }, orders_mod.windows(from, from + 90 * DAY))
    assert.same({ { from = 10, to = 1000 } }, orders_mod.windows(10, nil, 1000))
    assert.same({ { to = 50 } }, orders_mod.windows(nil, 50))
  end)
end)

describe("walking a long range", function()
  before_each(function() sandbox.reset { data = true } end)

  it("walks 12 months (5 windows) and yields every order exactly once, newest first", function()
    local records = sandbox.records()
    local client = sandbox.client()
    local from, to = "2025-11-01T00:00:00Z", "2026-11-01T00:00:00Z"
    local got, seen = {}, {}
    for order in client:orders { from = from, to = to } do
      assert.is_nil(seen[order.id], "duplicate " .. tostring(order.id))
      seen[order.id] = true
      got[#got + 1] = order.id
    end
    local want = {}
    for i, r in ipairs(records) do want[i] = r.id end
    assert.same(want, got)
    assert.equal(#want, client:count_orders { from = from, to = to })
    -- no request ever asked for more than 90 days
    local spans = 0
    for _, req in ipairs(sandbox.requests()) do
      local q = query_of(req)
      if q.from and q.to then
        spans = spans + 1
        assert.is_true(parse(q.to) - parse(q.from) <= 90 * DAY, req.query)
      end
    end
    assert.is_true(spans > 5)
  end)

  it("with from and no to, walks up to now (fixed when the walk starts)", function()
    local records = sandbox.records()
    local client = sandbox.client()
    local started = os.time()
    local from = parse("2026-06-01T00:00:00Z") -- more than 90 days before now: several windows
    local want = {}
    for _, r in ipairs(records) do if r.created >= from then want[#want + 1] = r.id end end
    local got = {}
    for order in client:orders { from = from } do got[#got + 1] = order.id end
    assert.same(want, got)
    local first = query_of(sandbox.requests()[1])
    assert.is_true(math.abs(parse(first.to) - started) <= 2)
    assert.equal(90 * DAY, parse(first.to) - parse(first.from)) -- the newest window first
  end)

  it("accepts Unix seconds for from and to", function()
    local records = sandbox.records()
    local client = sandbox.client()
    local from, to = records[300].created, records[100].created
    local got = {}
    for order in client:orders { from = from, to = to } do got[#got + 1] = order.id end
    local want = {}
    for i = 101, 300 do want[#want + 1] = records[i].id end
    assert.same(want, got)
  end)
end)

describe("walking while orders arrive", function()
  before_each(function() sandbox.reset { data = true } end)
  after_each(function() sandbox.arrivals(0) end)

  local function check_walk(iter, originals)
    local seen, original_seen = {}, 0
    for order in iter do
      assert.is_nil(seen[order.id], "order " .. tostring(order.id) .. " yielded twice")
      seen[order.id] = true
      if originals[order.id] then original_seen = original_seen + 1 end
    end
    local missing = {}
    for id in pairs(originals) do if not seen[id] then missing[#missing + 1] = id end end
    assert.same({}, missing)
    return original_seen
  end

  it("page-number paging would repeat orders (the switch really shifts pages)", function()
    local client = sandbox.client()
    sandbox.arrivals(3, "top")
    local seen, dups = {}, 0
    for page = 1, 5 do
      local data = assert(client:request("GET", "/orders", { query = { page = page, size = 20 } }))
      for _, o in ipairs(data.orders) do
        if seen[o.id] then dups = dups + 1 end
        seen[o.id] = true
      end
    end
    assert.is_true(dups >= 9, "expected repeats, got " .. dups)
  end)

  it("yields every order that existed exactly once while new ones arrive on top", function()
    local records = sandbox.records()
    local originals = {}
    for _, r in ipairs(records) do originals[r.id] = true end
    sandbox.arrivals(3, "top")
    local client = sandbox.client()
    assert.equal(#records, check_walk(client:orders { size = 50 }, originals))
    assert.is_true(sandbox.stats().arrived >= 3 * 24)
  end)

  it("and while late orders land inside the window being walked", function()
    local records, data = sandbox.records()
    local from, to = "2026-03-01T00:00:00Z", "2026-07-01T00:00:00Z" -- two windows
    local lo, hi = data.parse_time(from), data.parse_time(to)
    local originals, n = {}, 0
    for _, r in ipairs(records) do
      if r.created >= lo and r.created < hi then originals[r.id] = true; n = n + 1 end
    end
    sandbox.arrivals(2, "inside")
    local client = sandbox.client()
    assert.equal(n, check_walk(client:orders { from = from, to = to, size = 25 }, originals))
    assert.is_true(sandbox.stats().arrived > 0)
  end)
end)
