-- klikit.new: configuration, credentials, transport contract, request plumbing.
local klikit = require "klikit"
local sandbox = require "support.sandbox"
local core = require "klikit.core"

local function lua_subprocess(code, env)
  local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
  local cmd = string.format("env -i PATH=/usr/bin:/bin %s LUA_PATH='lua/?.lua;lua/?/init.lua;;' "
    .. "LUA_CPATH='%s/?.so;;' %s -e %q 2>&1", env or "", build, require("support.interpreter").command, code)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  local ok = p:close()
  return out, ok
end

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected an error")
  return err
end

describe("klikit.new", function()
  it("raises request_invalid for a missing credential, naming the env variable", function()
    local err = raised(function() klikit.new { secret_key = "s", base_url = "https://x.test/v1/partner" } end)
    if os.getenv("KLIKIT_PARTNER_KEY") then return end -- the environment supplies it
    assert.equal("request_invalid", err.code)
    assert.truthy(tostring(err):find("KLIKIT_PARTNER_KEY", 1, true))
  end)

  it("falls back to KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY and KLIKIT_BASE_URL #subprocess", function()
    local out, ok = lua_subprocess([[
      local c = require("klikit").new{}
      print(c.base_url, c.partner_key, c.session.timeout, c.session.connect_timeout)]],
      "KLIKIT_PARTNER_KEY=pk_env KLIKIT_SECRET_KEY=sk_env KLIKIT_BASE_URL=https://api.example.test/v1/partner/")
    assert.is_true(ok, out)
    assert.equal("https://api.example.test/v1/partner\tpk_env\t30\t10\n", out)
  end)

  it("knows the dev and prod environments and defaults to prod #subprocess", function()
    local dev = klikit.new { partner_key = "k", secret_key = "s", env = "dev" }
    assert.equal("https://api.dev.shadowchef.co/v1/partner", dev.base_url)
    local out = lua_subprocess([[print(require("klikit").new{partner_key="k", secret_key="s"}.base_url)]])
    assert.equal("https://gateway-enterprise.klikit.io/v1/partner\n", out)
    assert.equal("request_invalid", raised(function()
      klikit.new { partner_key = "k", secret_key = "s", env = "staging" } end).code)
  end)

  it("rejects unusable options with request_invalid", function()
    local base = { partner_key = "k", secret_key = "s", base_url = "https://x.test/v1/partner" }
    local function with(k, v)
      local o = {}
      for a, b in pairs(base) do o[a] = b end
      o[k] = v
      return o
    end
    for _, bad in ipairs {
      with("base_url", "ftp://x.test"), with("base_url", "http://api.example.com/v1/partner"),
      with("timeout", 0), with("timeout", "30"), with("connect_timeout", -1),
      with("secret_key", "a\r\nX-Evil: 1"), with("partner_key", "a:b"), with("tiemout", 3),
      with("ca_file", "/nonexistent/ca.pem"), with("transport", {}), with("env", "qa"),
      with("pool_size", 0), with("pool_size", 1.5), with("pool_size", "32"), with("transport", "ngx"),
    } do
      local err = raised(function() klikit.new(bad) end)
      assert.equal("request_invalid", err.code)
      assert.is_nil(tostring(err):find("s3cr3t", 1, true))
    end
    assert.equal("request_invalid", raised(function() klikit.new("k") end).code)
    assert.truthy(klikit.new(with("pool_size", 64))) -- cosockets' keep-alive pool; libcurl keeps one connection
    -- plain http is fine on loopback, and elsewhere only when asked for by name
    assert.truthy(klikit.new(with("base_url", "http://127.0.0.1:1/v1/partner")))
    assert.truthy(klikit.new(with("base_url", "http://localhost:1/v1/partner")))
    local insecure = with("base_url", "http://api.example.com/v1/partner")
    insecure.allow_insecure_http = true
    assert.truthy(klikit.new(insecure))
  end)

  it("never shows the secret in tostring or in the client's fields", function()
    local c = klikit.new { partner_key = "pk_test_visible", secret_key = "sk_top_secret_value",
      base_url = "https://x.test/v1/partner" }
    assert.is_nil(tostring(c):find("sk_top", 1, true))
    assert.is_nil(tostring(c):find("pk_test_visible", 1, true)) -- only a prefix of the key
    local function walk(t, seen)
      seen = seen or {}
      if seen[t] then return end
      seen[t] = true
      for k, v in pairs(t) do
        for _, x in ipairs { k, v } do
          if type(x) == "string" then
            assert.is_nil(x:find("sk_top_secret_value", 1, true))
            assert.is_nil(x:find(core.base64("pk_test_visible:sk_top_secret_value"), 1, true))
          elseif type(x) == "table" then walk(x, seen) end
        end
      end
    end
    walk(c)
  end)
end)

