-- Brands (legacy outer-array shape), business, branches (page/size) and the enums.
local sandbox = require "support.sandbox"

describe("brands and branches", function()
  before_each(function() sandbox.reset() end)

  it("lists the brands of data[1].brands, in one request without paging parameters", function()
    local _, data = sandbox.records()
    local client = sandbox.client()
    local got = {}
    for brand in client:brands() do got[#got + 1] = { brand.id, brand.title, brand.business_id } end
    local want = {}
    for _, b in ipairs(data.BRANDS) do want[#want + 1] = { b.id, b.title, 398 } end
    assert.same(want, got)
    local seen = sandbox.requests()
    assert.equal(1, #seen)
    assert.equal("", seen[1].query)
  end)

  it("returns the business of the legacy brands payload", function()
    local business = assert(sandbox.client():business())
    assert.equal(398, business.id)
    assert.equal("(DEMO) klikit Indonesia", business.title)
  end)

  it("walks branches page by page without clamping size", function()
    local _, data = sandbox.records()
    local client = sandbox.client()
    local ids = {}
    for branch in client:branches { size = 1 } do ids[#ids + 1] = branch.id end
    local want = {}
    for _, b in ipairs(data.BRANCHES) do want[#want + 1] = b.id end
    assert.same(want, ids)
    -- the last full page does not end the walk (a total may lag): an empty page 5 does
    assert.equal(#want + 1, #sandbox.requests())
    sandbox.reset()
    local n = 0
    for branch in client:branches { size = 1000 } do
      n = n + 1
      assert.is_table(branch.brand_ids)
      assert.equal("3", branch.language_id) -- a string, as klikit sends it
    end
    assert.equal(#want, n)
    -- a first page shorter than asked is confirmed by one more, empty, page: a server may
    -- clamp the size and echo the size asked for
    assert.equal(2, #sandbox.requests())
    assert.truthy(sandbox.requests()[1].query:find("size=1000", 1, true))
  end)

  it("gives auth_forbidden to a credential without brands:read", function()
    local client = sandbox.client(sandbox.limited)
    local ok, err = pcall(function() for _ in client:branches() do end end)
    assert.is_false(ok)
    assert.equal("auth_forbidden", err.code)
    assert.equal(403, err.status)
    assert.truthy(tostring(err):find("HTTP 403", 1, true))
  end)

  it("serves the order-type and fulfillment-status enums as bare arrays", function()
    local client = sandbox.client()
    local types = assert(client:request("GET", "/orders/order-types"))
    assert.same({ "pickup", "delivery", "dinein" }, { types[1].type, types[2].type, types[3].type })
    local statuses = assert(client:request("GET", "/orders/fulfillment-statuses"))
    assert.equal("CANCELED", statuses[9].status)
  end)
end)
