-- One return contract for every method of the client (made from the endpoint rows):
-- data, nil, meta on success; nil, err, meta on failure (a pager method's data is the
-- pager). Wrong shapes are unexpected_shape and never retried; read filters are checked
-- as strictly as write fields.
local sandbox = require "support.sandbox"
local rows = require("klikit.partner.client").ROWS

local STORE = { brandID = 5297, branchID = 1293 }

-- A valid call of every method, against the sandbox's generated data.
local function samples()
  local open
  for _, r in ipairs(sandbox.records()) do if r.status == 1 then open = r.id break end end
  return {
    orders = { { from = "2026-06-01T00:00:00Z", to = "2026-07-01T00:00:00Z" } },
    count_orders = { { from = "2026-06-01T00:00:00Z", to = "2026-07-01T00:00:00Z" } },
    order = { sandbox.records()[1].id },
    update_order_status = { open, { status = "accepted" } },
    order_types = {}, fulfillment_statuses = {}, brands = {}, business = {}, branches = {}, providers = {},
    update_brand = { 1100, { title = "Renamed" } },
    update_branch = { 5913, { title = "Renamed" } },
    menu = { {} },
    create_section = { { title = { en = "All Day" }, visibilities = { [1] = true } } },
    set_section_visibilities = { 6801, { visibilities = { [1] = true } } },
    set_modifier_group_visibilities = { 1, { visibilities = { [1] = true } } },
    create_category = { { title = { en = "Pizzas" }, visibilities = { [1] = true } } },
    enable_categories = { { ids = { 7101 }, isEnabled = true } },
    create_item = { { title = { en = "Tea" }, vat = 0, visibilities = { [1] = true },
      prices = { [1] = { IDR = { price = 1000 } } } } },
    attach_modifiers = { { modifierGroupID = 1, attach = { { id = 43010, sequence = 1 } } } },
    sync_menu = { { stores = { STORE } } },
    populate_menu = { { stores = { STORE } } },
    publish_menu = { { stores = { STORE }, providerIDs = { 1 } } },
    reset_store_overrides = { { stores = { STORE } }, { confirm = true } },
    set_item_availability = { "CBA001", false },
  }
end

local unpack = table.unpack or rawget(_G, "unpack")

describe("the return contract", function()
  before_each(function() sandbox.reset { data = true } end)

  it("every method returns data, nil, meta on success", function()
    local client = sandbox.client()
    local calls = samples()
    for _, row in ipairs(rows) do
      local args = calls[row.name]
      assert.is_table(args, "no sample call for " .. row.name)
      local n = select("#", client[row.name](client, unpack(args)))
      local data, err, meta = client[row.name](client, unpack(args))
      -- writes may be refused by the sandbox's state machine the second time: the first
      -- call is the one checked, its values counted
      assert.equal(3, n, row.name .. " returned " .. n .. " values")
      if row.method ~= "GET" and not row.pager and not row.call and err then
        assert.is_table(err.code and meta, row.name)
      else
        assert.is_nil(err, row.name .. ": " .. tostring(err))
        assert.is_not_nil(data, row.name)
        assert.is_table(meta, row.name)
      end
    end
  end)

  it("every method returns nil, err, meta on failure, err carrying api = klikit", function()
    local client = sandbox.client { partner_key = "pk_test_revoked", secret_key = "sk_test_revoked_s3cr3t" }
    local calls = samples()
    for _, row in ipairs(rows) do
      local data, err, meta = client[row.name](client, unpack(calls[row.name]))
      if row.pager then -- a pager fails on its first page
        data, err = data:next()
        meta = {}
      end
      assert.is_nil(data, row.name)
      assert.is_table(err, row.name)
      assert.is_string(err.code, row.name)
      assert.equal("klikit", err.api, row.name)
      assert.is_table(meta, row.name)
    end
  end)

  it("invalid arguments give nil, err (request_invalid), {} and send nothing", function()
    sandbox.reset()
    local client = sandbox.client()
    for _, call in ipairs {
      function() return client:order({}) end,
      function() return client:orders { size = 0 } end,
      function() return client:branches { page = 0 } end,
      function() return client:brands { x = 1 } end,
      function() return client:order_types { x = 1 } end,
      function() return client:menu { brand_id = 1 } end,
      function() return client:count_orders { status = "bogus" } end,
      function() return client:update_order_status(1, { status = "eaten" }) end,
    } do
      local data, err, meta = call()
      assert.is_nil(data)
      assert.equal("request_invalid", err.code)
      assert.same({}, meta)
    end
    assert.equal(0, #sandbox.requests())
  end)
end)

describe("a response of the wrong shape", function()
  before_each(function() sandbox.reset() end)

  local CASES = {
    { "order", { 1 }, "/orders/1", '{"request_id":"s1","data":[1,2]}' },
    { "order_types", {}, "/orders/order-types", '{"request_id":"s1","data":"pickup"}' },
    { "business", {}, "/brands", '{"request_id":"s1","data":[{"brands":[]}]}' },
    { "menu", { {} }, "/menus", '{"request_id":"s1","data":true}' },
    { "create_section", { { title = { en = "x" } } }, "/menus/sections", '{"request_id":"s1","data":[]}' },
  }
  for _, case in ipairs(CASES) do
    it("is unexpected_shape, never retried: " .. case[1], function()
      sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json", body = case[4] } }, case[3])
      local client = sandbox.client { retry = { max_attempts = 3 } }
      local data, err, meta = client[case[1]](client, unpack(case[2]))
      assert.is_nil(data)
      assert.equal("unexpected_shape", err.code)
      assert.is_false(err.retryable)
      assert.equal("s1", err.request_id)
      assert.equal(1, meta.attempts)
    end)
  end

  it("a cut body stays decode_failed, which is retried", function()
    sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
      body = '{"request_id":"x","da' } }, "/orders/order-types")
    local data, _, meta = sandbox.client { retry = { max_attempts = 2, base_delay = 0 } }:order_types()
    assert.is_table(data)
    assert.equal(2, meta.attempts)
  end)
end)

describe("read filters", function()
  before_each(function() sandbox.reset { data = true } end)

  it("take status codes or their names, and refuse what klikit does not know", function()
    local client = sandbox.client()
    local range = { from = "2025-11-01T00:00:00Z", to = "2026-01-01T00:00:00Z" }
    local want = 0
    for _, r in ipairs(sandbox.records()) do
      if r.status == 5 and r.created < require("klikit.util").parse_time(range.to) then want = want + 1 end
    end
    for _, status in ipairs { 5, "delivered", "DELIVERED" } do
      assert.equal(want, client:count_orders { from = range.from, to = range.to, status = status })
    end
    local n = 0
    for order in client:orders { from = range.from, to = range.to, status = "delivered" } do
      assert.equal(5, order.status)
      n = n + 1
    end
    assert.equal(want, n)
    sandbox.reset()
    for _, bad in ipairs { "completed?", 7, 0, 2.5, true } do
      local _, err = client:count_orders { status = bad }
      assert.equal("request_invalid", err.code, tostring(bad))
      assert.truthy(err.message:find("delivered", 1, true))
    end
    assert.equal(0, #sandbox.requests())
  end)
end)
