-- update_brand, update_branch, providers: requests sent, results, validation, quirks.
local sandbox = require "support.sandbox"
local cjson = require "cjson"

describe("brand and branch updates", function()
  before_each(function() sandbox.reset { data = true } end)

  it("update_brand sends PATCH /brands/{id} and the change shows in brands()", function()
    local client = sandbox.client()
    local data, err = client:update_brand(5297, { title = "Cimol Bojot AA (renamed)" })
    assert.is_nil(err)
    assert.equal("Brand updated.", data)
    local req = sandbox.requests()[1]
    assert.equal("PATCH", req.method)
    assert.equal("/brands/5297", req.path)
    assert.same({ title = "Cimol Bojot AA (renamed)" }, cjson.decode(req.body))
    assert.truthy(req.headers["idempotency-key"])
    local titles = {}
    for b in client:brands() do titles[b.id] = b.title end
    assert.equal("Cimol Bojot AA (renamed)", titles[5297])
  end)

  it("update_brand changes branches only with the full list and branch_list_changed", function()
    local client = sandbox.client()
    assert.truthy(client:update_brand(5297, { branch_ids = { 5913 }, branch_list_changed = true }))
    local where = {}
    for br in client:branches() do
      for _, id in ipairs(br.brand_ids) do if id == 5297 then where[#where + 1] = br.id end end
    end
    assert.same({ 5913 }, where)
    local _, err = client:update_brand(5297, { branch_list_changed = true })
    assert.equal("request_invalid", err.code)
    _, err = client:update_brand(5297, { branch_ids = { "x" }, branch_list_changed = true })
    assert.equal("request_invalid", err.code)
    _, err = client:update_brand(5297, {})
    assert.equal("request_invalid", err.code)
    _, err = client:update_brand(5297, { title = string.rep("t", 256) })
    assert.equal("request_invalid", err.code)
    assert.equal(3, #sandbox.requests()) -- the PATCH and the branches read (its short page confirmed)
  end)

  it("update_brand's inferred path can be overridden by the caller", function()
    local client = sandbox.client()
    local _, err = client:update_brand(5297, { title = "x" }, { path = "/brand/{id}/update", method = "PUT" })
    assert.equal("resource_not_found", err.code) -- the sandbox knows only the guessed path
    local req = sandbox.requests()[1]
    assert.equal("PUT", req.method)
    assert.equal("/brand/5297/update", req.path)
  end)

  it("update_branch sends camelCase slot times even when given the read shape", function()
    local client = sandbox.client()
    local branch
    for br in client:branches() do if br.id == 1293 then branch = br end end
    local times = branch.available_times -- read shape: start_time / end_time
    times["0"].slots[1].start_time = 1000
    local data, err = client:update_branch(1293, { title = "(DEMO) Denpasar Barat", available_times = times })
    assert.is_nil(err)
    assert.equal(1293, data.id)
    local sent
    for _, req in ipairs(sandbox.requests()) do if req.method == "PATCH" then sent = cjson.decode(req.body) end end
    assert.same({ startTime = 1000, endTime = 2200 }, sent.available_times["0"].slots[1])
    for br in client:branches() do
      if br.id == 1293 then
        assert.equal("(DEMO) Denpasar Barat", br.title)
        assert.equal(1000, br.available_times["0"].slots[1].start_time)
      end
    end
    assert.equal(800, times["1"].slots[1].start_time) -- the caller's table is not modified
  end)

  it("update_branch validates phone, times and brand lists before sending", function()
    local client = sandbox.client()
    for _, fields in ipairs {
      { phone = "0812" }, { available_times = { ["7"] = { slots = {} } } },
      { available_times = { ["0"] = { slots = { { startTime = 900, endTime = 2400 } } } } },
      { available_times = { ["0"] = { slots = { { startTime = 1200, endTime = 900 } } } } },
      { brand_list_changed = true }, { address = "x" },
    } do
      local _, err = client:update_branch(1293, fields)
      assert.equal("request_invalid", err.code)
    end
    assert.equal(0, #sandbox.requests())
  end)

  it("lists providers", function()
    local list = assert(sandbox.client():providers())
    local names = {}
    for _, p in ipairs(list) do names[p.id] = p.name end
    assert.equal("klikit", names[1])
    assert.equal("gofood", names[9])
  end)
end)
