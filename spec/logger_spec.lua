-- The logger: one info line per attempt and per retry decision, curl's verbose trace as
-- debug lines when verbose = true, and never a credential in any of it.
local klikit = require "klikit"
local core = require "klikit.core"
local sandbox = require "support.sandbox"

local function capture()
  local lines = {}
  return lines, function(level, message) lines[#lines + 1] = { level = level, message = message } end
end

local function text_of(lines, level)
  local out = {}
  for _, l in ipairs(lines) do
    if not level or l.level == level then out[#out + 1] = l.message end
  end
  return table.concat(out, "\n")
end

local function assert_no_secret(text)
  local basic = core.base64(sandbox.partner_key .. ":" .. sandbox.secret_key)
  assert.is_nil(text:find(sandbox.secret_key, 1, true), "secret in log")
  assert.is_nil(text:find(basic, 1, true), "Basic credentials in log")
  assert.is_nil(text:find("Basic ", 1, true), "an Authorization value in log")
end

describe("logger", function()
  before_each(function() sandbox.reset() end)

  it("gets one info line per attempt, with status, time and request_id", function()
    local lines, logger = capture()
    local client = sandbox.client { logger = logger }
    local _, _, meta = assert(client:order_types())
    assert.equal(1, #lines)
    assert.equal("info", lines[1].level)
    assert.truthy(lines[1].message:find("^GET /orders/order%-types: 200 in %d+%.%d%d%d s %(attempt 1, request_id "
      .. meta.request_id .. "%)$"), lines[1].message)
  end)

  it("reports the failed attempt and the retry decision before the retry", function()
    local lines, logger = capture()
    local client = sandbox.client { logger = logger, retry = { max_attempts = 3 }, sleep = function() end }
    sandbox.faults { { kind = "error", status = 502, code = "downstream_unavailable" } }
    assert(client:order_types())
    local text = text_of(lines, "info")
    assert.truthy(text:find("GET /orders/order%-types: downstream_unavailable in [%d.]+ s %(attempt 1"), text)
    assert.truthy(text:find("GET /orders/order%-types: retrying in [%d.]+ s after downstream_unavailable "
      .. "%(attempt 1 of 3%)"), text)
    assert.truthy(text:find("GET /orders/order%-types: 200 in [%d.]+ s %(attempt 2"), text)
  end)

  it("with verbose = true routes curl's trace as debug lines, Authorization redacted", function()
    local lines, logger = capture()
    local client = sandbox.client { logger = logger, verbose = true }
    assert(client:update_order_status(sandbox.records()[1].id, { status = "cancelled", reason_code = "x" },
      { idempotency_key = "log-spec-1" }) or true)
    local debug = text_of(lines, "debug")
    assert.truthy(debug:find("> PATCH /v1/partner/orders/%d+/status HTTP/1.1"), debug)
    assert.truthy(debug:find("> Authorization: [redacted]", 1, true), debug)
    assert.truthy(debug:find("> Idempotency-Key: log-spec-1", 1, true), debug)
    assert.truthy(debug:find("< HTTP/1.1 %d%d%d"), debug)
    assert.truthy(debug:find("\n%* "), debug) -- curl's informational lines
    assert_no_secret(text_of(lines))
  end)

  it("traces the failure path too (a refused connection)", function()
    local lines, logger = capture()
    local client = klikit.new { partner_key = sandbox.partner_key, secret_key = sandbox.secret_key,
      base_url = "http://127.0.0.1:" .. sandbox.closed_port() .. "/v1/partner", logger = logger,
      verbose = true, retry = { max_attempts = 1 } }
    local _, err = client:order_types()
    assert.equal("network_error", err.code)
    local debug = text_of(lines, "debug")
    assert.truthy(debug:find("^%* ") or debug:find("\n%* "), debug)
    assert.truthy(debug:lower():find("connect"), debug)
  end)

  it("the C core redacts any Authorization it sends, and caps the trace", function()
    local t = core.new_transport {}
    local headers = { Authorization = "Basic c2VjcmV0LW9uZQ==", ["Proxy-Authorization"] = "Bearer two",
      ["X-Note"] = "authorization: three" }
    local resp = assert(t:request { url = sandbox.base_url .. "/orders/order-types", headers = headers,
      verbose = true })
    assert.truthy(resp.trace:find("> Authorization: [redacted]", 1, true))
    assert.truthy(resp.trace:find("> Proxy-Authorization: [redacted]", 1, true))
    assert.truthy(resp.trace:find("> X-Note: authorization: [redacted]", 1, true))
    for _, s in ipairs { "c2VjcmV0LW9uZQ", "two", "three" } do assert.is_nil(resp.trace:find(s, 1, true), s) end
    assert.is_nil(assert(t:request { url = sandbox.base_url .. "/orders/order-types" }).trace)

    for i = 1, 40 do headers["X-Big-" .. i] = string.rep("b", 8000) end
    local big = t:request { url = sandbox.base_url .. "/orders/order-types", headers = headers, verbose = true }
    assert.truthy(big.trace:find("* [trace truncated]\n", 1, true))
    assert.is_true(#big.trace <= 256 * 1024 + 32)
    t:close()
  end)

  it("refuses verbose without a logger and a logger that is not a function", function()
    for _, opts in ipairs { { verbose = true }, { logger = "stderr" }, { verbose = "yes", logger = print } } do
      local ok, err = pcall(sandbox.client, opts)
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
  end)

  it("a logger that raises does not break the request", function()
    local client = sandbox.client { logger = function() error("logger broke") end }
    assert.truthy(client:order_types())
  end)
end)
