-- Injection: CR, LF and NUL in anything that ends up in a header or a request line are
-- refused with request_invalid before a byte is sent; what the caller's strings may
-- legally hold is percent-encoded, and the sandbox decodes it back to the same bytes.
local klikit = require "klikit"
local sandbox = require "support.sandbox"

local HOSTILE = {
  "a\rb", "a\nb", "a\0b",
  "x\r\nX-Injected: 1",                       -- header splitting
  "1 HTTP/1.1\r\nHost: evil\r\n\r\nGET /x",   -- request smuggling in a request line
}

-- Every error must be request_invalid, and its text must show control characters as
-- escapes so that it cannot forge lines in a log.
local function assert_refused(label, data, err)
  assert.is_nil(data, label)
  assert.is_table(err, label)
  assert.equal("request_invalid", err.code, label)
  assert.is_nil(tostring(err):find("[\r\n%z]"), label .. ": raw control character in " .. tostring(err))
end

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return nil, err
end

describe("injection", function()
  before_each(function() sandbox.reset { data = true } end)

  it("klikit.new refuses CR, LF and NUL in credentials and transport options", function()
    local base = { partner_key = sandbox.partner_key, secret_key = sandbox.secret_key,
      base_url = sandbox.base_url }
    for _, h in ipairs(HOSTILE) do
      for _, field in ipairs { "partner_key", "secret_key", "base_url", "user_agent", "proxy", "noproxy",
        "ca_file" } do
        local opts = {}
        for k, v in pairs(base) do opts[k] = v end
        opts[field] = field == "base_url" and sandbox.base_url .. h or h
        assert_refused(field .. " " .. ("%q"):format(h), raised(function() klikit.new(opts) end))
      end
    end
  end)

  it("refuses them in header names and values, idempotency keys, ids, paths and queries; nothing is sent",
    function()
      local client = sandbox.client()
      local TYPES = "/orders/order-types"
      local VIS = { visibilities = { ["1"] = true } }
      local calls = {
        header_value = function(h) return client:request("GET", TYPES, { headers = { ["X-Trace"] = h } }) end,
        header_name = function(h) return client:request("GET", TYPES, { headers = { [h] = "v" } }) end,
        query_value = function(h) return client:request("GET", TYPES, { query = { lang = h } }) end,
        raw_path = function(h) return client:request("GET", "/orders/" .. h) end,
        request_key = function(h)
          return client:request("POST", "/menus/publish", { body = {}, idempotency_key = h })
        end,
        status_key = function(h)
          return client:update_order_status(71280866, { status = "accepted" }, { idempotency_key = h })
        end,
        section_key = function(h)
          return client:create_section({ title = { en = "x" }, visibilities = VIS.visibilities },
            { idempotency_key = h })
        end,
        order_id = function(h) return client:order(h) end,
        status_id = function(h) return client:update_order_status(h, { status = "accepted" }) end,
        brand_id = function(h) return client:update_brand(h, { title = "x" }) end,
        branch_id = function(h) return client:update_branch(h, { title = "x" }) end,
        section_id = function(h) return client:set_section_visibilities(h, VIS) end,
        group_id = function(h) return client:set_modifier_group_visibilities(h, VIS) end,
        sku = function(h) return client:set_item_availability(h, true) end,
        order_filter = function(h)
          return client:count_orders { from = "2026-06-01T00:00:00Z", branch_id = h }
        end,
        inferred_path = function(h) return client:populate_menu({ stores = { { brand_id = 5297, branch_id = 1293 } } },
          { path = "/menus/" .. h }) end,
      }
      local n = 0
      for name, call in pairs(calls) do
        for _, h in ipairs(HOSTILE) do
          assert_refused(name .. " " .. ("%q"):format(h), call(h))
          n = n + 1
        end
      end
      assert.equal(16 * #HOSTILE, n)
      assert.same({}, sandbox.requests())
    end)

  it("refuses other control characters in header values and base_url too (a tab is a legal header value)",
    function()
      local client = sandbox.client()
      for _, h in ipairs { "a\1b", "\27[31mred", "a\127" } do
        assert_refused("header " .. ("%q"):format(h),
          client:request("GET", "/orders/order-types", { headers = { ["X-Trace"] = h } }))
        assert_refused("base_url", raised(function()
          klikit.new { partner_key = "k", secret_key = "s", base_url = sandbox.base_url .. h } end))
      end
      assert.same({}, sandbox.requests())
      assert.truthy(client:request("GET", "/orders/order-types", { headers = { ["X-Trace"] = "a\tb" } }))
      assert.equal("a\tb", sandbox.requests()[1].headers["x-trace"])
    end)

  it("refuses ids that would change the path: separators, dot segments, encodings", function()
    local client = sandbox.client()
    for _, id in ipairs { "../brands", "a/b", "..", ".", "%2e%2e", "a?b=1", "a#b", "a b", "", string.rep("9", 129) } do
      assert_refused("order id " .. ("%q"):format(id), client:order(id))
      assert_refused("sku " .. ("%q"):format(id), client:set_item_availability(id, false))
    end
    assert.same({}, sandbox.requests())
  end)

  it("percent-encodes query keys and values; the server decodes the same bytes", function()
    local client = sandbox.client()
    local value = "a b&c=d#e+f%g/h?i\tj\195\188\240\159\141\149'\"<>" -- ü and a pizza, in UTF-8
    local _, err = client:request("GET", "/orders/order-types", { query = { lang = value, ["x y&z"] = "1=2" } })
    assert.is_nil(err)
    local seen = sandbox.requests()[1]
    assert.equal("lang=a%20b%26c%3Dd%23e%2Bf%25g%2Fh%3Fi%09j%C3%BC%F0%9F%8D%95%27%22%3C%3E&x%20y%26z=1%3D2",
      seen.query)
    assert.equal(value, seen.args.lang)
    assert.equal("1=2", seen.args["x y&z"])
    assert.equal(2, #(function() local t = {} for k in pairs(seen.args) do t[#t + 1] = k end return t end)())
  end)

  it("percent-encodes what a string id may hold beyond unreserved characters", function()
    local client = sandbox.client()
    local _, err = client:set_item_availability("SKU:1.2_a-b", true)
    assert.equal("resource_unmapped", err.code) -- it reached the server, which knows no such SKU
    local _, err2 = client:order("ORD:42")
    assert.equal("resource_not_found", err2.code)
    local seen = sandbox.requests()
    assert.equal("/v1/partner/items/SKU%3A1.2_a-b/availability", seen[1].uri)
    assert.equal("/items/SKU:1.2_a-b/availability", seen[1].path)
    assert.equal("/v1/partner/orders/ORD%3A42", seen[2].uri)
  end)
end)
