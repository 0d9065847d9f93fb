-- Every write method: the method, path, headers and JSON body it sends, over real HTTP.
local sandbox = require "support.sandbox"
local cjson = require "cjson"

local STORE = { brandID = 5297, branchID = 1293 }

-- { method name, args, expected HTTP method, expected path }
local WRITES = {
  { "update_order_status", { 0, { status = "accepted" } }, "PATCH", "/orders/%d/status" },
  { "update_brand", { 1100, { title = "Healthy Kitchen" } }, "PATCH", "/brands/1100" },
  { "update_branch", { 5913, { title = "Buleleng" } }, "PATCH", "/branches/5913" },
  { "create_section", { { title = { en = "S" }, visibilities = { ["1"] = true } } }, "POST", "/menus/sections" },
  { "set_section_visibilities", { 6825, { visibilities = { ["1"] = true } } }, "PATCH",
    "/menus/sections/6825/visibilities" },
  { "create_category", { { title = { en = "C" }, visibilities = { ["1"] = true } } }, "POST", "/menus/categories" },
  { "enable_categories", { { ids = { 39118 }, isEnabled = true } }, "PATCH", "/menus/categories/enable" },
  { "create_item", { { title = { en = "I" }, vat = 0, visibilities = { ["1"] = true },
    prices = { ["1"] = { IDR = { price = 1000 } } } } }, "POST", "/menus/items" },
  { "attach_modifiers", { { modifierGroupID = 1549, attach = { { id = 289379, sequence = 1 } } } }, "POST",
    "/menus/modifier-groups/modifiers" },
  { "set_modifier_group_visibilities", { 1549, { visibilities = { ["1"] = true } } }, "PATCH",
    "/menus/modifier-groups/1549/visibilities" },
  { "sync_menu", { { stores = { STORE } } }, "POST", "/menus/sync" },
  { "populate_menu", { { stores = { STORE } } }, "POST", "/menus/populate" },
  { "publish_menu", { { stores = { STORE }, providerIDs = { 1 } } }, "POST", "/menus/publish" },
  { "reset_store_overrides", { { stores = { STORE } }, { confirm = true } }, "POST", "/menus/reset" },
  { "set_item_availability", { "CBA002", true }, "PATCH", "/items/CBA002/availability" },
}

describe("every write", function()
  before_each(function() sandbox.reset { data = true } end)

  for _, w in ipairs(WRITES) do
    it(w[1] .. " sends " .. w[3] .. " with JSON, an Idempotency-Key, and succeeds", function()
      local client = sandbox.client()
      local args, path = { table.unpack(w[2]) }, w[4]
      local open = {} -- placed orders, for the status change
      for _, r in ipairs(sandbox.records()) do
        if r.status == 1 then open[#open + 1] = r.id end
      end
      if w[1] == "update_order_status" then
        args[1] = open[1]
        path = path:format(args[1])
      end
      local data, err, meta = client[w[1]](client, table.unpack(args))
      assert.is_nil(err, tostring(err))
      assert.is_not_nil(data)
      assert.equal(200, meta.status)
      local seen = sandbox.requests()
      assert.equal(1, #seen)
      local req = seen[1]
      assert.equal(w[3], req.method)
      assert.equal(path, req.path)
      assert.equal("", req.query)
      assert.equal("application/json", req.headers["content-type"])
      assert.equal("application/json", req.headers.accept)
      assert.equal("(present)", req.headers.authorization)
      assert.equal(meta.idempotency_key, req.headers["idempotency-key"])
      assert.is_table(cjson.decode(req.body))
      -- the same call with the same key is replayed, not applied again
      local applied = sandbox.stats().writes_applied
      local again_args = { table.unpack(args) }
      if w[1] == "update_order_status" then again_args[1] = open[2] end
      local key_slot = (w[1] == "reset_store_overrides") and 2 or #again_args + 1
      again_args[key_slot] = again_args[key_slot] or {}
      again_args[key_slot].idempotency_key = "fixed-" .. w[1]
      local d1 = client[w[1]](client, table.unpack(again_args))
      local d2, err2, m2 = client[w[1]](client, table.unpack(again_args))
      assert.is_nil(err2)
      assert.same(d1, d2)
      assert.equal("true", m2.headers["idempotent-replayed"])
      assert.equal(applied + 1, sandbox.stats().writes_applied)
    end)
  end
end)
