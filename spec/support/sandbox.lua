-- Test access to the klikit sandbox: started once per busted run (on a free loopback
-- port, by sandbox/sandboxctl), stopped by pid at suite end or when the state closes.
local core = require "klikit.core"
local cjson = require "cjson.safe"

local M = {
  partner_key = "pk_test_klikit",
  secret_key = "sk_test_s3cr3t_never_print_me",
  limited = { partner_key = "pk_test_limited", secret_key = "sk_test_limited_s3cr3t" },
  revoked = { partner_key = "pk_test_revoked", secret_key = "sk_test_revoked_s3cr3t" },
}

local env -- KEY=VALUE lines of `sandboxctl start`
local guard -- stops the sandbox when the Lua state is closed, even after a crash in a spec

-- Runs `sandboxctl start` with extra environment assignments ("K=V ..."); returns its
-- KEY=VALUE lines as a table, or raises with what it printed.
-- This process's pid: the sandbox's watchdog stops it if the suite dies without cleaning up.
local function own_pid()
  local f = io.open("/proc/self/stat", "r")
  local pid = f and f:read("*n")
  if f then f:close() end
  return pid and string.format("%d", pid) or ""
end

local function launch(assignments)
  local p = assert(io.popen("SANDBOX_OWNER_PID=" .. own_pid() .. " " .. assignments
    .. " sandbox/sandboxctl start 2>&1", "r"))
  local out = p:read("*a")
  local ok = p:close()
  local parsed = {}
  for k, v in out:gmatch("([%w_]+)=([^\n]*)") do parsed[k] = v end
  if not ok or not parsed.KLIKIT_SANDBOX_URL then error("sandbox did not start:\n" .. out) end
  return parsed
end

local function stop_dir(dir)
  os.execute("sandbox/sandboxctl stop '" .. dir .. "' >/dev/null 2>&1")
end

-- POSTs/GETs a control endpoint of the sandbox at `url` and decodes its JSON answer.
local function control_at(url, transport, method, path, body)
  local resp, code, msg = transport:request { method = method, url = url .. "/_sandbox/" .. path,
    body = body and cjson.encode(body), timeout = 10 }
  assert(resp, code and (code .. ": " .. tostring(msg)))
  assert(resp.status == 200, "sandbox control " .. path .. " failed: " .. resp.body)
  return cjson.decode(resp.body)
end

function M.stop()
  if env and env.KLIKIT_SANDBOX_DIR then stop_dir(env.KLIKIT_SANDBOX_DIR) end
  env = nil
end

function M.start()
  if env then return env end
  env = launch("")
  guard = setmetatable({}, { __gc = function() M.stop() end })
  M.url = env.KLIKIT_SANDBOX_URL
  M.base_url = env.KLIKIT_BASE_URL
  M.pid = tonumber(env.KLIKIT_SANDBOX_PID)
  M.dir = env.KLIKIT_SANDBOX_DIR
  return env
end

-- A raw transport for the control endpoints (and for requests the client would refuse).
local raw
local function transport()
  raw = raw or core.new_transport {}
  return raw
end

function M.http(method, path, body, headers)
  M.start()
  local resp, code, msg = transport():request { method = method, url = M.url .. path,
    body = body, headers = headers or (body and { ["Content-Type"] = "application/json" }), timeout = 10 }
  assert(resp, code and (code .. ": " .. tostring(msg)))
  return resp
end

local function control(method, path, body)
  M.start()
  return control_at(M.url, transport(), method, path, body)
end

--- Queues scripted faults, e.g. { kind = "raw", status = 502, body = "<html>..." }.
function M.faults(list, path)
  for _, f in ipairs(list) do f.path = f.path or path end
  return control("POST", "faults", { faults = list })
end

--- Clears faults, the request log and arrivals; { data = true } also regenerates the
--- orders, brands, branches and menus (undoing writes and arrivals).
function M.reset(opts) return control("POST", "reset", opts or {}) end

--- Makes `n` new orders arrive on every GET /orders: mode "top" (created now) or
--- "inside" (created inside the requested window).
function M.arrivals(n, mode) return control("POST", "arrivals", { per_request = n, mode = mode }) end

--- { requests, writes_applied, orders, arrived }
function M.stats() return control("GET", "stats") end

--- Regenerates the orders with generation settings (seed, orders, from, to, open,
--- same_second, bursts, ms) and clears faults, quirks and churn.
function M.regenerate(settings) return control("POST", "reset", { data = settings }) end

--- Sets the sandbox's server quirks (see sandbox/lua/klikit_sandbox/quirks.lua); {} clears.
function M.quirks(q) return control("POST", "quirks", q or {}) end

--- Sets what changes on every GET /orders: { arrive, mode, status, delete, seed }.
function M.churn(c) return control("POST", "churn", c or {}) end

--- { touched = ids changed, arrived or deleted since the last reset, arrived, changed, deleted }
function M.churned() return control("GET", "churn") end

