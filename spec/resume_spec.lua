-- pager:state() is a plain value; client:orders{ resume = state } continues from it.
-- The state survives a JSON round trip (what a checkpoint file holds), and the resumed
-- walk yields exactly what the first one had not, mid-page and mid-span alike.
local sandbox = require "support.sandbox"
local walk = require "support.walk"
local cjson = require "cjson"

local function roundtrip(state) return cjson.decode(cjson.encode(state)) end

-- Walks `params`, stopping after `stop` orders; then resumes from the saved state with a
-- new client. -> ids of both parts, the state
local function split_walk(params, stop)
  local first = {}
  local pager = assert(sandbox.client():orders(params))
  for _ = 1, stop do
    local order = assert(pager:next())
    first[#first + 1] = order.id
  end
  local state = roundtrip(pager:state())
  local rest = {}
  for order in assert(sandbox.client():orders { resume = state }) do rest[#rest + 1] = order.id end
  return first, rest, state
end

describe("pager:state() and resume", function()
  after_each(function() sandbox.reset { data = true } end)

  it("a walk stopped mid-page resumes with every order exactly once, in order", function()
    sandbox.reset { data = true }
    local params = { from = "2025-11-01T00:00:00Z", to = "2026-11-01T00:00:00Z", size = 37 }
    local want = walk.truth(params)
    for _, stop in ipairs { 1, 37, 500, 1199 } do
      local first, rest = split_walk(params, stop)
      local all = {}
      for _, id in ipairs(first) do all[#all + 1] = id end
      for _, id in ipairs(rest) do all[#all + 1] = id end
      assert.same(want, all)
    end
  end)

  it("stopped inside a busy second walked by page number, and while orders arrive", function()
    sandbox.regenerate { seed = 3, orders = 150, from = "2026-01-01T00:00:00Z", to = "2026-01-02T00:00:00Z",
      bursts = { { at = 40000, count = 250 } } }
    sandbox.quirks { ties = "random", total = "lag" }
    local params = { from = "2026-01-01T00:00:00Z", to = "2026-01-02T00:00:00Z", size = 20 }
    local want = walk.truth(params)
    sandbox.churn { arrive = 1, mode = "inside", seed = 5, from = params.from, to = params.to, limit = 30 }
    local first, rest, state = split_walk(params, 140)
    assert.is_table(state.walk.span, "stopped outside the busy second")
    local got = {}
    for _, id in ipairs(first) do got[#got + 1] = id end
    for _, id in ipairs(rest) do got[#got + 1] = id end
    local bad = walk.exactly_once(got, want, sandbox.churned().touched)
    assert.is_nil(bad, bad)
  end)

  it("a finished walk resumes to nothing; branches resume too", function()
    sandbox.reset { data = true }
    local pager = assert(sandbox.client():orders { from = "2026-10-01T00:00:00Z", to = "2026-11-01T00:00:00Z" })
    assert(pager:all())
    local after = assert(sandbox.client():orders { resume = roundtrip(pager:state()) })
    assert.is_nil(after:next())
    local branches = assert(sandbox.client():branches { size = 1 })
    local ids = { assert(branches:next()).id, assert(branches:next()).id }
    for b in assert(sandbox.client():branches { resume = roundtrip(branches:state()) }) do ids[#ids + 1] = b.id end
    assert.equal(4, #ids)
    local seen = {}
    for _, id in ipairs(ids) do
      assert.is_nil(seen[id])
      seen[id] = true
    end
  end)

  it("refuses a state that is not one, or resume beside other parameters", function()
    local client = sandbox.client()
    for _, params in ipairs { { resume = {} }, { resume = { walk = { style = "time_cursor" }, skip = {} } },
      { resume = "x" }, { resume = { walk = { style = "page_number" }, skip = {} } } } do
      local pager, err = client:orders(params)
      assert.is_nil(pager)
      assert.equal("request_invalid", err.code)
    end
    local pager = assert(client:orders { from = "2026-10-01T00:00:00Z" })
    local _, err = client:orders { resume = pager:state(), size = 10 }
    assert.equal("request_invalid", err.code)
    assert.is_nil(assert(client:brands()):state()) -- one request: nothing to resume
  end)
end)