describe("client:request against the sandbox", function()
  before_each(function() sandbox.reset() end)

  it("sends Basic auth, Accept, the klikit User-Agent and the query, and returns data and meta", function()
    local client = sandbox.client()
    local data, err, meta = client:request("GET", "/orders/order-types", { query = { lang = "en" } })
    assert.is_nil(err)
    assert.equal(3, #data)
    assert.equal("dinein", data[3].type)
    assert.equal("Pick up ", data[1].translation.en) -- trailing space kept as sent
    assert.equal(200, meta.status)
    assert.truthy(meta.request_id:match("^%x+$"))
    assert.equal("application/json", meta.headers["content-type"])
    local seen = sandbox.requests()
    assert.equal(1, #seen)
    assert.equal("GET", seen[1].method)
    assert.equal("/orders/order-types", seen[1].path)
    assert.equal("lang=en", seen[1].query)
    assert.equal("(present)", seen[1].headers.authorization)
    assert.equal("application/json", seen[1].headers.accept)
    assert.equal("klikit-lua/" .. klikit.VERSION, seen[1].headers["user-agent"])
    assert.is_nil(seen[1].headers["idempotency-key"]) -- reads carry none
  end)

  it("reuses one connection across requests (keep-alive)", function()
    local client = sandbox.client()
    local _, _, first = client:request("GET", "/orders/order-types")
    local connects = 0
    for _ = 1, 20 do
      local _, err, meta = client:request("GET", "/orders/fulfillment-statuses")
      assert.is_nil(err)
      connects = connects + meta.connects
    end
    assert.is_true(first.connects <= 1)
    assert.equal(0, connects)
  end)

  it("percent-encodes query values and sorts keys", function()
    local client = sandbox.client()
    client:request("GET", "/orders/order-types", { query = { b = "x y&z=1", a = 5, c = true } })
    assert.equal("a=5&b=x%20y%26z%3D1&c=true", sandbox.requests()[1].query)
  end)

  it("sends JSON bodies with an Idempotency-Key on writes (caller's or a fresh UUIDv4)", function()
    local client = sandbox.client()
    local _, err, meta = client:request("POST", "/nowhere", { body = { a = 1 } })
    assert.equal("resource_not_found", err.code)
    assert.truthy(meta.idempotency_key:match("^%x+%-%x+%-4"))
    client:request("PATCH", "/nowhere", { body = '{"raw":true}', idempotency_key = "order-71280866-accept" })
    local seen = sandbox.requests()
    assert.equal('{"a":1}', seen[1].body)
    assert.equal("application/json", seen[1].headers["content-type"])
    assert.equal(meta.idempotency_key, seen[1].headers["idempotency-key"])
    assert.equal('{"raw":true}', seen[2].body)
    assert.equal("order-71280866-accept", seen[2].headers["idempotency-key"])
  end)

  it("rejects bad arguments with request_invalid before anything is sent", function()
    local client = sandbox.client()
    local bad = {
      { "get", "/orders" }, { "GET", "orders" }, { "GET", "/orders?size=1" }, { "GET", "/a/../b" },
      { "GET", "/orders", { query = { size = { 1, 2 } } } },
      { "GET", "/orders", { query = { x = "a\nb" } } },
      { "GET", "/orders", { headers = { Authorization = "Basic x" } } },
      { "GET", "/orders", { headers = { ["X-Trace"] = "a\r\nb" } } },
      { "POST", "/orders", { idempotency_key = string.rep("k", 65) } },
      { "POST", "/orders", { idempotency_key = "has space" } },
      { "POST", "/orders", { body = 42 } },
      { "GET", "/orders", { timeout = -1 } },
      { "GET", "/orders", { qurey = {} } },
    }
    for _, case in ipairs(bad) do
      local data, err = client:request(case[1], case[2], case[3])
      assert.is_nil(data)
      assert.equal("request_invalid", err.code, case[2])
    end
    assert.equal(0, #sandbox.requests())
  end)

  it("accepts any transport that follows the contract", function()
    local calls = {}
    local fake = {
      request = function(_, req)
        calls[#calls + 1] = req
        return { status = 200, headers = {},
          body = '{"request_id":"fake-1","data":[{"brands":[{"id":1,"title":"T"}]}]}' }
      end,
    }
    local client = klikit.new { partner_key = "pk", secret_key = "sk", base_url = "https://x.test/v1/partner",
      transport = fake, timeout = 5 }
    local brands = {}
    for b in client:brands() do brands[#brands + 1] = b.title end
    assert.same({ "T" }, brands)
    assert.equal("https://x.test/v1/partner/brands", calls[1].url)
    assert.equal("Basic " .. core.base64("pk:sk"), calls[1].headers.Authorization)
    assert.equal(5, calls[1].timeout)
    -- a transport failure given as a plain string becomes network_error
    fake.request = function() return nil, "socket closed" end
    local _, err = client:request("GET", "/brands")
    assert.equal("network_error", err.code)
    assert.is_true(err.retryable)
  end)
end)
