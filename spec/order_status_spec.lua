-- PATCH /orders/{id}/status: the request sent, the result, validation, the state machine,
-- and idempotency (a replayed key is applied once; another body with it is refused).
local sandbox = require "support.sandbox"
local cjson = require "cjson"

-- An order that is still placed (status 1) in the regenerated data.
local function open_order(status)
  for _, r in ipairs(sandbox.records()) do
    if r.status == status then return r end
  end
end

describe("client:update_order_status", function()
  before_each(function() sandbox.reset { data = true } end)

  it("sends PATCH with the JSON body and an Idempotency-Key, and returns { id, status, updated_at }", function()
    local r = open_order(1)
    local client = sandbox.client()
    local data, err, meta = client:update_order_status(r.id, { status = "accepted",
      occurred_at = "2026-11-01T10:00:00Z" }, { idempotency_key = "accept-" .. r.id })
    assert.is_nil(err)
    assert.same({ id = tostring(r.id), status = "accepted", updated_at = "2026-11-01T10:00:00Z" }, data)
    assert.equal("accept-" .. r.id, meta.idempotency_key)
    local req = sandbox.requests()[1]
    assert.equal("PATCH", req.method)
    assert.equal("/orders/" .. r.id .. "/status", req.path)
    assert.equal("", req.query)
    assert.same({ status = "accepted", occurred_at = "2026-11-01T10:00:00Z" }, cjson.decode(req.body))
    assert.equal("application/json", req.headers["content-type"])
    assert.equal("accept-" .. r.id, req.headers["idempotency-key"])
    local order = assert(client:order(r.id))
    assert.equal(2, order.status)
    assert.equal(2, order.order_status_histories[#order.order_status_histories].status)
  end)

  it("generates a fresh UUIDv4 key per call when none is given", function()
    local r = open_order(1)
    local client = sandbox.client()
    local _, _, m1 = client:update_order_status(r.id, { status = "accepted" })
    local _, _, m2 = client:update_order_status(r.id, { status = "ready" })
    assert.truthy(m1.idempotency_key:match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"))
    assert.are_not.equal(m1.idempotency_key, m2.idempotency_key)
  end)

  it("moves an order through its states and refuses an invalid transition", function()
    local r = open_order(1)
    local client = sandbox.client()
    assert.truthy(client:update_order_status(r.id, { status = "accepted" }))
    assert.truthy(client:update_order_status(r.id, { status = "ready" }))
    local data, err = client:update_order_status(r.id, { status = "accepted" })
    assert.is_nil(data)
    assert.equal("state_invalid_transition", err.code)
    assert.equal(409, err.status)
    assert.is_false(err.retryable)
    assert.truthy(client:update_order_status(r.id, { status = "cancelled", reason_code = "out_of_items" }))
    local order = client:order(r.id)
    assert.equal(3, order.status)
    assert.equal("out_of_items", order.cancellation_reason)
  end)

  it("sends `rejected` with its reason code", function()
    local r = open_order(1)
    local data = assert(sandbox.client():update_order_status(r.id, { status = "rejected", reason_code = "closed" }))
    assert.equal("rejected", data.status)
    assert.same({ status = "rejected", reason_code = "closed" }, cjson.decode(sandbox.requests()[1].body))
  end)

  it("validates before sending: alias, reason_code, occurred_at, id, key, unknown fields", function()
    local client = sandbox.client()
    local cases = {
      { 71000002, { status = "delivered" } }, { 71000002, { status = 4 } },
      { 71000002, { status = "cancelled" } }, { 71000002, { status = "rejected", reason_code = "" } },
      { 71000002, { status = "accepted", occurred_at = "noon" } },
      { 71000002, { status = "accepted", note = "x" } }, { 71000002, "accepted" },
      { -1, { status = "accepted" } }, { "../brands", { status = "accepted" } },
    }
    for _, c in ipairs(cases) do
      local data, err = client:update_order_status(c[1], c[2])
      assert.is_nil(data)
      assert.equal("request_invalid", err.code)
      assert.equal("PATCH", err.method)
    end
    local _, err = client:update_order_status(71000002, { status = "accepted" },
      { idempotency_key = string.rep("x", 65) })
    assert.equal("request_invalid", err.code)
    _, err = client:update_order_status(71000002, { status = "accepted" }, { idempotency_kye = "x" })
    assert.equal("request_invalid", err.code)
    assert.equal(0, #sandbox.requests())
  end)

  it("applies a replayed key once and replays the recorded answer", function()
    local r = open_order(1)
    local client = sandbox.client()
    local before = sandbox.stats().writes_applied
    local fields, opts = { status = "accepted" }, { idempotency_key = "replay-" .. r.id }
    local first, err1, m1 = client:update_order_status(r.id, fields, opts)
    local second, err2, m2 = client:update_order_status(r.id, fields, opts)
    assert.is_nil(err1)
    assert.is_nil(err2) -- without the store the second call would be an invalid transition
    assert.same(first, second)
    assert.equal(m1.request_id, m2.request_id) -- the recorded response, byte for byte
    assert.equal("true", m2.headers["idempotent-replayed"])
    assert.equal(before + 1, sandbox.stats().writes_applied)
    local order = client:order(r.id)
    local accepted = 0
    for _, h in ipairs(order.order_status_histories) do if h.status == 2 then accepted = accepted + 1 end end
    assert.equal(1, accepted)
  end)

  it("refuses the same key with another body (state_idempotency_conflict)", function()
    local r = open_order(1)
    local client = sandbox.client()
    local opts = { idempotency_key = "conflict-" .. r.id }
    assert.truthy(client:update_order_status(r.id, { status = "accepted" }, opts))
    local data, err = client:update_order_status(r.id, { status = "cancelled", reason_code = "dup" }, opts)
    assert.is_nil(data)
    assert.equal("state_idempotency_conflict", err.code)
    assert.equal(409, err.status)
    assert.equal(2, client:order(r.id).status)
  end)

  it("the sandbox answers request_missing_idempotency_key when the header is absent", function()
    local r = open_order(1)
    local auth = "Basic " .. require("klikit.core").base64(sandbox.partner_key .. ":" .. sandbox.secret_key)
    local resp = sandbox.http("PATCH", "/v1/partner/orders/" .. r.id .. "/status", '{"status":"accepted"}',
      { Authorization = auth, ["Content-Type"] = "application/json" })
    assert.equal(400, resp.status)
    assert.truthy(resp.body:find("request_missing_idempotency_key", 1, true))
  end)

  it("gives auth_forbidden to a credential without the write scope", function()
    local r = open_order(1)
    local _, err = sandbox.client(sandbox.limited):update_order_status(r.id, { status = "accepted" })
    assert.equal("auth_forbidden", err.code)
  end)

  it("returns resource_not_found for an unknown order", function()
    local _, err = sandbox.client():update_order_status(1, { status = "accepted" })
    assert.equal("resource_not_found", err.code)
  end)
end)

describe("order enums", function()
  it("serves order types and fulfillment statuses", function()
    local client = sandbox.client()
    local types = assert(client:order_types())
    assert.equal("dinein", types[3].type)
    local statuses = assert(client:fulfillment_statuses())
    assert.equal("CANCELED", statuses[9].status)
  end)

  it("ships the code tables as data and leaves unknown codes alone", function()
    local enums = require("klikit").enums
    assert.equal("cancelled", enums.name(enums.ORDER_STATUS, 3))
    assert.equal("maxim", enums.name(enums.PROVIDERS, 17))
    assert.equal("dinein", enums.ORDER_TYPES[3])
    assert.equal("CANCELED", enums.FULFILLMENT_STATUSES[9])
    assert.is_nil(enums.name(enums.ORDER_STATUS, 42))
  end)
end)
