-- client:orders{ fields = {...} }: the walk decodes only those fields of each order (in C,
-- klikit.core.compile_fields), and hands out tables holding exactly them.
local sandbox = require "support.sandbox"
local walk = require "support.walk"
local cjson = require "cjson"

local YEAR = { from = "2025-11-01T00:00:00Z", to = "2026-11-01T00:00:00Z" }
local FIELDS = { "id", "final_price", "status", "brands.title", "cart_v2.items.name" }

local function with(extra)
  local p = {}
  for k, v in pairs(YEAR) do p[k] = v end
  for k, v in pairs(extra) do p[k] = v end
  return p
end

-- `full` restricted to the dotted paths (lists of objects projected element by element).
local function restrict(full, paths)
  local out = {}
  for _, path in ipairs(paths) do
    local function put(src, dst, names, i)
      local name = names[i]
      local v = src[name]
      if v == nil then return end
      if i == #names or type(v) ~= "table" then dst[name] = v return end
      if v[1] ~= nil or next(v) == nil then -- a list: element by element
        dst[name] = dst[name] or {}
        for k, elem in ipairs(v) do
          if type(elem) == "table" then
            dst[name][k] = dst[name][k] or {}
            put(elem, dst[name][k], names, i + 1)
          else
            dst[name][k] = elem
          end
        end
      else
        dst[name] = dst[name] or {}
        put(v, dst[name], names, i + 1)
      end
    end
    local names = {}
    for n in path:gmatch("[^.]+") do names[#names + 1] = n end
    put(full, out, names, 1)
  end
  return out
end

describe("projected walks (fields)", function()
  after_each(function() sandbox.reset { data = true } end)

  it("hand out every order with only the fields asked, equal to the full decode's", function()
    sandbox.reset { data = true }
    local full_ids, err, _, full = walk.run(sandbox.client(), YEAR)
    assert.is_nil(err)
    for _, k in ipairs { 1, 4 } do
      local ids, perr, _, orders = walk.run(sandbox.client(), with { fields = FIELDS, concurrency = k })
      assert.is_nil(perr)
      assert.same(full_ids, ids)
      for i, order in ipairs(orders) do
        assert.same(restrict(full[i], FIELDS), order)
        assert.is_nil(order.created_at) -- read by the walk, not asked for
      end
    end
  end)

  it("keeps the fields across pager:state() and resume", function()
    sandbox.reset { data = true }
    local pager = assert(sandbox.client():orders(with { fields = { "final_price" }, size = 30 }))
    local got = {}
    for _ = 1, 100 do got[#got + 1] = assert(pager:next()) end
    local state = cjson.decode(cjson.encode(pager:state()))
    for order in assert(sandbox.client():orders { resume = state }) do got[#got + 1] = order end
    assert.equal(#walk.truth(YEAR), #got)
    for _, order in ipairs(got) do
      assert.is_number(order.final_price)
      assert.is_nil(order.id)
      assert.is_nil(order.brands)
    end
  end)

  it("refuses an unusable list with request_invalid, naming the entry, before sending", function()
    local client = sandbox.client()
    for _, bad in ipairs { {}, { "" }, { "a..b" }, { ".a" }, { "a b" }, { 42 }, "id", { "x", [5] = "y" } } do
      local pager, err = client:orders(with { fields = bad })
      assert.is_nil(pager)
      assert.equal("request_invalid", err.code)
      assert.truthy(err.message:find("fields", 1, true), err.message)
    end
  end)
end)
