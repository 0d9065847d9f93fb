-- The transport contract, written once: every transport (klikit.transport.curl now, the
-- nginx cosocket transport later) runs this same set of specs against the sandbox and the
-- hostile server.
--
--   transport:request{ method, url, headers, body, timeout, connect_timeout, verbose }
--     -> { status, headers (lowercase names, repeats joined with ", "), body, elapsed,
--          connects, trace (only with verbose) }
--     |  nil, { code = network_error | timeout | tls_verify_failed | response_too_large,
--               message, trace }
--   Bad input (a header with a control character, a framing header, a URL with a space)
--   raises before anything is sent. transport:close() is optional and idempotent.
--
-- run(name, new, busted) declares the specs; new(opts) makes a transport (opts:
-- max_body_bytes, ca_file), and may be wrapped so the specs run where the transport
-- lives. `busted` holds the spec file's describe, it, setup, teardown, before_each,
-- after_each and assert (busted gives them to spec files, not to required modules).
local sandbox = require "support.sandbox"
local hostile_mod = require "support.hostile"
local core = require "klikit.core"

local M = {}

local function auth()
  return "Basic " .. core.base64(sandbox.partner_key .. ":" .. sandbox.secret_key)
end

--- caps: what the transport supports beyond the contract's core ({ ca_file = false }:
--- a transport whose trust store is configured elsewhere, like nginx's).
function M.run(name, new, busted, caps)
  caps = caps or {}
  local describe, it, assert = busted.describe, busted.it, busted.assert
  local setup, teardown, before_each, after_each = busted.setup, busted.teardown, busted.before_each,
    busted.after_each
  describe("transport contract: " .. name, function()
    local hostile, t
    setup(function()
      sandbox.start()
      hostile = hostile_mod.start()
    end)
    teardown(function() hostile.stop() end)
    before_each(function()
      sandbox.reset()
      t = new {}
    end)
    after_each(function() if t.close then t:close() end end)

    it("answers a GET with status, lowercase headers, body, elapsed and connects, reusing the connection", function()
      local resp = assert(t:request { method = "GET", url = sandbox.base_url .. "/orders?size=1",
        headers = { Authorization = auth(), Accept = "application/json" }, timeout = 10 })
      assert.equal(200, resp.status)
      assert.truthy(resp.headers["content-type"]:find("application/json", 1, true))
      assert.is_nil(resp.headers["Content-Type"])
      assert.truthy(resp.body:find('"orders"', 1, true))
      assert.is_number(resp.elapsed)
      assert.equal(1, resp.connects)
      local again = assert(t:request { method = "GET", url = sandbox.base_url .. "/orders?size=1",
        headers = { Authorization = auth() }, timeout = 10 })
      assert.equal(0, again.connects)
    end)

    it("sends a method, headers and a body as given", function()
      local resp = assert(t:request { method = "PATCH", url = sandbox.base_url .. "/orders/1/status",
        headers = { Authorization = auth(), ["Content-Type"] = "application/json", ["Idempotency-Key"] = "k1",
          ["X-Tab"] = "a\tb" }, body = '{"status":"accepted"}', timeout = 10 })
      assert.equal(404, resp.status) -- not an error: any HTTP answer is a response
      local seen = sandbox.requests()[1]
      assert.equal("PATCH", seen.method)
      assert.equal('{"status":"accepted"}', seen.body)
      assert.equal("k1", seen.headers["idempotency-key"])
      assert.equal("a\tb", seen.headers["x-tab"])
    end)

    it("reads a 204 with no body, and repeated headers joined", function()
      local resp = assert(t:request { method = "GET", url = hostile.url .. "/stale204", timeout = 10 })
      assert.equal(204, resp.status)
      assert.equal("", resp.body)
      sandbox.faults({ { kind = "raw", status = 200, body = "{}", content_type = "application/json",
        headers = { ["X-Rep"] = { "a", "b" } } } }, "/orders")
      resp = assert(t:request { method = "GET", url = sandbox.base_url .. "/orders", timeout = 10 })
      assert.equal("a, b", resp.headers["x-rep"])
    end)

    it("fails with network_error when nothing listens, timeout when the answer is late", function()
      local resp, err = t:request { method = "GET", url = "http://127.0.0.1:" .. sandbox.closed_port() .. "/",
        timeout = 5 }
      assert.is_nil(resp)
      assert.equal("network_error", err.code)
      assert.is_string(err.message)
      sandbox.faults({ { kind = "stall", seconds = 2 } }, "/orders")
      resp, err = t:request { method = "GET", url = sandbox.base_url .. "/orders", timeout = 0.3 }
      assert.is_nil(resp)
      assert.equal("timeout", err.code)
    end)

    it("refuses a body over max_body_bytes with response_too_large", function()
      local small = new { max_body_bytes = 1024 }
      local resp, err = small:request { method = "GET", url = hostile.url .. "/body/1", timeout = 10 }
      assert.is_nil(resp)
      assert.equal("response_too_large", err.code)
      if small.close then small:close() end
    end)

    it("raises on headers it must not send, before sending", function()
      for _, headers in ipairs { { ["X-A"] = "a\r\nb" }, { ["X-A"] = "a\0b" }, { ["Content-Length"] = "0" },
        { ["transfer-encoding"] = "chunked" }, { ["Bad Name"] = "x" }, { ["X-Big"] = string.rep("a", 9000) } } do
        assert.is_false(pcall(t.request, t, { method = "GET", url = sandbox.base_url .. "/orders", headers = headers }))
      end
      assert.is_false(pcall(t.request, t, { method = "GET", url = sandbox.base_url .. "/a b" }))
      assert.equal(0, #sandbox.requests())
    end)

    it("with verbose = true returns a trace with the credentials redacted", function()
      local resp = assert(t:request { method = "GET", url = sandbox.base_url .. "/orders?size=1",
        headers = { Authorization = auth() }, verbose = true, timeout = 10 })
      assert.is_string(resp.trace)
      assert.truthy(resp.trace:find("> GET ", 1, true))
      assert.is_nil(resp.trace:find(auth(), 1, true))
      assert.is_nil(resp.trace:find(sandbox.secret_key, 1, true))
    end)

    it("never reads stray bytes on an idle connection as the next answer", function()
      assert(t:request { method = "GET", url = hostile.url .. "/stale204", timeout = 10 })
      os.execute("sleep 0.3")
      local resp = assert(t:request { method = "GET", url = hostile.url .. "/ok", timeout = 10 })
      assert.truthy(resp.body:find('"fresh"', 1, true))
    end)

    it("fails with tls_verify_failed against a CA it does not trust #tls", function()
      local tls = sandbox.start_extra { SANDBOX_TLS = 1 }
      local resp, err = t:request { method = "GET", url = tls.base_url .. "/orders", timeout = 10 }
      assert.is_nil(resp)
      assert.equal("tls_verify_failed", err.code)
      if caps.ca_file ~= false then
        local trusted = new { ca_file = tls.ca_file }
        resp = assert(trusted:request { method = "GET", url = tls.base_url .. "/orders", timeout = 10 })
        assert.equal(401, resp.status)
      end
      tls.stop()
    end)
  end)
end

return M
