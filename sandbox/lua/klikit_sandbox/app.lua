-- The klikit sandbox: a local stand-in for the Partner API, served by nginx +
-- lua-nginx-module. It follows the documented contract (klikit-api.md): Basic auth and
-- scopes, the {request_id, data|error} envelope, the lowercase error vocabulary, page/size
-- paging, the 90-day window rule, `data: {}` from /orders/count, an order state machine,
-- and an idempotency store keyed by (credential, Idempotency-Key).
--
-- Control endpoints under /_sandbox (no auth) let tests script faults, make orders arrive
-- during a walk, and read back the requests the sandbox received. One worker: the state
-- lives in this Lua VM.
local cjson = require "cjson.safe"
local json = require "klikit_sandbox.json"
local http = require "klikit_sandbox.http"
local orders = require "klikit_sandbox.orders"
local stores = require "klikit_sandbox.stores"
local menus = require "klikit_sandbox.menus"
local quirks = require "klikit_sandbox.quirks"
local churn = require "klikit_sandbox.churn"
local klar = require "klikit_sandbox.klar"
local webhooks = require "klikit_sandbox.webhooks"

local M = {}
local BASE = "/v1/partner"
local fail = http.fail

-- partner_key -> credential. Printed by `make sandbox`; used by the specs. Scopes named
-- "*:write" are the sandbox's own: klikit documents no scope for those endpoints.
local ALL = { "orders:read", "orders:write", "brands:read", "brands:write", "menus:read",
  "menus:write", "menus:oos", "visibility:write", "webhooks:read" }
local function scopes(list)
  local t = {}
  for _, s in ipairs(list) do t[s] = true end
  return t
end
M.CREDENTIALS = {
  pk_test_klikit = { secret = "sk_test_s3cr3t_never_print_me", scopes = scopes(ALL) },
  pk_test_limited = { secret = "sk_test_limited_s3cr3t", scopes = scopes { "orders:read" } },
  pk_test_revoked = { secret = "sk_test_revoked_s3cr3t", revoked = true, scopes = {} },
}

-- { method, pattern, scope, handler(ctx) }; the first pattern that matches the path
-- decides. Scopes follow klikit's table where it names one.
local ROUTES = {
  { "GET", "^/orders$", "orders:read", orders.list },
  { "GET", "^/orders/count$", "orders:read", orders.count },
  { "GET", "^/orders/order%-types$", "orders:read", orders.order_types },
  { "GET", "^/orders/fulfillment%-statuses$", "orders:read", orders.fulfillment_statuses },
  { "PATCH", "^/orders/(%d+)/status$", "orders:write", orders.transition },
  { "GET", "^/orders/([^/]+)$", "orders:read", orders.get },
  { "GET", "^/brands$", "brands:read", stores.brands },
  { "PATCH", "^/brands/(%d+)$", "brands:write", stores.update_brand },
  { "GET", "^/branches$", "brands:read", stores.branches },
  { "PATCH", "^/branches/(%d+)$", "brands:write", stores.update_branch },
  { "GET", "^/providers$", "menus:read", stores.providers },
  { "GET", "^/menus$", "menus:read", menus.get },
  { "POST", "^/menus/sections$", "menus:write", menus.create_section },
  { "PATCH", "^/menus/sections/(%d+)/visibilities$", "visibility:write", menus.section_visibilities },
  { "POST", "^/menus/categories$", "menus:write", menus.create_category },
  { "PATCH", "^/menus/categories/enable$", "menus:write", menus.enable_categories },
  { "POST", "^/menus/items$", "menus:write", menus.create_item },
  { "POST", "^/menus/modifier%-groups/modifiers$", "menus:write", menus.attach_modifiers },
  { "PATCH", "^/menus/modifier%-groups/(%d+)/visibilities$", "visibility:write", menus.group_visibilities },
  { "POST", "^/menus/sync$", "menus:write", menus.sync },
  { "POST", "^/menus/populate$", "menus:write", menus.populate },
  { "POST", "^/menus/publish$", "menus:write", menus.publish },
  { "POST", "^/menus/reset$", "menus:write", menus.reset },
  { "PATCH", "^/items/([^/]+)/availability$", "menus:oos", menus.availability },
}

local state = { faults = {}, log = {}, log_max = 500, requests = 0, counter = 0,
  idempotency = {}, writes_applied = 0, chaos = nil, injected = {}, latency = 0 }

function M.init(opts, keep_defaults)
  if not keep_defaults then M.opts = opts end
  orders.init(opts)
  stores.init()
  menus.init()
  state.idempotency = {}
end

local function request_id()
  state.counter = state.counter + 1
  return ngx.md5(tostring(ngx.worker.pid()) .. ":" .. ngx.now() .. ":" .. state.counter)
