-- Request body encoding and normalisation (klikit.body).
local body = require "klikit.partner.validate"
local json = require "klikit.http.json"
local cjson = require "cjson"

describe("klikit.body", function()
  it("encodes marked empty arrays as [] at any depth, and plain empty tables as {}", function()
    local out = json.encode { a = json.array {}, b = {}, c = { d = json.array {}, e = json.array { 1, 2 } } }
    local back = cjson.decode(out)
    assert.truthy(out:find('"a":[]', 1, true))
    assert.truthy(out:find('"d":[]', 1, true))
    assert.truthy(out:find('"b":{}', 1, true))
    assert.same({ 1, 2 }, back.c.e)
    assert.is_nil(out:find("klikit-empty-array", 1, true))
  end)

  it("leaves strings that look like the placeholder alone", function()
    local out = json.encode { s = "klikit-empty-array-x", t = "[]" }
    assert.same({ s = "klikit-empty-array-x", t = "[]" }, cjson.decode(out))
  end)

  it("writes object members in sorted order: the same fields give the same bytes", function()
    local a, b = {}, {}
    for i = 1, 50 do a["k" .. i] = { n = i, list = { i, "x" } } end
    for i = 50, 1, -1 do b["k" .. i] = { list = { i, "x" }, n = i } end
    assert.equal(json.encode(a), json.encode(b))
    assert.equal('{"a":1,"b":[true,false],"c":{"d":null,"e":"f"}}',
      json.encode { c = { e = "f", d = require("klikit").null }, b = { true, false }, a = 1 })
  end)

  it("refuses what JSON cannot carry with request_invalid", function()
    for _, v in ipairs { { f = print }, { [1] = 1, [1000] = 2 }, { x = 0 / 0 } } do
      local ok, err = pcall(json.encode, v)
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
    local deep = {}
    local t = deep
    for _ = 1, 100 do t.x = {}; t = t.x end
    assert.equal("request_invalid", select(2, pcall(json.encode, deep)).code)
  end)

  it("normalises provider maps to string keys and keeps the caller's table", function()
    local given = { [1] = true, ["9"] = false }
    assert.same({ ["1"] = true, ["9"] = false }, body.visibilities("v", given))
    assert.is_true(given[1])
    assert.equal("request_invalid", select(2, pcall(body.visibilities, "v", { [1] = "yes" })).code)
    assert.equal("request_invalid", select(2, pcall(body.prices, "p", { [6] = { IDR = { price = 1 } } })).code)
  end)
end)