--- The orders matching a filter now, in true order: { ids, created, status }.
function M.truth(filter)
  local parts = {}
  for k, v in pairs(filter or {}) do
    parts[#parts + 1] = k .. "=" .. tostring(v):gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", c:byte())
    end)
  end
  return control("GET", "orders" .. (#parts > 0 and ("?" .. table.concat(parts, "&")) or ""))
end

--- The requests the sandbox received since the last reset (newest last).
function M.requests() return control("GET", "requests").requests end

--- A client for the sandbox; `overrides` replace the default options. Single attempt
--- unless a spec asks for retries (error-path specs script exactly one failure).
function M.client(overrides)
  M.start()
  local opts = { partner_key = M.partner_key, secret_key = M.secret_key, base_url = M.base_url,
    retry = { max_attempts = 1 } }
  -- KLIKIT_SPEC_TRANSPORT=ngx: every request through klikit.transport.ngx inside nginx
  if os.getenv("KLIKIT_SPEC_TRANSPORT") == "ngx" then opts.transport = require("support.ngx_forward").new() end
  for k, v in pairs(overrides or {}) do opts[k] = v end
  return require("klikit").new(opts)
end

--- The orders the sandbox serves, regenerated from the same seed (newest first).
function M.records()
  local data = require "klikit_sandbox.data"
  M.cached_records = M.cached_records or data.generate {}
  return M.cached_records, data
end

--- Starts an extra sandbox with its own settings (env: SANDBOX_ORDERS, SANDBOX_OPEN, ...);
--- returns { base_url, url, stop = function }.
function M.start_extra(settings)
  local assignments = {}
  for k, v in pairs(settings) do assignments[#assignments + 1] = k .. "=" .. tostring(v) end
  local parsed = launch(table.concat(assignments, " "))
  local extra = { base_url = parsed.KLIKIT_BASE_URL, url = parsed.KLIKIT_SANDBOX_URL,
    ca_file = parsed.KLIKIT_SANDBOX_CA }
  local raw_extra = core.new_transport { ca_file = extra.ca_file }
  function extra.control(method, path, body)
    return control_at(extra.url, raw_extra, method, path, body)
  end
  function extra.stop() stop_dir(parsed.KLIKIT_SANDBOX_DIR) end
  return extra
end

-- The local TCP ports in use, as a set.
local function used_ports()
  local used = {}
  for _, f in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    local fh = io.open(f)
    if fh then
      for line in fh:lines() do
        local port = line:match("^%s*%d+: [%x]+:(%x+) ")
        if port then used[tonumber(port, 16)] = true end
      end
      fh:close()
    end
  end
  return used
end

--- `n` loopback ports nothing listens on.
function M.free_ports(n)
  local used, out = used_ports(), {}
  local port = 30000 + math.random(0, 9000)
  while #out < n do
    if not used[port] then out[#out + 1] = port end
    port = port + 1
  end
  local unpack = table.unpack or rawget(_G, "unpack") -- 5.1 and LuaJIT
  return unpack(out)
end

--- A loopback port nothing listens on (for connection-refused tests).
function M.closed_port()
  local used = used_ports()
  for port = 39999, 30000, -1 do
    if not used[port] then return port end
  end
end

--- The fake Klar (sandbox/lua/klikit_sandbox/klar.lua) --------------------------------

M.klar_token = "klar_test_token_n3ver_print_me"

--- A Klar client for the fake Klar; `overrides` replace the defaults (fast retries).
function M.klar_client(overrides)
  M.start()
  local opts = { token = M.klar_token, base_url = M.url .. "/klar",
    retry = { max_attempts = 1 } }
  for k, v in pairs(overrides or {}) do opts[k] = v end
  return require("klikit.klar").new(opts)
end

--- { count, requests, batches, total, uploads = { id = n }, financial = { id = status },
--- shipment, cancelled_at }; args: { full = true } adds orders, { id = "..." } one order.
function M.klar_report(args)
  local q = {}
  if args and args.full then q[#q + 1] = "full=1" end
  if args and args.id then q[#q + 1] = "id=" .. args.id end
  return control("GET", "klar" .. (#q > 0 and ("?" .. table.concat(q, "&")) or ""))
end

--- Sets the fake Klar's modes: { reject = { id = message }, partial, error_style, ids_key }.
function M.klar_mode(mode) return control("POST", "klar", mode or {}) end

--- Empties the fake Klar's store and counters.
function M.klar_reset() return control("POST", "klar/reset", {}) end

--- Sets chaos: { rate, kinds, seed, stall_seconds } (rate 0 turns it off).
function M.chaos(c) return control("POST", "chaos", c or { rate = 0 }) end

--- Makes every API answer (klikit and Klar) `seconds` late; 0 turns it off.
function M.control_latency(seconds) return control("POST", "latency", { seconds = seconds }) end

--- Queues signed webhook deliveries (see sandbox/lua/klikit_sandbox/webhooks.lua).
function M.webhooks(spec) return control("POST", "webhooks", spec) end

--- { deliveries = [ { event_id, attempts = [ { status, ms, body } ], done } ], pending }
function M.webhook_report() return control("GET", "webhooks") end

--- n Klar orders, mapped from sandbox-style klikit orders (generated locally, cached).
local klar_orders = {}
function M.klar_orders(n)
  if not klar_orders[n] then
    local data = require "klikit_sandbox.data"
    local sj = require "klikit_sandbox.json"
    local klar = require "klikit.klar"
    local list = {}
    for i, r in ipairs(data.generate { orders = n, seed = 7 }) do
      list[i] = assert(klar.from_klikit(core.decode_json(sj.encode(data.order(r)))))
    end
    klar_orders[n] = list
  end
  return klar_orders[n]
end

M._guard = function() return guard end
return M
