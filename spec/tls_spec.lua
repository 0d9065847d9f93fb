-- TLS against the sandbox served over HTTPS with a CA made at test time: verification is
-- on by default, an unknown CA is tls_verify_failed with a hint, ca_file fixes it, and
-- only an explicitly named option turns verification off.
local klikit = require "klikit"
local sandbox = require "support.sandbox"

describe("TLS", function()
  local https
  setup(function() https = sandbox.start_extra { SANDBOX_TLS = 1 } end)
  teardown(function() if https then https.stop() end end)

  local function client(extra)
    local opts = { partner_key = sandbox.partner_key, secret_key = sandbox.secret_key,
      base_url = https.base_url, retry = { max_attempts = 3 }, sleep = function() end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return klikit.new(opts)
  end

  it("refuses a server whose CA it does not trust, without retrying, with a ca_file hint", function()
    local data, err, meta = client():request("GET", "/orders/order-types")
    assert.is_nil(data)
    assert.equal("tls_verify_failed", err.code)
    assert.is_false(err.retryable)
    assert.equal(1, meta.attempts)
    assert.truthy(err.message:find("ca_file", 1, true))
    assert.is_nil(tostring(err):find(sandbox.secret_key, 1, true))
  end)

  it("a verbose trace tells why verification failed", function()
    local lines = {}
    local c = client { verbose = true, logger = function(_, m) lines[#lines + 1] = m end }
    local _, err = c:request("GET", "/orders/order-types")
    assert.equal("tls_verify_failed", err.code)
    local trace = table.concat(lines, "\n")
    assert.truthy(trace:find("* SSL certificate problem", 1, true), trace)
    assert.is_nil(trace:find(sandbox.secret_key, 1, true))
  end)

  it("works with ca_file naming the CA", function()
    local types = assert(client { ca_file = https.ca_file }:order_types())
    assert.equal("pickup", types[1].type)
  end)

  it("turns verification off only through insecure_skip_tls_verify = true, and says so", function()
    local c = client { insecure_skip_tls_verify = true }
    assert.truthy(c:order_types())
    assert.truthy(tostring(c):find("TLS VERIFICATION OFF", 1, true))
    local ok, err = pcall(klikit.new, { partner_key = "k", secret_key = "s", base_url = https.base_url,
      insecure_skip_tls_verify = "yes" })
    assert.is_false(ok)
    assert.equal("request_invalid", err.code)
    -- a bad ca_file never falls back to no verification
    local _, err2 = client { ca_file = "spec/helper.lua" }:request("GET", "/orders/order-types")
    assert.equal("tls_verify_failed", err2.code)
  end)
end)
