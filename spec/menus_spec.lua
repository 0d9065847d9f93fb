-- Menu reads and writes: requests sent, results, validation, and the publish cycle.
local sandbox = require "support.sandbox"
local cjson = require "cjson"

local STORE = { brandID = 5297, branchID = 1293 }

local function last_request()
  local all = sandbox.requests()
  return all[#all], cjson.decode(all[#all].body or "null")
end

local function business_menu(client)
  return assert(client:menu()).menu
end

describe("client:menu", function()
  before_each(function() sandbox.reset { data = true } end)

  it("reads the store menu with both ids and the business menu with neither", function()
    local client = sandbox.client()
    local store = assert(client:menu { brand_id = 5297, branch_id = 1293 })
    assert.equal(1293, store.menu.branchInfo.branchID)
    assert.equal("1,6,9,11,16,17", store.menu.branchInfo.providerIDs) -- a comma-separated string
    assert.equal("branch_id=1293&brand_id=5297", sandbox.requests()[1].query)
    assert.truthy(business_menu(client).businessInfo)
  end)

  it("refuses one id without the other before sending; unknown store is resource_not_found", function()
    local client = sandbox.client()
    local _, err = client:menu { brand_id = 5297 }
    assert.equal("request_invalid", err.code)
    assert.truthy(err.message:find("together", 1, true))
    assert.equal(0, #sandbox.requests())
    _, err = client:menu { brand_id = 5297, branch_id = 6188 }
    assert.equal("resource_not_found", err.code)
  end)
end)

describe("menu writes", function()
  before_each(function() sandbox.reset { data = true } end)

  it("create_section/category/item return ids that show in the business menu", function()
    local client = sandbox.client()
    local section = assert(client:create_section { title = { en = "All Day Menu" }, sequence = 1,
      visibilities = { [1] = true, [6] = false }, isEnabled = true,
      availableTimes = { [0] = { slots = { { start_time = 900, end_time = 2200 } } } } })
    assert.is_number(section.id)
    local req, body = last_request()
    assert.equal("POST", req.method)
    assert.equal("/menus/sections", req.path)
    -- provider keys are sent as strings, times camelCase, fromAPI as in every example
    assert.same({ ["1"] = true, ["6"] = false }, body.visibilities)
    assert.same({ disabled = false, slots = { { startTime = 900, endTime = 2200 } } }, body.availableTimes["0"])
    assert.is_true(body.fromAPI)

    local category = assert(client:create_category { title = { en = "Pizzas" }, visibilities = { ["1"] = true },
      isHalal = true })
    local item = assert(client:create_item { title = { en = "Margherita" }, vat = 0, visibilities = { [1] = true },
      prices = { [1] = { IDR = { price = 85000, takeAwayPrice = 85000 } } } })
    local menu = business_menu(client)
    local found = { section = false, category = false, item = false }
    for _, s in ipairs(menu.sections) do if s.id == section.id then found.section = s.enabled end end
    for _, c in ipairs(menu.categories) do if c.id == category.id then found.category = true end end
    for _, i in ipairs(menu.items) do if i.id == item.id then found.item = i.prices["1"].IDR.price == 85000 end end
    assert.same({ section = true, category = true, item = true }, found)
  end)

  it("validates create bodies before sending", function()
    local client = sandbox.client()
    local bad = {
      { "create_section", { visibilities = {} } },
      { "create_section", { title = { english = "x" } } },
      { "create_category", { title = { en = "x" } } },
      { "create_category", { title = { en = "x" }, visibilities = { klikit = true } } },
      { "create_item", { title = { en = "x" }, vat = 0, visibilities = { ["1"] = true },
        prices = { ["6"] = { IDR = { price = 1 } } } } },
      { "create_item", { title = { en = "x" }, vat = -1, visibilities = {}, prices = {} } },
      { "create_item", { title = { en = "x" }, vat = 0, visibilities = {},
        prices = { ["1"] = { rupiah = { price = 1 } } } } },
    }
    for _, c in ipairs(bad) do
      local _, err = client[c[1]](client, c[2])
      assert.equal("request_invalid", err.code, c[1])
    end
    assert.equal(0, #sandbox.requests())
  end)

  it("enable_categories requires isEnabled and really flips the categories", function()
    local client = sandbox.client()
    local _, err = client:enable_categories { ids = { 39118 } }
    assert.equal("request_invalid", err.code)
    assert.truthy(err.message:find("missing one as false", 1, true))
    assert.truthy(client:enable_categories { ids = { 39118 }, isEnabled = false })
    local _, body = last_request()
    assert.same({ ids = { 39118 }, isEnabled = false }, body)
    local enabled
    for _, c in ipairs(business_menu(client).categories) do if c.id == 39118 then enabled = c.isEnabled end end
    assert.is_false(enabled)
    _, err = client:enable_categories { ids = { 999999 }, isEnabled = true }
    assert.equal("resource_not_found", err.code)
    assert.equal("not_found", err.raw_code) -- the upstream code, normalised
    _, err = client:enable_categories { ids = {}, isEnabled = true }
    assert.equal("request_invalid", err.code)
  end)

  it("visibility changes reach a store menu only after publish_menu", function()
    local client = sandbox.client()
    local function store_visibility()
      local m = assert(client:menu { brand_id = 5297, branch_id = 1293 }).menu
      return m.sections[1].visibilities
    end
    assert.same({ ["1"] = true }, store_visibility())
    assert.truthy(client:set_section_visibilities(6825, { visibilities = { [1] = true, [9] = true } }))
    local req, body = last_request()
    assert.equal("PATCH", req.method)
    assert.equal("/menus/sections/6825/visibilities", req.path)
    assert.same({ visibilities = { ["1"] = true, ["9"] = true } }, body)
    assert.same({ ["1"] = true }, store_visibility()) -- the cached snapshot
    assert.truthy(client:sync_menu { stores = { STORE },
      sections = { [6825] = { sequence = 1, availableTimes = {} } } })
    local _, sync_body = last_request()
    assert.same({ stores = { STORE }, sections = { ["6825"] = { sequence = 1, availableTimes = {} } } }, sync_body)
    local result = assert(client:publish_menu { stores = { STORE }, providerIDs = { 1 } })
    assert.same({ success = 1, failed = 0 }, result)
    assert.same({ ["1"] = true, ["9"] = true }, store_visibility())
  end)

  it("zoneStores turns a visibility write into a store override; reset needs confirm", function()
    local client = sandbox.client()
    assert.truthy(client:set_section_visibilities(6825, { visibilities = { ["1"] = false }, zoneStores = { STORE } }))
    assert.truthy(client:publish_menu { stores = { STORE }, providerIDs = { 1 } })
    local m = assert(client:menu { brand_id = 5297, branch_id = 1293 }).menu
    assert.same({ ["1"] = false }, m.sections[1].visibilities)
    local before = #sandbox.requests()
    local _, err = client:reset_store_overrides({ stores = { STORE } })
    assert.equal("request_invalid", err.code)
    assert.truthy(err.message:find("confirm", 1, true))
    _, err = client:reset_store_overrides({}, { confirm = "yes" })
    assert.equal("request_invalid", err.code)
    assert.equal(before, #sandbox.requests())
    assert.truthy(client:reset_store_overrides({ stores = { STORE } }, { confirm = true }))
    assert.equal("/menus/reset", last_request().path)
    assert.truthy(client:publish_menu { stores = { STORE }, providerIDs = { 1 } })
    m = assert(client:menu { brand_id = 5297, branch_id = 1293 }).menu
    assert.same({ ["1"] = true }, m.sections[1].visibilities)
  end)

  it("sync refuses a non-empty availableTimes that overlaps; populate skips stores with menus", function()
    local client = sandbox.client()
    local _, err = client:sync_menu { stores = { STORE }, sections = { ["6825"] = { availableTimes = {
      ["1"] = { slots = { { startTime = 900, endTime = 1000 } } } } } } }
    assert.equal("request_invalid", err.code)
    assert.equal(400, err.status) -- the server's answer: the body was valid
    assert.truthy(client:populate_menu { stores = { { brand_id = 5297, branch_id = 1293 } } })
    local req, body = last_request()
    assert.equal("/menus/populate", req.path)
    assert.same({ stores = { STORE } }, body)
    _, err = client:sync_menu { stores = {} }
    assert.equal("request_invalid", err.code)
    _, err = client:publish_menu { stores = { STORE } }
    assert.equal("request_invalid", err.code)
  end)

  it("attach_modifiers links options and sends deleteModifierIDs as an array", function()
    local client = sandbox.client()
    local option = assert(client:create_item { title = { en = "Large" }, vat = 0, onlyModifier = true,
      visibilities = { ["1"] = true }, prices = { ["1"] = { IDR = { price = 5000 } } } })
    assert.truthy(client:attach_modifiers { modifierGroupID = 1549, attach = { { id = option.id, sequence = 1 } },
      deleteModifierIDs = {} })
    local req = last_request()
    assert.truthy(req.body:find('"deleteModifierIDs":[]', 1, true))
    local group
    for _, g in ipairs(business_menu(client).modifierGroups) do if g.id == 1549 then group = g end end
    assert.same({ { id = option.id, sequence = 1 } }, group.modifiers)
    local _, err = client:attach_modifiers { modifierGroupID = 1549, attach = { { sequence = 1 } } }
    assert.equal("request_invalid", err.code)
    assert.truthy(client:set_modifier_group_visibilities(1549, { visibilities = { ["1"] = false } }))
    assert.equal("/menus/modifier-groups/1549/visibilities", last_request().path)
  end)

  it("set_item_availability patches by SKU; an unknown SKU is resource_unmapped", function()
    local client = sandbox.client()
    local data = assert(client:set_item_availability("CBA001", false))
    assert.same({ sku = "CBA001", available = false }, data)
    local req, body = last_request()
    assert.equal("PATCH", req.method)
    assert.equal("/items/CBA001/availability", req.path)
    assert.same({ available = false }, body)
    assert.truthy(client:publish_menu { stores = { STORE }, providerIDs = { 1 } })
    local m = assert(client:menu { brand_id = 5297, branch_id = 1293 }).menu
    assert.is_false(m.sections[1].categories[1].items[1].isAvailable)
    local _, err = client:set_item_availability("sku-42", true)
    assert.equal("resource_unmapped", err.code)
    _, err = client:set_item_availability("CBA001", "no")
    assert.equal("request_invalid", err.code)
  end)
end)
