-- Every error path, over real HTTP: what klikit can answer (both vocabularies), what a
-- proxy can answer, and what the network can do. Plus the catalogue in klikit.errors.
local klikit = require "klikit"
local sandbox = require "support.sandbox"

local SECRET = sandbox.secret_key

local function assert_no_secret(err)
  local text = tostring(err)
  for k, v in pairs(err) do text = text .. " " .. tostring(k) .. "=" .. tostring(v) end
  assert.is_nil(text:find(SECRET, 1, true))
  assert.is_nil(text:find(require("klikit.core").base64(sandbox.partner_key .. ":" .. SECRET), 1, true))
end

describe("klikit.errors", function()
  it("catalogues every code with its HTTP status, retryability and meaning", function()
    local expected = {
      "auth_missing", "auth_invalid_credential", "auth_revoked", "auth_forbidden", "request_invalid",
      "request_missing_idempotency_key", "request_invalid_range", "resource_not_found",
      "resource_unmapped", "state_invalid_transition", "state_idempotency_conflict",
      "rate_limit_exceeded", "downstream_unavailable", "internal", "api_error",
      "network_error", "timeout", "tls_verify_failed", "decode_failed", "http_error", "response_too_large",
      "unexpected_shape", "walk_unsorted", "walk_out_of_range", "walk_incomplete", "deadline_exceeded",
      "client_closed", "klar_invalid", "klar_auth", "klar_error", "klar_unmappable", "export_locked",
      "export_state_invalid", "webhook_headers_missing", "webhook_signature_invalid", "webhook_body_invalid",
      "webhook_event_unknown",
    }
    for _, code in ipairs(expected) do
      local e = klikit.errors[code]
      assert.is_table(e, code)
      assert.is_string(e.meaning)
      assert.truthy(e.retryable == true or e.retryable == false or e.retryable == "by_status")
    end
    local n = 0
    for _ in pairs(klikit.errors) do n = n + 1 end
    assert.equal(#expected, n)
    assert.equal(401, klikit.errors.auth_missing.status)
    assert.is_true(klikit.errors.rate_limit_exceeded.retryable)
    assert.is_false(klikit.errors.request_invalid.retryable)
  end)
end)

describe("errors from klikit", function()
  before_each(function() sandbox.reset() end)

  it("wrong secret gives auth_invalid_credential (401), never echoing the secret", function()
    local client = sandbox.client { secret_key = "wrong-secret" }
    local data, err, meta = client:request("GET", "/orders")
    assert.is_nil(data)
    assert.equal("auth_invalid_credential", err.code)
    assert.equal(401, err.status)
    assert.equal(401, meta.status)
    assert.is_false(err.retryable)
    assert.equal("auth_invalid_credential", err.raw_code)
    assert.truthy(err.request_id)
    assert.is_nil(tostring(err):find("wrong-secret", 1, true))
  end)

  it("unknown key gives auth_invalid_credential; revoked gives auth_revoked (403)", function()
    local _, err = sandbox.client { partner_key = "pk_nobody" }:request("GET", "/brands")
    assert.equal("auth_invalid_credential", err.code)
    _, err = sandbox.client(sandbox.revoked):request("GET", "/brands")
    assert.equal("auth_revoked", err.code)
    assert.equal(403, err.status)
  end)

  it("a request without Authorization gets the documented 401 auth_missing", function()
    local resp = sandbox.http("GET", "/v1/partner/orders")
    assert.equal(401, resp.status)
    local ok, parts = require("klikit.core").decode_envelope(resp.status, resp.body)
    assert.is_false(ok)
    assert.equal("auth_missing", require("klikit.errors").from_envelope(parts).code)
  end)

  it("an unknown endpoint gives resource_not_found", function()
    local _, err = sandbox.client():request("GET", "/no/such/thing")
    assert.equal("resource_not_found", err.code)
    assert.equal(404, err.status)
  end)

  it("normalises the UPPER_SNAKE vocabulary and keeps the raw code", function()
    local client = sandbox.client()
    local cases = {
      { 401, "MISSING_AUTH", "auth_missing" }, { 401, "INVALID_CREDENTIALS", "auth_invalid_credential" },
      { 403, "FORBIDDEN_SCOPE", "auth_forbidden" }, { 400, "REQUEST_INVALID", "request_invalid" },
      { 404, "RESOURCE_NOT_FOUND", "resource_not_found" }, { 404, "not_found", "resource_not_found" },
      { 409, "IDEMPOTENCY_KEY_CONFLICT", "state_idempotency_conflict" },
      { 422, "INVALID_TRANSITION", "state_invalid_transition" },
      { 409, "state_invalid_transition", "state_invalid_transition" },
      { 429, "RATE_LIMITED", "rate_limit_exceeded" }, { 502, "DOWNSTREAM_UNAVAILABLE", "downstream_unavailable" },
      { 500, "INTERNAL", "internal" }, { 401, "auth_revoked", "auth_revoked" },
    }
    for _, c in ipairs(cases) do
      sandbox.faults { { kind = "error", status = c[1], code = c[2], message = "scripted " .. c[2] } }
      local _, err = client:request("GET", "/orders/order-types")
      assert.equal(c[3], err.code, c[2])
      assert.equal(c[2], err.raw_code)
      assert.equal(c[1], err.status)
      assert.equal("scripted " .. c[2], err.message)
      assert.equal(c[1] == 429 or c[1] >= 500, err.retryable, c[2])
    end
  end)

  it("handles the authentication page's FORBIDDEN_SCOPE without request_id", function()
    sandbox.faults { { kind = "error", status = 403, code = "FORBIDDEN_SCOPE",
      message = "credential is not scoped for menus:oos", request_id = false } }
    local _, err = sandbox.client():request("GET", "/brands")
    assert.equal("auth_forbidden", err.code)
    assert.is_nil(err.request_id)
    assert.truthy(tostring(err):find("no request_id", 1, true))
  end)

  it("maps codes it does not know to api_error, retryable by status", function()
    local client = sandbox.client()
    sandbox.faults { { kind = "error", status = 418, code = "menu_locked", message = "locked" } }
    local _, err = client:request("GET", "/brands")
    assert.equal("api_error", err.code)
    assert.equal("menu_locked", err.raw_code)
    assert.is_false(err.retryable)
    sandbox.faults { { kind = "error", status = 503, code = "timeout", message = "upstream" } }
    _, err = client:request("GET", "/brands")
    assert.equal("api_error", err.code) -- a server cannot claim a client-side code
    assert.is_true(err.retryable)
  end)

  it("reads Retry-After seconds on 429", function()
    sandbox.faults { { kind = "error", status = 429, code = "rate_limit_exceeded", message = "slow down",
      headers = { ["Retry-After"] = "7" } } }
    local _, err = sandbox.client():request("GET", "/brands")
    assert.equal("rate_limit_exceeded", err.code)
    assert.equal(7, err.retry_after)
    assert.is_true(err.retryable)
  end)
end)

describe("errors from proxies and broken bodies", function()
  before_each(function() sandbox.reset() end)

  it("an HTML 502 becomes a retryable http_error quoting the page title", function()
    sandbox.faults { { kind = "raw", status = 502, content_type = "text/html",
      body = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>" } }
    local _, err = sandbox.client():request("GET", "/brands")
    assert.equal("http_error", err.code)
    assert.equal(502, err.status)
    assert.is_true(err.retryable)
    assert.is_nil(err.request_id)
    assert.truthy(err.message:find("502 Bad Gateway", 1, true))
  end)

  it("a truncated JSON 200 becomes decode_failed; a truncated JSON 500 http_error", function()
    local client = sandbox.client()
    sandbox.faults { { kind = "raw", status = 200, content_type = "application/json",
      body = '{"request_id":"abc","data":{"orders":[{"id":1' } }
    local _, err = client:request("GET", "/orders")
    assert.equal("decode_failed", err.code)
    assert.equal(200, err.status)
    sandbox.faults { { kind = "raw", status = 500, content_type = "application/json",
      body = '{"request_id":"abc","err' } }
    _, err = client:request("GET", "/orders")
    assert.equal("http_error", err.code)
    assert.is_true(err.retryable)
  end)

  it("an empty 503 is an http_error; an empty 204 is success with no data", function()
    local client = sandbox.client()
    sandbox.faults { { kind = "raw", status = 503, body = "" } }
    local _, err = client:request("GET", "/brands")
    assert.equal("http_error", err.code)
    assert.equal(503, err.status)
    sandbox.faults { { kind = "raw", status = 204, body = "" } }
    local data, err2, meta = client:request("GET", "/brands")
    assert.is_nil(data)
    assert.is_nil(err2)
    assert.equal(204, meta.status)
  end)

  it("refuses a body larger than max_body_bytes", function()
    local client = sandbox.client { max_body_bytes = 4096 }
    local _, err = client:request("GET", "/orders", { query = { size = 5 } })
    assert.equal("response_too_large", err.code)
    assert.is_false(err.retryable)
    assert.truthy(client:request("GET", "/orders/order-types")) -- the handle stays usable
  end)
end)

describe("errors from the network", function()
  before_each(function() sandbox.reset() end)

  it("connection refused gives a retryable network_error", function()
    local client = sandbox.client { base_url = "http://127.0.0.1:" .. sandbox.closed_port() .. "/v1/partner" }
    local data, err = client:request("GET", "/orders")
    assert.is_nil(data)
    assert.equal("network_error", err.code)
    assert.is_true(err.retryable)
    assert.is_nil(err.status)
    assert.is_number(err.curl_code)
    assert_no_secret(err)
  end)

  it("a dropped connection gives network_error", function()
    sandbox.faults { { kind = "close" } }
    local _, err = sandbox.client():request("GET", "/brands")
    assert.equal("network_error", err.code)
  end)

  it("a stalled server gives a retryable timeout within the deadline", function()
    sandbox.faults { { kind = "stall", seconds = 3 } }
    local client = sandbox.client { timeout = 0.5 }
    local started = os.time()
    local _, err = client:request("GET", "/brands")
    assert.equal("timeout", err.code)
    assert.is_true(err.retryable)
    assert.is_true(os.time() - started <= 2)
    -- per-call timeout overrides the client's
    sandbox.faults { { kind = "stall", seconds = 3 } }
    _, err = sandbox.client():request("GET", "/brands", { timeout = 0.3 })
    assert.equal("timeout", err.code)
  end)
end)

describe("a walk that fails", function()
  before_each(function() sandbox.reset() end)

  local function fail_page_two()
    -- queued after page 1 arrived: the next page gets a 502 proxy page
    sandbox.faults { { kind = "raw", path = "/orders", status = 502, content_type = "text/html",
      body = "<html><title>502 Bad Gateway</title></html>" } }
  end

  it("never looks finished: the for loop raises a message naming code, status and request_id", function()
    sandbox.faults { { kind = "error", status = 500, code = "INTERNAL", message = "boom" }, }
    -- first page fails
    local client = sandbox.client()
    local seen = 0
    local ok, err = pcall(function()
      for _ in client:orders { size = 10 } do seen = seen + 1 end
    end)
    assert.is_false(ok)
    assert.equal(0, seen)
    assert.equal("internal", err.code)
    local text = tostring(err)
    assert.truthy(text:find("internal", 1, true))
    assert.truthy(text:find("HTTP 500", 1, true))
    assert.truthy(text:find("request_id " .. err.request_id, 1, true))
    assert_no_secret(err)
  end)

  it("stops mid-walk after yielding the pages that did arrive; pager keeps the error", function()
    local client = sandbox.client()
    local pager = client:orders { size = 10 }
    local got = {}
    for _ = 1, 10 do got[#got + 1] = pager:next().id end
    fail_page_two()
    local item, err = pager:next()
    assert.is_nil(item)
    assert.equal("http_error", err.code)
    assert.equal(502, err.status)
    assert.equal(err, pager.err)
    assert.same({ nil, err }, { pager:next() }) -- stays failed: never a silent end
    assert.equal(10, pager.yielded)
    local ok, raised = pcall(function() for _ in pager do end end)
    assert.is_false(ok)
    assert.equal(err, raised)
  end)

  -- (the plain Lua 5.1 interpreter prints any error object as "(error object is not a
  -- string)"; LuaJIT and 5.2+ call its __tostring)
  local plain51 = _VERSION == "Lua 5.1" and not rawget(_G, "jit")
  it("raises an uncaught walk error that the interpreter prints readably", function()
    if plain51 then return end
    local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
    local script = string.format([[
      local c = require("klikit").new{ partner_key = "pk_test_klikit", secret_key = "wrong",
        base_url = %q }
      for o in c:orders{} do end]], sandbox.base_url)
    local p = assert(io.popen(string.format("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' "
      .. "%s -e %q 2>&1", build, require("support.interpreter").command, script)))
    local out = p:read("*a")
    local closed = p:close()
    if _VERSION ~= "Lua 5.1" then assert.is_nil(closed) end -- 5.1 cannot tell the exit status
    assert.truthy(out:find("klikit: auth_invalid_credential", 1, true), out)
    assert.truthy(out:find("HTTP 401", 1, true), out)
    assert.truthy(out:find("request_id %x+"), out)
  end)
end)