end

local function send(status, body, headers, content_type)
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  ngx.status = status
  ngx.header["Content-Type"] = content_type or "application/json"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return ngx.exit(ngx.HTTP_OK)
end

---------------------------------------------------------------------------------------
-- Faults: a queue of scripted misbehaviours, each consumed by one matching request.

local function apply_fault(f, rid)
  local kind = f.kind
  if kind == "error" then
    return send(fail(f.request_id ~= false and rid or nil, f.status or 500, f.code or "internal",
      f.message or "scripted failure", f.headers))
  elseif kind == "raw" then
    return send(f.status or 502, f.body or "", f.headers, f.content_type or "text/html")
  elseif kind == "close" then
    return ngx.exit(444) -- close the connection without an answer
  elseif kind == "stall" then
    ngx.sleep(tonumber(f.seconds) or 5)
  end
end

-- A fault matches by path prefix and, optionally, a substring of the query string.
local function next_fault(path)
  local args = ngx.var.args or ""
  for i, f in ipairs(state.faults) do
    if (not f.path or path:sub(1, #f.path) == f.path)
      and (not f.match_query or args:find(f.match_query, 1, true)) then
      if (f.times or 1) <= 1 then table.remove(state.faults, i) else f.times = f.times - 1 end
      return f
    end
  end
end

---------------------------------------------------------------------------------------
-- Auth

local function authenticate(rid, scope)
  local h = ngx.var.http_authorization
  local encoded = h and h:match("^[Bb]asic%s+(%S+)%s*$")
  local decoded = encoded and ngx.decode_base64(encoded)
  local key, secret = (decoded or ""):match("^([^:]*):(.*)$")
  if not key then
    return nil, fail(rid, 401, "auth_missing", "Authorization header is missing or malformed")
  end
  local cred = M.CREDENTIALS[key]
  if not cred or cred.secret ~= secret then
    return nil, fail(rid, 401, "auth_invalid_credential", "partner_key or secret_key did not verify")
  end
  if cred.revoked then return nil, fail(rid, 403, "auth_revoked", "credential has been revoked") end
  if scope and not cred.scopes[scope] then
    return nil, fail(rid, 403, "auth_forbidden", "credential is not scoped for " .. scope)
  end
  return key
end

---------------------------------------------------------------------------------------
-- Query parsing

local function scalar_args()
  local args, err = ngx.req.get_uri_args(100)
  if err == "truncated" then return nil, "too many query parameters" end
  for k, v in pairs(args) do
    if type(v) == "table" then return nil, "query parameter " .. k .. " is repeated" end
    if v == true then return nil, "query parameter " .. k .. " has no value" end
  end
  return args
end

---------------------------------------------------------------------------------------
-- Writes go through the idempotency store: the same key with the same body replays the
-- recorded answer (nothing is applied twice); another body is a conflict.

local function idempotent(ctx, handler)
  local key = ngx.var.http_idempotency_key
  if not key or key == "" then
    return fail(ctx.rid, 400, "request_missing_idempotency_key", "Idempotency-Key header is required on this endpoint")
  end
  if #key > 64 then return http.invalid(ctx.rid, "Idempotency-Key is longer than 64 characters") end
  local slot = ctx.credential .. "\0" .. key
  local digest = ngx.md5(ctx.method .. " " .. ctx.path .. "\0" .. (ctx.body or ""))
  local seen = state.idempotency[slot]
  if seen then
    if seen.digest ~= digest then
      return fail(ctx.rid, 409, "state_idempotency_conflict", "Idempotency-Key reused with a different body")
    end
    seen.replays = seen.replays + 1
    return seen.status, seen.body, { ["Idempotent-Replayed"] = "true" }
  end
  local status, body, headers = handler(ctx)
  state.idempotency[slot] = { digest = digest, status = status, body = body, replays = 0 }
  if status < 300 then state.writes_applied = state.writes_applied + 1 end
  return status, body, headers
end

local function record_request(ctx)
  local copy = {}
  for k, v in pairs(ngx.req.get_headers(100)) do copy[k] = v end
  if copy.authorization then copy.authorization = "(present)" end
  -- path and args decoded, uri and query as they came over the wire
  state.log[#state.log + 1] = { method = ctx.method, path = ctx.path, query = ngx.var.args or "",
    uri = ngx.var.request_uri, args = ngx.req.get_uri_args(100), headers = copy, body = ctx.body }
  if #state.log > state.log_max then table.remove(state.log, 1) end
end

local function dispatch(ctx)
  for _, route in ipairs(ROUTES) do
    local capture = ctx.path:match(route[2])
    if capture then
      if route[1] ~= ctx.method then break end
      local credential, status, body = authenticate(ctx.rid, route[3])
      if not credential then return status, body end
      local args, aerr = scalar_args()
      if not args then return http.invalid(ctx.rid, aerr) end
      ctx.credential, ctx.args = credential, args
      ctx.id = capture ~= ctx.path and capture or nil
      if ctx.method == "GET" then return route[4](ctx) end
      return idempotent(ctx, route[4])
    end
  end
  -- unknown path or method: authenticate first so probing never skips auth
  local credential, status, body = authenticate(ctx.rid, nil)
  if not credential then return status, body end
  return fail(ctx.rid, 404, "resource_not_found", "no such endpoint: " .. ctx.method .. " " .. BASE .. ctx.path)
end

---------------------------------------------------------------------------------------
-- Chaos: a seeded share of requests fails in one of the listed ways (see /_sandbox/chaos).

local CHAOS_KINDS = { "429", "502", "503html", "reset", "truncate", "stall", "slow", "lost" }

-- Answers with the head and half of the body, then the connection closes: curl sees a
-- response cut off mid-body.
local function reset_mid_body(ctx)
  local status, body = ctx.dispatch(ctx)
  local sock = ngx.req.socket(true)
  if not sock then return ngx.exit(444) end
  sock:send("HTTP/1.1 " .. status .. " X\r\nContent-Type: application/json\r\nContent-Length: " .. #body
    .. "\r\nConnection: close\r\n\r\n" .. body:sub(1, math.floor(#body / 2)))
  return ngx.exit(ngx.OK)
end

local function apply_chaos(ctx, kind)
  state.injected[kind] = (state.injected[kind] or 0) + 1
  if kind == "429" then
    return send(fail(ctx.rid, 429, "rate_limit_exceeded", "too many requests", { ["Retry-After"] = "1" }))
  elseif kind == "502" then
    return send(fail(ctx.rid, 502, "downstream_unavailable", "upstream unavailable"))
  elseif kind == "503html" then
    return send(503, "<html><head><title>503 Service Temporarily Unavailable</title></head></html>", nil, "text/html")
  elseif kind == "reset" then
    return reset_mid_body(ctx)
  elseif kind == "truncate" then
    local status, body, headers = ctx.dispatch(ctx)
    return send(status, body:sub(1, math.floor(#body / 2)), headers)
  elseif kind == "stall" then
    ngx.sleep(state.chaos.stall_seconds or 2)
  elseif kind == "slow" then
    ngx.sleep(0.02)
  elseif kind == "lost" then
    ctx.dispatch(ctx) -- applied (and recorded by the idempotency store), answer never sent
    return ngx.exit(444)
  end
  return send(ctx.dispatch(ctx))
end

-- The body of the request: in memory, or in nginx's temp file when it was larger.
local function body_data()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local file = ngx.req.get_body_file()
  if not file then return nil end
  local f = io.open(file, "rb")
  if not f then return nil end
  body = f:read("*a")
  f:close()
  return body
end

-- One API request: recorded, then a scripted fault or chaos may strike, then `dispatch`.
-- Faults and chaos apply to the klikit API and the fake Klar alike. A fault's path is
-- matched below /v1/partner ("/orders"), or as the whole path for Klar's ("/klar/12.2022/orders/json").
local function api(path, dispatch_fn, fault_path)
  state.requests = state.requests + 1
  local ctx = { method = ngx.req.get_method(), path = path, body = body_data(),
    rid = request_id(), now = ngx.time(), dispatch = dispatch_fn }
  record_request(ctx)
  if state.latency > 0 then ngx.sleep(state.latency) end -- every answer this late (POST /_sandbox/latency)
  local fault = next_fault(fault_path or path)
  if fault then apply_fault(fault, ctx.rid) end
  local chaos = state.chaos
  if chaos and chaos.rand(1000000) <= chaos.rate * 1000000 then
    return apply_chaos(ctx, chaos.kinds[chaos.rand(#chaos.kinds)])
  end
  return send(dispatch_fn(ctx))
end

local function klar_dispatch(ctx)
  ctx.args = ngx.req.get_uri_args(100)
  return klar.dispatch(ctx, ctx.path)
end

---------------------------------------------------------------------------------------
-- Control endpoints

local function control(path)
  local method = ngx.req.get_method()
  ngx.req.read_body()
  local spec = cjson.decode(ngx.req.get_body_data() or "{}") or {}
  if path == "/_sandbox/faults" and method == "POST" then
    if type(spec.faults) ~= "table" then return send(400, '{"error":"expected {\\"faults\\":[...]}"}') end
    for _, f in ipairs(spec.faults) do
      if f.path then f.path = f.path:gsub("^" .. BASE:gsub("%p", "%%%0"), "") end
      state.faults[#state.faults + 1] = f
    end
    return send(200, json.encode { queued = #state.faults })
  elseif path == "/_sandbox/arrivals" and method == "POST" then
    orders.set_arrivals(tonumber(spec.per_request) or 0, spec.mode or "top")
    return send(200, '{"ok":true}')
  elseif path == "/_sandbox/chaos" and method == "POST" then
    -- { rate = 0..1, kinds = [...] (default all), seed, stall_seconds }; rate 0 turns it off
    local rate = tonumber(spec.rate) or 0
    if rate <= 0 then
      state.chaos = nil
    else
      local kinds = type(spec.kinds) == "table" and #spec.kinds > 0 and spec.kinds or CHAOS_KINDS
      state.chaos = { rate = rate, kinds = kinds, rand = require("klikit_sandbox.data").prng(tonumber(spec.seed) or 1),
        stall_seconds = tonumber(spec.stall_seconds) }
    end
    state.injected = {}
    return send(200, '{"ok":true}')
  elseif path == "/_sandbox/reset" and method == "POST" then
    -- { data = true } regenerates the data; { data = { seed, orders, from, to, open,
    -- same_second, bursts, ms } } regenerates it with those settings instead
    state.faults, state.log, state.chaos, state.latency = {}, {}, nil, 0
    klar.reset()
    webhooks.reset()
    orders.set_arrivals(0)
    quirks.set {}
    churn.clear()
    if type(spec.data) == "table" then
      local opts = {}
      for k, v in pairs(M.opts) do opts[k] = v end
      for k, v in pairs(spec.data) do opts[k] = v end
      M.init(opts, true)
    elseif spec.data then
      M.init(M.opts)
    end
    return send(200, json.encode { reset = true, orders = orders.size() })
  elseif path == "/_sandbox/quirks" and method == "POST" then
    local q, why = quirks.set(spec)
    if not q then return send(400, json.encode { error = why }) end
    return send(200, json.encode(q))
  elseif path == "/_sandbox/churn" and method == "POST" then
    churn.set(spec)
    return send(200, '{"ok":true}')
  elseif path == "/_sandbox/churn" and method == "GET" then
    local r = churn.report()
    r.touched = json.array(r.touched)
    return send(200, json.encode(r))
  elseif path == "/_sandbox/orders" and method == "GET" then
    local out, why = orders.audit(ngx.req.get_uri_args(100))
    if not out then return send(400, json.encode { error = why }) end
    return send(200, json.encode(out))
  elseif path == "/_sandbox/requests" and method == "GET" then
    return send(200, json.encode { requests = json.array(state.log), total = state.requests })
  elseif path == "/_sandbox/stats" and method == "GET" then
    return send(200, json.encode { requests = state.requests, writes_applied = state.writes_applied,
      orders = orders.size(), arrived = orders.arrived(), injected = state.injected,
      transitions = orders.transitions() })
  elseif path == "/_sandbox/latency" and method == "POST" then
    state.latency = math.max(0, math.min(tonumber(spec.seconds) or 0, 30))
    return send(200, json.encode { latency = state.latency })
  elseif path == "/_sandbox/webhooks" and method == "POST" then
    local records, by_id = orders.snapshot()
    local n, why = webhooks.queue(spec, records, by_id)
    if not n then return send(400, json.encode { error = why }) end
    return send(200, json.encode { queued = n })
  elseif path == "/_sandbox/webhooks" and method == "GET" then
    return send(200, json.encode(webhooks.report()))
  elseif path == "/_sandbox/webhooks/selftest" then
    return send(200, json.encode { hmac = webhooks.selftest() })
  elseif path == "/_sandbox/klar" and method == "POST" then
    klar.set_mode(spec)
    return send(200, '{"ok":true}')
  elseif path == "/_sandbox/klar" and method == "GET" then
    local args = ngx.req.get_uri_args(10)
    return send(200, json.encode(klar.report { full = args.full == "1", id = args.id }))
  elseif path == "/_sandbox/klar/reset" and method == "POST" then
    klar.reset()
    return send(200, '{"ok":true}')
  elseif path == "/_sandbox/health" then
    return send(200, json.encode { ok = true, orders = orders.size() })
  end
  return send(404, '{"error":"unknown control endpoint"}')
end

function M.handle()
  local uri = ngx.var.uri
  if uri:sub(1, 10) == "/_sandbox/" then return control(uri) end
  if uri:sub(1, #BASE + 1) == BASE .. "/" then return api(uri:sub(#BASE + 1), dispatch) end
  if uri:sub(1, #klar.PREFIX + 1) == klar.PREFIX .. "/" then
    return api(uri:sub(#klar.PREFIX + 1), klar_dispatch, uri)
  end
  return send(fail(request_id(), 404, "resource_not_found", "not under " .. BASE))
end

return M
