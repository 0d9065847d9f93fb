-- Hardening (issue 10): each finding of the hostile-server and hostile-caller review, over
-- real HTTP against the sandbox or spec/support/hostile_server.lua.
local sandbox = require "support.sandbox"
local hostile_mod = require "support.hostile"
local klikit = require "klikit"
local core = require "klikit.core"

local SECRET = "sk_test_s3cr3t_never_print_me"

local hostile
local function server()
  hostile = hostile or hostile_mod.start()
  return hostile
end

local function hostile_client(overrides)
  local opts = { partner_key = sandbox.partner_key, secret_key = SECRET, base_url = server().base_url,
    retry = { max_attempts = 1 } }
  for k, v in pairs(overrides or {}) do opts[k] = v end
  return klikit.new(opts)
end

-- VmRSS or VmHWM of this process in KiB.
local function memory(field)
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end

local function refused(fn, code)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected a raised error")
  assert.is_table(err, tostring(err))
  assert.equal(code or "request_invalid", err.code)
  return err
end

local function no_secret(text)
  local basic = core.base64(sandbox.partner_key .. ":" .. SECRET)
  assert.is_nil(text:find(SECRET, 1, true), "secret in: " .. text:sub(1, 300))
  assert.is_nil(text:find(basic, 1, true), "Basic credentials in: " .. text:sub(1, 300))
end

teardown(function() if hostile then hostile.stop() end end)

describe("1. base_url is checked with libcurl's own URL parser", function()
  -- allowed: plain http to loopback as libcurl parses it, and https anywhere; refused:
  -- anything else, and every URL with userinfo, query, fragment, zone id or percent-encoded host
  local CASES = {
    { "http://127.0.0.1:1@192.0.2.2:8080/v1/partner", false, "userinfo hides a non-loopback host" },
    { "http://user@127.0.0.1:8080/v1/partner", false, "userinfo even on loopback" },
    { "https://user:pw@api.example.com/v1/partner", false, "userinfo over https" },
    { "http://127.0.0.1:8080/v1@192.0.2.2/x", true, "@ in the path is still loopback" },
    { "http://192.0.2.2/v1@127.0.0.1", false, "@ in the path of a non-loopback host" },
    { "http://[::1]:8080/v1/partner", true, "IPv6 loopback literal" },
    { "http://[::ffff:127.0.0.1]:8080/v1/partner", false, "IPv4-mapped IPv6" },
    { "http://[2001:db8::1]/v1/partner", false, "IPv6 non-loopback" },
    { "http://[::1%25lo]:8080/v1/partner", false, "IPv6 zone id" },
    { "HTTP://127.0.0.1:8080/v1/partner", true, "uppercase scheme" },
    { "HTTP://example.com/v1/partner", false, "uppercase scheme, non-loopback" },
    { "http:/127.0.0.1/v1/partner", false, "http:/ with one slash" },
    { "http:/x", false, "http:/x" },
    { "http://127.0.0.1\\@192.0.2.2/v1/partner", false, "backslash" },
    { "http://%31%32%37.0.0.1/v1/partner", false, "percent-encoded host" },
    { "http://localhost./v1/partner", false, "trailing dot" },
    { "http://127.0.0.1./v1/partner", false, "trailing dot on an address" },
    { "http://LOCALHOST:8080/v1/partner", true, "localhost in capitals" },
    { "http://evil.localhost/v1/partner", false, "a subdomain of localhost" },
    { "http://2130706433:8080/v1/partner", true, "IPv4 as one decimal number (127.0.0.1)" },
    { "http://0177.0.0.1:8080/v1/partner", true, "IPv4 in octal (127.0.0.1)" },
    { "http://0x7f.0.0.1:8080/v1/partner", true, "IPv4 in hex (127.0.0.1)" },
    { "http://0x7f000001:8080/v1/partner", true, "IPv4 as one hex number" },
    { "http://3221225986/v1/partner", false, "decimal IPv4 of 192.0.2.2" },
    { "http://127.1/v1/partner", true, "short IPv4 form of 127.0.0.1" },
    { "http://127.0.0.1:8080/v1/partner?x=1", false, "query string" },
    { "http://127.0.0.1:8080/v1/partner#f", false, "fragment" },
    { "ftp://127.0.0.1/v1/partner", false, "another scheme" },
    { "//127.0.0.1/v1/partner", false, "no scheme" },
    { "http://127.0.0.1:99999/v1/partner", false, "port out of range" },
    { "https://gateway-enterprise.klikit.io/v1/partner", true, "the production URL" },
  }

  for _, case in ipairs(CASES) do
    it((case[2] and "allows " or "refuses ") .. case[3] .. ": " .. case[1], function()
      local ok, err = pcall(klikit.new, { partner_key = "pk", secret_key = "sk", base_url = case[1] })
      if case[2] then
        assert.is_true(ok, tostring(err))
      else
        assert.is_false(ok)
        assert.equal("request_invalid", err.code)
      end
    end)
  end

  it("refused URLs send nothing; allowed numeric loopback forms reach the server", function()
    sandbox.start()
    local port = sandbox.base_url:match(":(%d+)/")
    local before = sandbox.stats().requests
    refused(function()
      klikit.new { partner_key = "pk", secret_key = "sk", base_url = "http://u:p@127.0.0.1:" .. port .. "/v1/partner" }
    end)
    assert.equal(before, sandbox.stats().requests) -- control calls are not counted
    for _, form in ipairs { "2130706433", "0x7f.0.0.1", "127.1", "HTTP://127.0.0.1" } do
      local base = (form:find("://") and form or ("http://" .. form)) .. ":" .. port .. "/v1/partner"
      local client = sandbox.client { base_url = base }
      assert(client:request("GET", "/orders/order-types"))
    end
  end)
end)

