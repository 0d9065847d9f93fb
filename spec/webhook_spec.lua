-- klikit.webhook.verify and parse: the docs' test vector, tampering, malformed signatures,
-- header spellings, bodies, event types; and the sandbox's independent signer agrees.
local webhook = require "klikit.webhook"
local core = require "klikit.core"
local sandbox = require "support.sandbox"

local function fixture()
  local f = assert(io.open("spec/fixtures/webhook-test-vector.json", "rb"))
  local v = assert(core.decode_json(f:read("*a")))
  f:close()
  return v
end

describe("klikit.webhook.verify", function()
  local v = fixture()
  local sig = v.headers["x-klikit-signature"]

  it("accepts the docs' test vector", function()
    assert.is_true(webhook.verify(v.raw_body, sig, v.secret))
  end)

  it("refuses a tampered body, another secret, and every malformed signature", function()
    local cases = {
      { v.raw_body .. " ", sig, v.secret }, { v.raw_body:gsub("42", "43"), sig, v.secret },
      { v.raw_body, sig, v.secret .. "x" }, { v.raw_body, sig:upper(), v.secret },
      { v.raw_body, sig:sub(1, 63), v.secret }, { v.raw_body, sig .. "0", v.secret },
      { v.raw_body, sig:sub(1, 63) .. "g", v.secret }, { v.raw_body, "", v.secret },
      { v.raw_body, nil, v.secret }, { v.raw_body, "sha256=" .. sig, v.secret },
      { v.raw_body, sig:sub(1, 32), v.secret },
    }
    for i, c in ipairs(cases) do
      local ok, err = webhook.verify(c[1], c[2], c[3])
      assert.is_nil(ok, "case " .. i)
      assert.equal("webhook_signature_invalid", err.code)
      assert.equal(401, err.status)
    end
  end)

  it("takes about as long for a malformed signature as for a wrong one", function()
    local body = string.rep("x", 200000)
    local function time(s)
      local t0 = core.monotonic()
      for _ = 1, 50 do webhook.verify(body, s, "secret") end
      return core.monotonic() - t0
    end
    local wrong, short = time(string.rep("0", 64)), time("0")
    assert.is_true(short > wrong * 0.5, string.format("short %.4f s, wrong %.4f s", short, wrong))
  end)

  it("raises for a body or a secret of the wrong type", function()
    assert.is_false(pcall(webhook.verify, nil, sig, v.secret))
    assert.is_false(pcall(webhook.verify, v.raw_body, sig, ""))
  end)

  it("agrees with the sandbox's own HMAC-SHA256 (an independent implementation)", function()
    local resp = sandbox.http("GET", "/_sandbox/webhooks/selftest")
    assert.equal(sig, core.decode_json(resp.body).hmac)
  end)
end)

describe("klikit.webhook.parse", function()
  local v = fixture()

  it("gives the event of a valid delivery, header names in any case", function()
    local headers = {}
    for k, x in pairs(v.headers) do headers[k:upper()] = x end
    local event = assert(webhook.parse(headers, v.raw_body, v.secret))
    assert.equal("test-00000000-0000-0000-0000-000000000000", event.id)
    assert.equal("klikit.order.created.v2", event.type)
    assert.equal(1, event.brand_id)
    assert.equal(2, event.branch_id)
    assert.equal(42, event.orders[1].id)
    assert.same({}, event.warnings)
  end)

  it("accepts x_klikit_* names (a proxy's rewrite) with a warning", function()
    local headers = {}
    for k, x in pairs(v.headers) do headers[k:gsub("%-", "_")] = x end
    local event = assert(webhook.parse(headers, v.raw_body, v.secret))
    assert.equal(3, #event.warnings)
    assert.truthy(event.warnings[1]:find("x_klikit", 1, true))
  end)

  it("names each failure: missing headers, bad signature, bad body, unknown event", function()
    local function with(changes, body)
      local h = {}
      for k, x in pairs(v.headers) do h[k] = x end
      for k, x in pairs(changes) do h[k] = x or nil end
      return webhook.parse(h, body or v.raw_body, v.secret)
    end
    local _, err = with { ["x-klikit-event-id"] = false }
    assert.equal("webhook_headers_missing", err.code)
    assert.truthy(err.message:find("x-klikit-event-id", 1, true))
    _, err = with { ["x-klikit-signature"] = string.rep("0", 64) }
    assert.equal("webhook_signature_invalid", err.code)
    for _, body in ipairs { "not json", "[]", '{"brand_id":1,"branch_id":2}',
        '{"brand_id":1,"branch_id":2,"orders":[{}]}' } do
      _, err = with({ ["x-klikit-signature"] = core.hmac_sha256_hex(v.secret, body) }, body)
      assert.equal("webhook_body_invalid", err.code, body)
    end
    _, err = with { ["x-klikit-event-type"] = "klikit.order.teleported" }
    assert.equal("webhook_event_unknown", err.code)
    assert.equal(42, err.event.orders[1].id)
  end)
end)
