-- Concurrent requests in plain Lua: klikit.core's curl multi (add, perform, collect) and
-- the coroutine driver over it (klikit.transport.multi).
local sandbox = require "support.sandbox"
local hostile_mod = require "support.hostile"
local interpreter = require "support.interpreter"
local core = require "klikit.core"
local curl = require "klikit.transport.curl"
local multi = require "klikit.transport.multi"

local unpack = table.unpack or rawget(_G, "unpack")
local function pack(...) return { n = select("#", ...), ... } end

local function auth()
  return "Basic " .. core.base64(sandbox.partner_key .. ":" .. sandbox.secret_key)
end

local function get(path, extra)
  local req = { method = "GET", url = sandbox.base_url .. path, headers = { Authorization = auth() }, timeout = 10 }
  for k, v in pairs(extra or {}) do req[k] = v end
  return req
end

-- Drives a core multi until every transfer is reported; returns the entries.
local function drain(m, limit)
  local out, t0 = {}, core.monotonic()
  while m:pending() > 0 do
    for _, e in ipairs(m:perform(0.5)) do out[#out + 1] = e end
    assert(core.monotonic() - t0 < (limit or 20), "transfers did not finish")
  end
  return out
end

-- Response headers that differ between two requests by nature.
local function stable_headers(h)
  local out = {}
  for k, v in pairs(h) do if k ~= "date" then out[k] = v end end
  return out
end

local function without_request_id(body)
  return (body:gsub('"request_id":"%x+"', '"request_id":"-"'))
end

-- The transport contract, every request through a driver task (each request a run).
require("transport.contract").run("multi driver", function(opts)
  local driver = multi.new {}
  local w = driver:transport(curl.new(opts))
  return {
    request = function(_, req)
      local out
      driver:spawn(function() out = pack(w:request(req)) end)
      driver:run()
      return unpack(out, 1, out.n)
    end,
    close = function() w:close(); driver:close() end,
  }
end, { describe = describe, it = it, setup = setup, teardown = teardown, before_each = before_each,
  after_each = after_each, assert = assert })

describe("klikit.core multi", function()
  local hostile
  setup(function()
    sandbox.start()
    hostile = hostile_mod.start()
  end)
  teardown(function() hostile.stop() end)
  before_each(function() sandbox.reset() end)

  it("runs transfers on their transports' handles and reports each once", function()
    local m = core.new_multi()
    local ts = {}
    for i = 1, 4 do
      ts[i] = core.new_transport {}
      m:add(ts[i], get("/orders?size=1&n=" .. i))
    end
    assert.equal(4, m:pending())
    local seen = {}
    for _, e in ipairs(drain(m)) do
      assert.equal(200, e.resp.status)
      assert.is_nil(seen[e.transport])
      seen[e.transport] = true
    end
    for i = 1, 4 do assert.is_true(seen[ts[i]]) end
    assert.equal(0, m:pending())
    assert.same({}, m:perform(5)) -- nothing in flight: returns at once
    m:close()
  end)

  it("shares connections between its transports, never one with stray bytes waiting", function()
    local m, a, b = core.new_multi(), core.new_transport {}, core.new_transport {}
    local function one(t, req)
      m:add(t, req)
      return drain(m)[1]
    end
    assert.equal(1, one(a, get("/orders?size=1")).resp.connects)
    assert.equal(0, one(b, get("/orders?size=1")).resp.connects) -- a's connection, reused
    -- a 204 followed by a whole stray answer on the idle connection: b must not read it
    assert.equal(204, one(a, { url = hostile.url .. "/stale204", timeout = 5 }).resp.status)
    os.execute("sleep 0.3")
    local e = one(b, { url = hostile.url .. "/ok", timeout = 5, verbose = true })
    assert.truthy(e.resp.body:find('"fresh"', 1, true))
    assert.equal(1, e.resp.connects)
    e = one(a, { url = hostile.url .. "/ok", timeout = 5 })
    assert.truthy(e.resp.body:find('"fresh"', 1, true))
    m:close()
  end)

  it("refuses a transport already in a transfer, and bad requests as request does", function()
    local m, t = core.new_multi(), core.new_transport {}
    local ok, why = pcall(m.add, m, t, { url = sandbox.base_url .. "/a b" })
    assert.is_false(ok)
    assert.equal(select(2, pcall(t.request, t, { url = sandbox.base_url .. "/a b" })), why)
    assert.is_false(pcall(m.add, m, t, { url = sandbox.base_url, headers = { ["Content-Length"] = "1" } }))
    assert.equal(0, m:pending())
    m:add(t, get("/orders?size=1"))
    ok, why = pcall(m.add, m, t, get("/orders?size=1"))
    assert.is_false(ok)
    assert.truthy(why:find("busy", 1, true))
    ok, why = pcall(t.request, t, get("/orders?size=1"))
    assert.is_false(ok)
    assert.truthy(why:find("busy", 1, true))
    assert.equal(1, #drain(m))
    assert.equal(200, assert(t:request(get("/orders?size=1"))).status) -- free again
    m:close()
  end)

  it("remove drops a transfer unreported; close drops them all and frees the transports", function()
    local m, a, b = core.new_multi(), core.new_transport {}, core.new_transport {}
    sandbox.control_latency(0.3)
    m:add(a, get("/orders?size=1"))
    m:add(b, get("/orders?size=1"))
    m:perform(0.05)
    assert.is_true(m:remove(a))
    assert.is_false(m:remove(a))
    assert.equal(1, m:pending())
    m:close()
    m:close()
    assert.equal(0, m:pending())
    assert.is_false(pcall(m.perform, m, 0))
    assert.is_false(pcall(m.add, m, a, get("/")))
    sandbox.control_latency(0)
    assert.equal(200, assert(a:request(get("/orders?size=1"))).status)
    assert.equal(200, assert(b:request(get("/orders?size=1"))).status)
  end)

  it("reports a transport closed in flight as network_error", function()
    local m, t = core.new_multi(), core.new_transport {}
    sandbox.control_latency(0.3)
    m:add(t, get("/orders?size=1"))
    m:perform(0.05)
    t:close()
    t:close()
    assert.equal(1, m:pending())
    local got = m:perform(0)
    sandbox.control_latency(0)
    assert.equal(1, #got)
    assert.equal(t, got[1].transport)
    assert.equal("network_error", got[1].err.code)
    assert.equal(0, m:pending())
    m:close()
  end)

  it("keeps a transport it runs alive, and lets it go afterwards", function()
    local m = core.new_multi()
    local weak = setmetatable({}, { __mode = "v" })
    do
      local t = core.new_transport {}
      weak[1] = t
      m:add(t, get("/orders?size=1"))
    end
    collectgarbage()
    collectgarbage()
    assert.is_not_nil(weak[1])
    local got = drain(m)
    assert.equal(200, got[1].resp.status)
    got = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
    m:close()
  end)

  it("survives being collected in flight, alone or with its transports, in either order", function()
    local t = core.new_transport {}
    do
      local m = core.new_multi()
      m:add(t, get("/orders?size=1"))
      m:perform(0)
    end
    collectgarbage()
    collectgarbage()
    assert.equal(200, assert(t:request(get("/orders?size=1"))).status) -- the multi let it go
    for _ = 1, 3 do
      local m = core.new_multi()
      for _ = 1, 3 do m:add(core.new_transport {}, get("/orders?size=1")) end
      m:perform(0)
    end
    local first = core.new_transport {}
    local m = core.new_multi() -- made after the transport: finalised before it
    m:add(first, get("/orders?size=1"))
    m:add(core.new_transport {}, get("/orders?size=1")) -- made after the multi
    m, first = nil, nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    collectgarbage()
  end)

  it("closes cleanly with transfers in flight when the Lua state closes, in either order", function()
    local script = [[
      package.cpath = os.getenv("KLIKIT_BUILD") .. "/?.so;" .. package.cpath
      local core = require "klikit.core"
      local url = ...
      local a = core.new_transport {}
      local m = core.new_multi()
      local b = core.new_transport {}
      m:add(a, { url = url }); m:add(b, { url = url })
      m:perform(0.01)
      if os.getenv("CLOSE_ONE") then a:close() end
      GLOBAL = { m, a, b }
      print("ok")
    ]]
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    sandbox.control_latency(0.5)
    for _, env in ipairs { "", "CLOSE_ONE=1 " } do
      local p = assert(io.popen(env .. "KLIKIT_BUILD=" .. (os.getenv("KLIKIT_BUILD") or "build/5.4") .. " "
        .. interpreter.command .. " " .. path .. " " .. sandbox.base_url .. "/orders 2>&1; echo rc=$?"))
      local out = p:read("*a")
      p:close()
      assert.equal("ok\nrc=0\n", out)
    end
    sandbox.control_latency(0)
    os.remove(path)
  end)
end)

describe("klikit.transport.multi", function()
  local hostile
  setup(function()
    sandbox.start()
    hostile = hostile_mod.start()
  end)
  teardown(function() hostile.stop() end)
  before_each(function() sandbox.reset() end)
  after_each(function()
    sandbox.control_latency(0)
    sandbox.chaos { rate = 0 }
  end)

  it("runs 8 tasks of 2 sequential requests at once #timing", function()
    sandbox.control_latency(0.2)
    local driver = multi.new {}
    local t = driver:transport(curl.new {})
    for i = 1, 8 do
      driver:spawn(function(n)
        local a = assert(t:request(get("/orders?size=1&task=" .. n)))
        local b = assert(t:request(get("/orders?size=1&task=" .. n)))
        return n, a.status, b.status
      end, i)
    end
    local t0 = core.monotonic()
    local results = driver:run()
    local wall = core.monotonic() - t0
    print(string.format("\n  multi driver: 8 tasks x 2 requests at 0.2 s latency in %.3f s (sequential: 3.2 s)", wall))
    assert.is_true(wall < 0.7, wall)
    assert.equal(8, #results)
    for i = 1, 8 do assert.same({ n = 3, i, 200, 200 }, results[i]) end
    assert.equal(16, #sandbox.requests())
    t:close()
  end)

  it("answers exactly as blocking requests do, GETs and POSTs with bodies", function()
    local blocking = curl.new {}
    local driver = multi.new {}
    local t = driver:transport(curl.new {})
    local body = '{"title":{"en":"All Day"},"visibilities":{"1":true},"fromAPI":true}'
    local function post(key)
      return { method = "POST", url = sandbox.base_url .. "/menus/sections", body = body, timeout = 10,
        headers = { Authorization = auth(), ["Content-Type"] = "application/json", ["Idempotency-Key"] = key } }
    end
    local reqs = { get("/orders?size=5"), get("/orders/does-not-exist"), get("/brands"), post("same-key"),
      { method = "PATCH", url = sandbox.base_url .. "/orders/1/status", body = '{"status":"accepted"}',
        headers = { Authorization = auth(), ["Content-Type"] = "application/json", ["Idempotency-Key"] = "p" } } }
    -- writes recorded first: the answers compared below are replays of them
    for _, req in ipairs(reqs) do if req.method ~= "GET" then assert(blocking:request(req)) end end
    local want = {}
    for i, req in ipairs(reqs) do want[i] = assert(blocking:request(req)) end
    local first = #sandbox.requests()
    local got = {}
    for i, req in ipairs(reqs) do driver:spawn(function() got[i] = assert(t:request(req)) end) end
    driver:run()
    for i = 1, #reqs do
      assert.equal(want[i].status, got[i].status)
      assert.same(stable_headers(want[i].headers), stable_headers(got[i].headers))
      assert.equal(without_request_id(want[i].body), without_request_id(got[i].body))
      if reqs[i].method ~= "GET" then assert.equal(want[i].body, got[i].body) end -- both replays
      assert.is_number(got[i].elapsed)
      assert.is_number(got[i].connects)
    end
    -- and the server received the same requests
    local seen = sandbox.requests()
    local function key(r) return r.method .. " " .. r.uri .. "?" .. (r.query or "") end
    local sent = {}
    for i = 1, first do sent[key(seen[i])] = seen[i] end
    assert.equal(first + #reqs, #seen)
    for i = first + 1, #seen do
      local before = assert(sent[key(seen[i])], key(seen[i]))
      assert.equal(before.body, seen[i].body)
      assert.same(before.headers, seen[i].headers)
    end
    blocking:close()
    t:close()
  end)

  it("reports refused connections, timeouts and oversized answers in their own tasks", function()
    sandbox.faults { { kind = "stall", seconds = 3, path = "/orders", match_query = "stall=1" } }
    local driver = multi.new {}
    local t = driver:transport(curl.new {})
    local small = driver:transport(curl.new { max_body_bytes = 100 })
    local out = {}
    local function task(name, w, req)
      driver:spawn(function() out[name] = pack(w:request(req)) end)
    end
    task("refused", t, { url = "http://127.0.0.1:" .. sandbox.closed_port() .. "/", timeout = 5 })
    task("timeout", t, get("/orders?stall=1", { timeout = 0.3 }))
    task("large", small, get("/orders?size=5"))
    for i = 1, 3 do task("ok" .. i, t, get("/orders?size=1")) end
    local t0 = core.monotonic()
    driver:run()
    assert.is_true(core.monotonic() - t0 < 2)
    assert.equal("network_error", out.refused[2].code)
    assert.equal("timeout", out.timeout[2].code)
    assert.equal("response_too_large", out.large[2].code)
    for name, code in pairs { refused = "network_error", timeout = "timeout", large = "response_too_large" } do
      assert.is_nil(out[name][1])
      assert.equal(code, out[name][2].code)
      assert.is_string(out[name][2].message)
      assert.is_number(out[name][2].curl_code)
    end
    for i = 1, 3 do assert.equal(200, out["ok" .. i][1].status) end
    t:close()
    small:close()
  end)

  it("sleeps in tasks without holding up the others #timing", function()
    local driver = multi.new {}
    for _ = 1, 4 do driver:spawn(function() driver:sleep(0.3) end) end
    local t0 = core.monotonic()
    driver:run()
    local wall = core.monotonic() - t0
    print(string.format("\n  multi driver: 4 tasks sleeping 0.3 s in %.3f s", wall))
    assert.is_true(wall >= 0.29 and wall < 0.5, wall)
    t0 = core.monotonic()
    driver:sleep(0.05) -- outside a task: blocks
    assert.is_true(core.monotonic() - t0 >= 0.045)
    assert.is_false(pcall(driver.sleep, driver, -1))
    -- sleepers and transfers together, woken in time order
    sandbox.control_latency(0.2)
    local t = driver:transport(curl.new {})
    local order = {}
    driver:spawn(function() assert(t:request(get("/orders?size=1"))); order[#order + 1] = "request" end)
    driver:spawn(function() driver:sleep(0.3); order[#order + 1] = "sleep 0.3" end)
    driver:spawn(function() driver:sleep(0.05); order[#order + 1] = "sleep 0.05" end)
    driver:run()
    assert.same({ "sleep 0.05", "request", "sleep 0.3" }, order)
    t:close()
  end)

  it("raises a task's error after stopping the others, and stays usable", function()
    sandbox.control_latency(0.5)
    local driver = multi.new {}
    local t = driver:transport(curl.new {})
    local finished = 0
    for _ = 1, 3 do
      driver:spawn(function() assert(t:request(get("/orders?size=1"))); finished = finished + 1 end)
    end
    driver:spawn(function()
      driver:sleep(0.05)
      error("boom in a task")
    end)
    local t0 = core.monotonic()
    local ok, why = pcall(driver.run, driver)
    assert.is_false(ok)
    assert.truthy(why:find("boom in a task", 1, true))
    assert.truthy(why:find("stack traceback", 1, true))
    assert.truthy(why:find("in task 4", 1, true))
    assert.is_true(core.monotonic() - t0 < 0.4) -- did not wait for the others
    assert.equal(0, finished)
    assert.equal(0, driver.multi:pending())
    -- an error value that is not a string is raised as it is
    local e = { code = "mine" }
    driver:spawn(function() error(e) end)
    ok, why = pcall(driver.run, driver)
    assert.is_false(ok)
    assert.equal(e, why)
    assert.truthy(driver.traceback:find("stack traceback", 1, true))
    -- the same driver and transport run again, on handles that are free
    sandbox.control_latency(0)
    for _ = 1, 3 do driver:spawn(function() return assert(t:request(get("/orders?size=1"))).status end) end
    assert.same({ { n = 1, 200 }, { n = 1, 200 }, { n = 1, 200 } }, driver:run())
    assert.equal(3, #t.handles)
    assert.equal(200, assert(t:request(get("/orders?size=1"))).status) -- blocking, outside
    t:close()
    driver:close()
  end)

  it("raises in the task what a request raises, as a blocking request does", function()
    local driver = multi.new {}
    local t = driver:transport(curl.new {})
    -- the same message (the blocking one names where it was raised: transport/curl.lua)
    local blocking_why = select(2, pcall(t.request, t, { url = sandbox.base_url .. "/a b" })):gsub("^[^:]+:%d+: ", "")
    driver:spawn(function()
      local ok, why = pcall(t.request, t, { url = sandbox.base_url .. "/a b" })
      return ok, why
    end)
    local results = driver:run()
    assert.is_false(results[1][1])
    if _VERSION == "Lua 5.1" and not rawget(_G, "jit") then
      assert.truthy(results[1][2]:find("yield across", 1, true)) -- 5.1 cannot yield across pcall
    else
      assert.equal(blocking_why, results[1][2])
    end
    t:close()
  end)

  it("takes turns on a bare klikit.core transport, which has one handle", function()
    sandbox.control_latency(0.1)
    local driver = multi.new {}
    local raw = core.new_transport {}
    local t = driver:transport(raw)
    for _ = 1, 3 do driver:spawn(function() return assert(t:request(get("/orders?size=1"))).status end) end
    local t0 = core.monotonic()
    assert.same({ { n = 1, 200 }, { n = 1, 200 }, { n = 1, 200 } }, driver:run())
    assert.is_true(core.monotonic() - t0 >= 0.29)
    assert.equal(200, assert(t:request(get("/orders?size=1"))).status)
    assert.equal(t, driver:transport(raw)) -- one wrapper per base: its one handle counted once
    assert.is_false(pcall(driver.transport, driver, { request = function() end }))
    local plain = curl.new {}
    assert.equal(select(2, pcall(plain.request, plain, "not a table")), select(2, pcall(t.request, t, "not a table")))
    plain:close()
    t:close()
    assert.is_false(pcall(raw.request, raw, get("/orders")))
  end)

  it("blocks outside its tasks, also in a coroutine a task made for itself", function()
    local driver = multi.new {}
    local t = driver:transport(curl.new {})
    assert.equal(200, assert(t:request(get("/orders?size=1"))).status)
    driver:spawn(function()
      local gen = coroutine.wrap(function()
        coroutine.yield(assert(t:request(get("/orders?size=2"))).status)
        coroutine.yield("second")
      end)
      return gen(), gen()
    end)
    assert.same({ { n = 2, 200, "second" } }, driver:run())
    t:close()
  end)

  it("passes a task's own yields to whoever resumed run, else raises a clear error", function()
    local driver = multi.new {}
    driver:spawn(function() return coroutine.yield("from the task") end)
    local _, why = pcall(driver.run, driver)
    assert.truthy(why:find("yielded values of its own", 1, true))
    local t = driver:transport(curl.new {})
    driver:spawn(function()
      local back = coroutine.yield("question")
      return back, assert(t:request(get("/orders?size=1"))).status
    end)
    local outer = coroutine.create(function() return driver:run() end)
    local _, asked = coroutine.resume(outer)
    assert.equal("question", asked)
    local done, results = coroutine.resume(outer, "answer")
    assert.is_true(done)
    assert.same({ { n = 2, "answer", 200 } }, results)
    t:close()
  end)

  it("ends a task's request with network_error when its transport is closed meanwhile", function()
    sandbox.control_latency(0.3)
    local driver = multi.new {}
    local t = driver:transport(curl.new {})
    driver:spawn(function() return t:request(get("/orders?size=1")) end)
    driver:spawn(function() driver:sleep(0.05); t:close() end)
    local results = driver:run()
    assert.is_nil(results[1][1])
    assert.equal("network_error", results[1][2].code)
    assert.equal(0, driver.multi:pending())
    -- on a bare core transport the second request waits for the handle: it ends alike
    t = driver:transport(core.new_transport {})
    for _ = 1, 2 do driver:spawn(function() return t:request(get("/orders?size=1")) end) end
    driver:spawn(function() driver:sleep(0.05); t:close() end)
    results = driver:run()
    for i = 1, 2 do
      assert.is_nil(results[i][1])
      assert.equal("network_error", results[i][2].code)
    end
    driver:spawn(function() return pcall(t.request, t, get("/orders?size=1")) end)
    results = driver:run()
    assert.is_false(results[1][1]) -- then it raises, as a closed transport does
  end)

  it("serves clients whose sessions retry under chaos, sleeping through the driver", function()
    local records = sandbox.records()
    local driver = multi.new {}
    local function new_client()
      return sandbox.client { transport = driver:transport(curl.new {}),
        sleep = function(s) return driver:sleep(s) end,
        retry = { max_attempts = 10, base_delay = 0.05, max_delay = 0.2 } }
    end
    local shared, other = new_client(), new_client()
    local ids = {}
    for i = 1, 24 do ids[i] = records[i].id end
    sandbox.chaos { rate = 0.3, kinds = { "502", "503html", "reset", "truncate" }, seed = 7 }
    local attempts = 0
    for i, id in ipairs(ids) do
      driver:spawn(function()
        local client = i % 3 == 0 and other or shared -- one client in many tasks, and another
        local order, err, meta = client:order(id)
        assert(order, err)
        attempts = attempts + meta.attempts
        return order.id
      end)
    end
    local t0 = core.monotonic()
    local results = driver:run()
    local wall = core.monotonic() - t0
    sandbox.chaos { rate = 0 }
    print(string.format("\n  multi driver: %d orders under 30%% chaos in %d attempts, %.3f s", #ids, attempts, wall))
    for i, id in ipairs(ids) do assert.equal(tostring(id), tostring(results[i][1])) end
    assert.is_true(attempts > #ids) -- chaos struck and retries happened
    shared:close()
    other:close()
    local _, err = shared:order(ids[1])
    assert.equal("client_closed", err.code)
  end)
end)