describe("2. redaction", function()
  -- #timing: valgrind runs everything ~20x slower and skips it
  it("is linear: a 2 MB message holding the credentials 100,000 times in well under 100 ms #timing", function()
    local client = hostile_client()
    local t0 = os.clock()
    local _, err = client:request("GET", "/echo_many/100000")
    local call = os.clock() - t0
    assert.equal("request_invalid", err.code)
    no_secret(tostring(err))
    -- the same redaction alone, on the text the server sent
    local auth = "Basic " .. core.base64(sandbox.partner_key .. ":" .. SECRET)
    local text = string.rep(auth .. " ", 100000)
    assert.is_true(#text > 2e6)
    t0 = os.clock()
    local needles = { core.base64(sandbox.partner_key .. ":" .. SECRET), SECRET }
    local clean = require("klikit.http.redact").scrub(text, needles)
    local took = os.clock() - t0
    no_secret(clean)
    print(string.format("\n  redaction: %.1f MB with 100,000 occurrences in %.1f ms (whole call %.0f ms)",
      #text / 1e6, took * 1000, call * 1000))
    assert.is_true(took < 0.1, "redaction took " .. took .. " s")
  end)
end)

describe("3. decoding is bounded", function()
  -- #rss: ASan's quarantine and valgrind's heap make RSS meaningless; their runs skip it
  it("a 60 MiB body of [{},{},...] under a 64 MiB cap is refused at max_json_values, memory bounded #rss", function()
    local client = hostile_client { max_body_bytes = 64 * 1024 * 1024 }
    collectgarbage()
    local peak = memory("VmHWM")
    local rss = memory("VmRSS")
    local _, err = client:request("GET", "/json/60")
    assert.equal("response_too_large", err.code)
    assert.truthy(err.message:find("max_json_values", 1, true), err.message)
    assert.is_false(err.retryable)
    -- at most the body twice (libcurl's buffer, the Lua string) and a little
    local grown = math.max(memory("VmHWM") - peak, memory("VmRSS") - rss) / 1024
    print(string.format("\n  60 MiB body refused, memory grew by at most %.0f MiB", grown))
    assert.is_true(grown < 2.5 * 64, grown .. " MiB")
  end)

  it("the default body cap is 8 MiB; max_json_values can be set lower", function()
    local client = hostile_client()
    local _, err = client:request("GET", "/json/9")
    assert.equal("response_too_large", err.code)
    assert.truthy(err.message:find("max_body_bytes", 1, true))
    local small = sandbox.client { max_json_values = 1000 }
    _, err = small:request("GET", "/orders", { query = { size = 100 } })
    assert.equal("response_too_large", err.code)
    assert(sandbox.client():request("GET", "/orders", { query = { size = 100 } }))
  end)

  it("nesting deeper than 200 is refused, not retried", function()
    sandbox.faults({ { kind = "raw", status = 200, content_type = "application/json",
      body = '{"data":' .. string.rep("[", 300) .. string.rep("]", 300) .. "}" } }, "/orders")
    local _, err, meta = sandbox.client { retry = { max_attempts = 3 } }:request("GET", "/orders")
    assert.equal("response_too_large", err.code)
    assert.equal(1, meta.attempts)
  end)
end)

describe("4. the rate limiter", function()
  before_each(function() sandbox.reset() end)

  it("fails at once with deadline_exceeded when its wait would pass the deadline", function()
    local client = sandbox.client { rate_limit = 6, retry = { deadline = 1 } }
    assert(client:request("GET", "/orders/order-types"))
    local t0 = core.monotonic()
    local _, err = client:request("GET", "/orders/order-types")
    assert.equal("deadline_exceeded", err.code)
    assert.is_false(err.retryable)
    assert.is_true(core.monotonic() - t0 < 0.5)
    assert.equal(1, #sandbox.requests())
  end)

  for _, bad in ipairs { 1e-9, 0, -1, 0 / 0, 1 / 0, "x" } do
    it("refuses rate_limit = " .. tostring(bad) .. " in klikit.new, naming the option", function()
      local err = refused(function() sandbox.client { rate_limit = bad } end)
      assert.truthy(err.message:find("rate_limit", 1, true))
    end)
  end
end)

describe("5. secrets echoed by a server", function()
  it("never reach request_id, code, raw_code, message, details, tostring or the log", function()
    local lines = {}
    local client = hostile_client { logger = function(_, line) lines[#lines + 1] = line end, verbose = true }
    local _, err = client:request("GET", "/echo")
    assert.is_table(err)
    local seen = {}
    local function walk(v)
      if type(v) == "string" then seen[#seen + 1] = v end
      if type(v) == "table" then
        for k, x in pairs(v) do walk(k); walk(x) end
      end
    end
    walk(err)
    seen[#seen + 1] = tostring(err)
    for _, line in ipairs(lines) do seen[#seen + 1] = line end
    for _, s in ipairs(seen) do no_secret(s) end
    assert.truthy(err.request_id:find("[redacted]", 1, true))
    assert.truthy(err.raw_code:find("[redacted]", 1, true))
    assert.truthy(err.details.nested.list[1]:find("[redacted]", 1, true))
  end)
end)

describe("6. caller headers", function()
  local NAMES = { "Content-Length", "transfer-encoding", "HOST", "Connection", "Expect", "TE", "Upgrade",
    "Trailer", "Keep-Alive", "Proxy-Connection", "authorization", "Proxy-Authorization" }
  for _, name in ipairs(NAMES) do
    it("refuses " .. name .. " (any case), naming it, and sends nothing", function()
      sandbox.reset()
      local _, err = sandbox.client():request("POST", "/menus/sections",
        { headers = { [name] = "0" }, body = { title = { en = "x" } } })
      assert.equal("request_invalid", err.code)
      assert.truthy(err.message:find(name, 1, true), err.message)
      assert.equal(0, #sandbox.requests())
    end)
  end

  it("lets other headers through", function()
    local data = assert(hostile_client():request("GET", "/headers", { headers = { ["X-Trace"] = "a\tb" } }))
    local names = table.concat(data, " ")
    assert.truthy(names:find("x-trace", 1, true))
  end)
end)

describe("7. a stray response on an idle keep-alive connection", function()
  it("is never read as the answer to the next request: that one gets a fresh connection", function()
    local client = hostile_client()
    local data, err = client:request("GET", "/stale204")
    assert.is_nil(err)
    assert.is_nil(data)
    os.execute("sleep 0.3") -- the stray bytes arrive
    local fresh, err2, meta = client:request("GET", "/ok")
    assert.is_nil(err2)
    assert.equal("fresh", fresh)
    assert.equal(1, meta.connects)
    -- and a quiet connection is still reused
    local _, _, meta2 = client:request("GET", "/ok")
    assert.equal(0, meta2.connects)
  end)
end)

describe("8. server text in errors and logs", function()
  it("escapes C1 controls, bidi overrides and line separators, and is cut to 512 bytes", function()
    local lines = {}
    local client = hostile_client { logger = function(_, line) lines[#lines + 1] = line end }
    local _, err = client:request("GET", "/unsafe")
    local s = tostring(err)
    for _, raw in ipairs { "\194\133", "\194\155", "\226\128\174", "\226\129\166", "\226\128\168" } do
      assert.is_nil(s:find(raw, 1, true), "raw " .. raw:byte(1, -1) .. " in tostring")
    end
    assert.truthy(s:find("\\u0085", 1, true) and s:find("\\u202E", 1, true) and s:find("\\u2028", 1, true))
    assert.is_true(#err.request_id < 600 and #err.message < 600, #err.request_id .. " " .. #err.message)
    assert.truthy(err.request_id:find("more bytes]", 1, true))
    for _, line in ipairs(lines) do assert.is_true(#line < 5000) end
    assert.is_true(#s < 2000)
  end)
end)

describe("9. percent-encoded dot segments and separators in raw paths", function()
  local BAD = { "/orders/%2e%2e/x", "/orders/%2E%2E", "/orders/.%2e/x", "/a/%2e/b", "/x/..%2fetc", "/x/%2Fetc",
    "/x/%5cetc", "/x/%zz", "/x/%4", "/x\\y" }
  for _, path in ipairs(BAD) do
    it("refuses " .. path .. " and sends nothing", function()
      sandbox.reset()
      local _, err = sandbox.client():request("GET", path)
      assert.equal("request_invalid", err.code)
      assert.equal(0, #sandbox.requests())
    end)
  end

  it("refuses them in an inferred write's opts.path too, and keeps plain encodings", function()
    sandbox.reset()
    local _, err = sandbox.client():update_brand(1100, { title = "x" }, { path = "/brands/%2e%2e%2fbranches/1" })
    assert.equal("request_invalid", err.code)
    assert.equal(0, #sandbox.requests())
    local _, err2 = sandbox.client():request("GET", "/orders/ORD%3A42")
    assert.equal("resource_not_found", err2.code)
  end)
end)

describe("10. named errors instead of plain Lua errors", function()
  it("a 9,000-byte header value is request_invalid", function()
    local _, err = sandbox.client():request("GET", "/orders", { headers = { ["X-Big"] = string.rep("a", 9000) } })
    assert.equal("request_invalid", err.code)
  end)

  it("every method of a closed client returns client_closed", function()
    local client = sandbox.client()
    client:close()
    client:close()
    local calls = {
      function() return client:request("GET", "/orders") end,
      function() return client:order(1) end,
      function() return client:count_orders {} end,
      function() return client:orders {} end,
      function() return client:brands() end,
      function() return client:branches() end,
      function() return client:business() end,
      function() return client:menu {} end,
      function() return client:order_types() end,
      function() return client:update_order_status(1, { status = "accepted" }) end,
      function() return client:create_section { title = { en = "x" } } end,
    }
    for i, call in ipairs(calls) do
      local ok, data, err = pcall(call)
      assert.is_true(ok, "call " .. i .. " raised " .. tostring(data))
      assert.is_nil(data)
      assert.equal("client_closed", err and err.code, "call " .. i)
    end
  end)

  for _, bad in ipairs { "x", -1, 0 / 0, 1.5, 2 ^ 40 } do
    it("max_body_bytes = " .. tostring(bad) .. " is request_invalid naming it", function()
      local err = refused(function() sandbox.client { max_body_bytes = bad } end)
      assert.truthy(err.message:find("max_body_bytes", 1, true))
    end)
  end
end)

describe("11. a URL longer than servers take", function()
  it("is request_invalid before sending, and never retried", function()
    sandbox.reset()
    local _, err, meta = sandbox.client { retry = { max_attempts = 5 } }:request("GET", "/orders",
      { query = { x = string.rep("a", 9 * 1024 * 1024) } })
    assert.equal("request_invalid", err.code)
    assert.truthy(err.message:find("8192", 1, true))
    assert.is_nil(meta.attempts)
    assert.equal(0, #sandbox.requests())
  end)
end)

describe("12. memory after a refused body", function()
  it("returns to within a few MiB of before #rss", function()
    local client = hostile_client { max_body_bytes = 64 * 1024 * 1024 }
    assert(client:request("GET", "/ok"))
    collectgarbage()
    local before = memory("VmRSS")
    local _, err = client:request("GET", "/body/70")
    assert.equal("response_too_large", err.code)
    collectgarbage()
    local after = memory("VmRSS")
    print(string.format("\n  after a refused 70 MiB body: RSS %+.1f MiB", (after - before) / 1024))
    assert.is_true(after - before < 8 * 1024, (after - before) .. " KiB kept")
  end)
end)

describe("oversized response headers", function()
  it("a 1 MiB header line is response_too_large naming the limit, not retried", function()
    local _, err, meta = hostile_client { retry = { max_attempts = 3 } }:request("GET", "/bigheader")
    assert.equal("response_too_large", err.code)
    assert.truthy(err.message:find("header line", 1, true), err.message)
    assert.equal(1, meta.attempts)
  end)

  it("100,000 header lines name the header limit, not max_body_bytes", function()
    local _, err = hostile_client():request("GET", "/manyheaders")
    assert.equal("response_too_large", err.code)
    assert.truthy(err.message:find("headers larger than", 1, true), err.message)
    assert.is_nil(err.message:find("max_body_bytes", 1, true))
  end)
end)

describe("hostile review 2 (credentials and guarantees under attack)", function()
  local BASIC = require("klikit.core").base64(sandbox.partner_key .. ":" .. SECRET)

  it("plain http never goes through a proxy, for any loopback address", function()
    local srv = server()
    local closed = sandbox.closed_port()
    for _, host in ipairs { "127.0.0.2", "127.1.2.3", "localhost" } do
      local _, err = hostile_client { base_url = "http://" .. host .. ":" .. closed .. "/v1/partner",
        proxy = "http://127.0.0.1:" .. srv.port }:request("GET", "/ok")
      assert.equal("network_error", err.code) -- it tried the host itself, not the proxy
    end
    local data = assert(hostile_client():request("GET", "/seen"))
    assert.equal(0, data)
  end)

  it("response headers in meta are cleaned: no credential, no control or bidi characters", function()
    local _, _, meta = hostile_client():request("GET", "/hdr_echo")
    assert.equal("Basic [redacted]", meta.headers["x-echo"])
    assert.falsy(meta.headers["x-ctl"]:find("[%c\128-\255]"), meta.headers["x-ctl"])
  end)

  it("no start of a credential survives in an HTML excerpt cut in the middle of it", function()
    for pad = 100, 160, 3 do
      local _, err = hostile_client():request("GET", "/html_echo/" .. pad)
      local text = tostring(err)
      for k = 4, #BASIC do
        assert.falsy(text:find(BASIC:sub(1, k) .. "...", 1, true), "pad " .. pad .. ": " .. text)
      end
      assert.falsy(text:find(BASIC, 1, true))
    end
  end)

  it("a client closed by a hook, the logger or its sleep returns client_closed, never raises", function()
    local c2 = sandbox.client { retry = { max_attempts = 3, base_delay = 0.001 } }
    c2.session.sleep = function() c2:close() end
    sandbox.faults({ { kind = "raw", status = 503, body = "down" } }, "/orders/1")
    local none, err = c2:order(1)
    assert.is_nil(none)
    assert.equal("client_closed", err.code)
    local c3
    c3 = sandbox.client { on_request = function() c3:close() end, retry = { max_attempts = 3, base_delay = 0.001 } }
    sandbox.faults({ { kind = "raw", status = 503, body = "down" } }, "/orders/1")
    none, err = c3:order(1)
    assert.is_nil(none)
    assert.equal("client_closed", err.code)
  end)

  it("waits longer than a day are refused as options, not raised from deep inside", function()
    for _, bad in ipairs { { max_retry_after = 1e6 }, { base_delay = 1e6 }, { max_delay = math.huge },
        { deadline = math.huge } } do
      local ok, err = pcall(hostile_client, { retry = bad })
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
  end)

  it("a method called with a dot instead of a colon raises request_invalid naming it", function()
    local client = hostile_client()
    for _, call in ipairs { function() return client.order(1) end, function() return client.orders({}) end,
        function() return client.request("GET", "/ok") end } do
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
      assert.truthy(err.message:find("colon", 1, true))
    end
  end)

  it("a caller header that klikit sets from an option, in any case, is refused; others replace klikit's", function()
    local client = hostile_client()
    local _, err = client:request("POST", "/ok", { body = {}, headers = { ["idempotency-key"] = "x" } })
    assert.equal("request_invalid", err.code)
    local names = assert(client:request("GET", "/headers", { headers = { accept = "text/plain" } }))
    local n = 0
    for _, name in ipairs(names) do if name == "accept" then n = n + 1 end end
    assert.equal(1, n)
  end)

  it("base_url with a fragment, percent-encoding, dot segments, non-ASCII or port 0 is refused", function()
    for _, bad in ipairs { "http://127.0.0.1/#", "http://127.0.0.1/%2e%2e/v1", "http://127.0.0.1/../../x",
        "http://127.0.0.1/%00", "http://127.0.0.1/\195\169", "http://127.0.0.1:0/v1" } do
      local ok, err = pcall(hostile_client, { base_url = bad })
      assert.is_false(ok, bad)
      assert.equal("request_invalid", err.code)
    end
    assert.is_false((pcall(hostile_client, { user_agent = string.rep("u", 300) })))
  end)
end)
