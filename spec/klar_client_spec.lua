-- The Klar client over real HTTP against the sandbox's fake Klar: batching, Klar's three
-- answer shapes, what is retried and what is final, auth, status, and the fake's own rules.
local sandbox = require "support.sandbox"
local cjson = require "cjson.safe"

local function copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = copy(v) end
  return setmetatable(out, getmetatable(t))
end

-- Three orders, the second of them invalid (createdAt in milliseconds).
local function mixed()
  local list = {}
  for i = 1, 3 do list[i] = copy(sandbox.klar_orders(3)[i]) end
  list[2].createdAt = list[2].createdAt * 1000
  return list
end

local function post_raw(path, body)
  return sandbox.http("POST", path, body, { ["Content-Type"] = "application/json",
    Authorization = "Bearer " .. sandbox.klar_token })
end

describe("Klar client", function()
  before_each(function()
    sandbox.reset()
    sandbox.klar_mode {}
  end)

  for _, case in ipairs { { 1, 250, 1 }, { 250, 250, 1 }, { 1000, 250, 4 }, { 1001, 250, 5 }, { 2500, 250, 10 },
      { 1000, 1000, 1 }, { 1001, 1000, 2 }, { 2500, 1000, 3 } } do
    local n, size, batches = case[1], case[2], case[3]
    it(string.format("uploads %d orders in %d batches of at most %d, each stored once", n, batches, size), function()
      local kc = sandbox.klar_client { batch_size = size }
      local res = assert(kc:upload(sandbox.klar_orders(n)))
      assert.same({ sent = n, accepted = n, batches = batches, failed = {} }, res)
      local report = sandbox.klar_report()
      assert.equal(n, report.count)
      assert.equal(batches, report.requests)
      for _, k in ipairs(sandbox.klar_orders(n)) do assert.equal(1, report.uploads[k.id]) end
    end)
  end

  it("sends each batch as a bare JSON array to /<version>/orders/json?failedOrderIds=true, Bearer auth", function()
    assert(sandbox.klar_client():upload(sandbox.klar_orders(1)))
    local req = sandbox.requests()[1]
    assert.equal("/klar/12.2022/orders/json?failedOrderIds=true", req.uri)
    assert.equal("(present)", req.headers.authorization)
    assert.is_nil(req.headers["idempotency-key"])
    assert.equal("[", req.body:sub(1, 1))
  end)

  it("refuses bad options and bad order lists before sending anything", function()
    for _, bad in ipairs { { batch_size = 0 }, { batch_size = 1001 }, { batch_size = 2.5 }, { version = "2022-12" },
        { token = "has space" }, { token = "" }, { nonsense = 1 } } do
      local ok, err = pcall(sandbox.klar_client, bad)
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
    local kc = sandbox.klar_client()
    for _, bad in ipairs { { { id = 5 } }, { "x" }, { [2] = { id = "a" } }, "orders" } do
      local res, err = kc:upload(bad)
      assert.is_nil(res)
      assert.equal("request_invalid", err.code)
    end
    assert.equal(0, sandbox.klar_report().requests)
  end)

  it("reads 207 PARTIALLY_VALID: the valid orders are stored, the failed one reported, nothing retried", function()
    local kc = sandbox.klar_client { retry = { max_attempts = 5, base_delay = 0.01 } }
    local orders = mixed()
    local res = assert(kc:upload(orders))
    assert.equal(2, res.accepted)
    local ids = {}
    for id in pairs(res.failed) do ids[#ids + 1] = id end
    assert.same({ orders[2].id }, ids)
    assert.truthy(res.failed[orders[2].id][1]:find("createdAt", 1, true), res.failed[orders[2].id][1])
    local report = sandbox.klar_report()
    assert.equal(1, report.requests)
    assert.equal(2, report.count)
    assert.is_nil(report.uploads[orders[2].id])
  end)

  it("reads 400 INVALID with error objects: the whole batch is refused, the bad order named", function()
    sandbox.klar_mode { partial = false }
    local orders = mixed()
    local res = assert(sandbox.klar_client { retry = { max_attempts = 5, base_delay = 0.01 } }:upload(orders))
    assert.equal(0, res.accepted)
    local msg = res.failed[orders[2].id][1]
    assert.truthy(msg:find("1.createdAt: has to be a unix timestamp!", 1, true), msg)
    assert.truthy(res.failed[orders[1].id][1]:find("not stored", 1, true))
    assert.equal(1, sandbox.klar_report().requests)
    assert.equal(0, sandbox.klar_report().count)
  end)

  it("reads 400 INVALID with error strings and failed ids under orderIds or failedOrderIds", function()
    for _, key in ipairs { "orderIds", "failedOrderIds" } do
      sandbox.klar_mode { partial = false, error_style = "strings", ids_key = key }
      local orders = mixed()
      local res = assert(sandbox.klar_client():upload(orders))
      local msg = res.failed[orders[2].id][1]
      assert.truthy(msg:find("^orders%.1%.createdAt: %(%d+%) has to be a unix timestamp! %(isTimestamp%)$"), msg)
    end
  end)

  it("reads the raw class-validator tree and NestJS's message list, by array index", function()
    local orders = mixed()
    local kc = sandbox.klar_client()
    local tree = cjson.encode { { property = "1", children = { { property = "createdAt", constraints =
      { isTimestamp = "has to be a unix timestamp!" }, children = {} } } } }
    sandbox.faults({ { kind = "raw", status = 400, body = tree, content_type = "application/json" } }, "/klar")
    local res = assert(kc:upload(orders))
    assert.same({ "1.createdAt: has to be a unix timestamp! (isTimestamp)" }, res.failed[orders[2].id])
    assert.equal(0, res.accepted)
    local nest = cjson.encode { statusCode = 400, error = "Bad Request",
      message = { "2.currencyCodeIso3Letter must be a string" } }
    sandbox.faults({ { kind = "raw", status = 400, body = nest, content_type = "application/json" } }, "/klar")
    res = assert(kc:upload(orders))
    assert.same({ "2.currencyCodeIso3Letter must be a string" }, res.failed[orders[3].id])
  end)

  it("counts a PARTIALLY_VALID naming no order as all rejected, an unknown status as unexpected_shape", function()
    local kc = sandbox.klar_client()
    local orders = mixed()
    sandbox.faults({ { kind = "raw", status = 207, body = '{"status":"PARTIALLY_VALID","errors":["something"]}',
      content_type = "application/json" } }, "/klar")
    local res = assert(kc:upload(orders))
    assert.equal(0, res.accepted)
    assert.same({ "something" }, res.failed[orders[3].id])
    sandbox.faults({ { kind = "raw", status = 201, body = '{"status":"MAYBE"}', content_type = "application/json" } },
      "/klar")
    local none, err = kc:upload(orders)
    assert.is_nil(none)
    assert.equal("unexpected_shape", err.code)
    assert.equal(0, err.progress.batches)
  end)

  it("counts as accepted only what Klar confirms", function()
    local kc = sandbox.klar_client()
    local orders = sandbox.klar_orders(3)
    local a, b, c = orders[1].id, orders[2].id, orders[3].id
    local function answer(status, body)
      sandbox.faults({ { kind = "raw", status = status, body = body, content_type = "application/json" } }, "/klar")
      return kc:upload(orders)
    end
    -- an order in neither list was not confirmed
    local res = assert(answer(207, string.format('{"status":"PARTIALLY_VALID","failedOrderIds":["%s"],'
      .. '"successfulOrderIds":["%s"]}', a, b)))
    assert.equal(1, res.accepted)
    assert.truthy(res.failed[c][1]:find("successfulOrderIds", 1, true))
    -- a 207 without a status still names its failures
    res = assert(answer(207, string.format('{"failedOrderIds":[%s],"successfulOrderIds":["%s","%s"]}', a, b, c)))
    assert.equal(2, res.accepted)
    assert.truthy(res.failed[a])
    -- VALID on an error status is a contradiction, not a success
    local none, err = answer(400, '{"status":"VALID"}')
    assert.is_nil(none)
    assert.equal("unexpected_shape", err.code)
  end)

  it("sends a batch Klar finds too large (413) again in halves", function()
    local kc = sandbox.klar_client { batch_size = 100 }
    sandbox.faults({ { kind = "raw", status = 413, body = "<html>Request Entity Too Large</html>" } }, "/klar")
    local res = assert(kc:upload(sandbox.klar_orders(100)))
    assert.equal(100, res.accepted)
    assert.equal(100, sandbox.klar_report().count)
    assert.equal(3, #sandbox.requests())
  end)

  it("takes a 2xx without a body as success (Klar's older 200)", function()
    sandbox.faults({ { kind = "raw", status = 200, body = "", content_type = "application/json" } }, "/klar")
    local res = assert(sandbox.klar_client():upload(sandbox.klar_orders(3)))
    assert.equal(3, res.accepted)
  end)

  it("retries 408, 425, 429, 5xx and cut connections, then succeeds", function()
    local kc = sandbox.klar_client { retry = { max_attempts = 8, base_delay = 0.01, max_delay = 0.02 } }
    sandbox.faults({ { kind = "raw", status = 408, body = "{}" }, { kind = "raw", status = 425, body = "{}" },
      { kind = "raw", status = 429, body = "{}", headers = { ["Retry-After"] = "0" } },
      { kind = "raw", status = 503, body = "<html>down</html>" }, { kind = "raw", status = 500, body = "oops" },
      { kind = "close" } }, "/klar")
    local res, err, meta = kc:upload(sandbox.klar_orders(3))
    assert(res, tostring(err))
    assert.equal(3, res.accepted)
    -- libcurl itself sends again on a reused connection closed before any answer
    assert.is_true(meta.attempts == 6 or meta.attempts == 7, "attempts " .. meta.attempts)
    assert.equal(7, #sandbox.requests())
    assert.equal(3, sandbox.klar_report().count)
  end)

  it("answers lost after being applied are sent again: every order stored, none lost", function()
    sandbox.chaos { rate = 0.3, kinds = { "lost" }, seed = 3 }
    local kc = sandbox.klar_client { batch_size = 50,
      retry = { max_attempts = 12, base_delay = 0.001, max_delay = 0.005 } }
    local res, err = kc:upload(sandbox.klar_orders(1000))
    sandbox.chaos { rate = 0 }
    assert(res, tostring(err))
    assert.equal(1000, res.accepted)
    local report = sandbox.klar_report()
    assert.equal(1000, report.count)
    assert.is_true(report.requests > 20, "some answers were lost")
  end)

  it("does not retry a 4xx it does not know, and reports how far it got", function()
    local kc = sandbox.klar_client { batch_size = 2, retry = { max_attempts = 5, base_delay = 0.01 } }
    sandbox.faults({ { kind = "raw", status = 404, body = '{"statusCode":404}', match_query = "failedOrderIds" } },
      "/klar")
    local none, err = kc:upload(sandbox.klar_orders(3))
    assert.is_nil(none)
    assert.equal("klar_error", err.code)
    assert.equal(404, err.status)
    assert.is_false(err.retryable)
    assert.equal("klar", err.api)
    assert.same({ sent = 0, accepted = 0, batches = 0, failed = {} }, err.progress)
  end)

  it("gives klar_auth for a refused token, once, without the token anywhere", function()
    local kc = sandbox.klar_client { token = "klar_wrong_token_value", retry = { max_attempts = 5, base_delay = 0.01 } }
    local none, err = kc:upload(sandbox.klar_orders(1))
    assert.is_nil(none)
    assert.equal("klar_auth", err.code)
    assert.equal(401, err.status)
    assert.equal(1, sandbox.klar_report().requests)
    assert.falsy(tostring(err):find("klar_wrong_token_value", 1, true))
  end)

  it("never shows the token, even when Klar echoes it", function()
    local kc = sandbox.klar_client()
    sandbox.faults({ { kind = "raw", status = 500, body = "token was Bearer " .. sandbox.klar_token } }, "/klar")
    local _, err = kc:upload(sandbox.klar_orders(1))
    assert.equal("klar_error", err.code)
    assert.falsy(tostring(err):find(sandbox.klar_token, 1, true))
    assert.falsy(err.message:find(sandbox.klar_token, 1, true))
    assert.falsy(tostring(kc):find(sandbox.klar_token, 1, true))
  end)

  it("keeps the token out of a message cut in the middle of it, and out of error details", function()
    local kc = sandbox.klar_client()
    for pad = 185, 200 do
      sandbox.faults({ { kind = "raw", status = 502, body = string.rep("x", pad) .. "Bearer " .. sandbox.klar_token } },
        "/klar")
      local _, err = kc:upload(sandbox.klar_orders(1))
      assert.falsy(tostring(err):find(sandbox.klar_token:sub(1, 6), 1, true), tostring(err))
    end
    sandbox.faults({ { kind = "raw", status = 400, content_type = "application/json",
      body = '{"message":"you sent Bearer ' .. sandbox.klar_token .. '"}' } }, "/klar")
    local _, err = kc:status()
    assert.equal("klar_error", err.code)
    local function walk(v)
      if type(v) == "string" then assert.falsy(v:find(sandbox.klar_token, 1, true)) end
      if type(v) == "table" then for k, x in pairs(v) do walk(k) walk(x) end end
    end
    walk(err)
  end)

  it("status() gives numbers and Unix seconds for Klar's strings", function()
    local kc = sandbox.klar_client()
    assert.same({ total = 0, last_batch_count = 0 }, assert(kc:status()))
    local before = os.time()
    assert(kc:upload(sandbox.klar_orders(3)))
    assert(kc:upload(mixed()))
    local st = assert(kc:status())
    assert.equal(5, st.total)
    assert.equal(2, st.last_batch_count)
    assert.is_true(st.last_success >= before - 1 and st.last_success <= os.time() + 1)
    assert.is_true(st.last_failure >= before - 1)
    assert.equal(math.floor(st.last_success), st.last_success)
  end)

  it("validate() checks without storing", function()
    local kc = sandbox.klar_client()
    local orders = mixed()
    local res = assert(kc:validate(orders))
    assert.equal(2, res.accepted)
    assert.truthy(res.failed[orders[2].id][1]:find("isTimestamp", 1, true))
    assert.equal(0, sandbox.klar_report().count)
    assert.equal("/klar/12.2022/orders/validate?failedOrderIds=true", sandbox.requests()[1].uri)
  end)
end)

describe("fake Klar enforces the documented rules", function()
  local function refused(mutate, rule)
    local o = copy(sandbox.klar_orders(1)[1])
    local body = mutate(o) or cjson.encode { o }
    local resp = post_raw("/klar/12.2022/orders/validate?failedOrderIds=true", body)
    assert.equal(400, resp.status, resp.body)
    assert.truthy(resp.body:find(rule, 1, true), resp.body)
  end

  it("string ids", function()
    refused(function(o) return (cjson.encode { o }:gsub('"id":"(%d+)"', '"id":%1', 1)) end, "isString")
  end)
  it("Unix seconds, not ms", function() refused(function(o) o.createdAt = o.createdAt * 1000 end, "isTimestamp") end)
  it("Unix seconds, not ISO", function()
    refused(function(o) o.updatedAt = "2026-06-24T10:10:14Z" end, "isTimestamp")
  end)
  it("cancelledAt 0", function() refused(function(o) o.cancelledAt = 0 end, "isTimestamp") end)
  it("numbers, not strings", function() refused(function(o) o.lineItems[1].productGmv = "7700" end, "isNumber") end)
  it("amounts >= 0", function()
    refused(function(o) o.shipping.shippingTotalAmountBeforeTaxAndDiscounts = -1 end, "isPositive")
  end)
  it("tax rates as fractions", function()
    refused(function(o) o.lineItems[1].taxes = { { title = "VAT", taxRate = 11, taxAmount = 1 } } end, "fraction")
  end)
  it("at most 1000 orders per request", function()
    local list = {}
    for i = 1, 1001 do list[i] = sandbox.klar_orders(1001)[i] end
    local resp = post_raw("/klar/12.2022/orders/json?failedOrderIds=true", require("klikit.http.json").encode(list))
    assert.equal(400, resp.status)
    assert.truthy(resp.body:find("arrayMaxSize", 1, true))
    assert.equal(0, sandbox.klar_report().count)
  end)
  it("Bearer auth", function()
    local resp = sandbox.http("POST", "/klar/12.2022/orders/json", "[]", { ["Content-Type"] = "application/json" })
    assert.equal(401, resp.status)
  end)
  it("answers the raw tree without failedOrderIds=true", function()
    local o = copy(sandbox.klar_orders(1)[1])
    o.createdAt = "yesterday"
    local resp = post_raw("/klar/12.2022/orders/validate", cjson.encode { o })
    assert.equal(400, resp.status)
    local tree = cjson.decode(resp.body)
    assert.is_nil(tree.status)
    assert.equal("0", tree[1].property)
    assert.equal("createdAt", tree[1].children[1].property)
  end)
end)
