-- The klikit sandbox: a local stand-in for the Partner API, served by nginx +
-- lua-nginx-module. It follows the documented contract (klikit-api.md): Basic auth, the
-- {request_id, data|error} envelope, the lowercase error vocabulary, page/size paging,
-- the 90-day window rule, and `data: {}` from /orders/count.
--
-- Control endpoints under /_sandbox (no auth) let tests script faults and read back the
-- requests the sandbox received. Single worker: state lives in this Lua VM.
local cjson = require "cjson.safe"
local json = require "klikit_sandbox.json"
local data = require "klikit_sandbox.data"

local M = {}
local BASE = "/v1/partner"
local DAY = 86400

-- partner_key -> credential. Printed by `make sandbox`; used by the specs.
M.CREDENTIALS = {
  pk_test_klikit = { secret = "sk_test_s3cr3t_never_print_me", business = 398,
    scopes = { ["orders:read"] = true, ["brands:read"] = true, ["menus:read"] = true,
      ["menus:oos"] = true, ["visibility:write"] = true, ["webhooks:read"] = true } },
  pk_test_limited = { secret = "sk_test_limited_s3cr3t", business = 398,
    scopes = { ["orders:read"] = true } },
  pk_test_revoked = { secret = "sk_test_revoked_s3cr3t", business = 398, revoked = true, scopes = {} },
}

local state = {
  records = {}, by_id = {}, faults = {}, log = {}, log_max = 500, requests = 0, counter = 0,
}

function M.init(opts)
  state.records = data.generate(opts)
  state.by_id = {}
  for _, r in ipairs(state.records) do state.by_id[r.id] = r end
  state.opts = opts
end

local function request_id()
  state.counter = state.counter + 1
  return ngx.md5(tostring(ngx.worker.pid()) .. ":" .. ngx.now() .. ":" .. state.counter)
end

local function send(status, body, content_type)
  ngx.status = status
  ngx.header["Content-Type"] = content_type or "application/json"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return ngx.exit(ngx.HTTP_OK)
end

local function ok(rid, payload, status)
  return send(status or 200, '{"request_id":' .. json.encode(rid) .. ',"data":' .. json.encode(payload) .. "}")
end

local function fail(rid, status, code, message, extra_headers)
  for k, v in pairs(extra_headers or {}) do ngx.header[k] = v end
  local env = { error = { code = code, message = message } }
  if rid then env.request_id = rid end
  return send(status, json.encode(env))
end

---------------------------------------------------------------------------------------
-- Faults: a queue of scripted misbehaviours, each consumed by one matching request.

local function apply_fault(f, rid)
  local kind = f.kind
  if kind == "error" then
    return fail(f.request_id ~= false and rid or nil, f.status or 500, f.code or "internal",
      f.message or "scripted failure", f.headers)
  elseif kind == "raw" then
    for k, v in pairs(f.headers or {}) do ngx.header[k] = v end
    return send(f.status or 502, f.body or "", f.content_type or "text/html")
  elseif kind == "close" then
    return ngx.exit(444) -- close the connection without an answer
  elseif kind == "stall" then
    ngx.sleep(tonumber(f.seconds) or 5)
    return nil -- then answer normally (if the client is still there)
  end
  return nil
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

local function b64decode(s)
  local ok_, v = pcall(ngx.decode_base64, s)
  return ok_ and v or nil
end

local function authenticate(rid, scope)
  local h = ngx.var.http_authorization
  local encoded = h and h:match("^[Bb]asic%s+(%S+)%s*$")
  local decoded = encoded and b64decode(encoded)
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
  return cred
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

local function int_arg(args, name, lo, hi, default)
  local v = args[name]
  if v == nil then return default end
  local n = tonumber(v)
  if not v:find("^%d+$") or not n or n < lo or (hi and n > hi) then
    return nil, string.format("%s must be an integer in %d..%s", name, lo, hi and tostring(hi) or "")
  end
  return n
end

local function date_window(args)
  local from, to
  if args.from then
    from = data.parse_time(args.from)
    if not from then return nil, nil, "request_invalid", "from must be an RFC 3339 date-time" end
  end
  if args.to then
    to = data.parse_time(args.to)
    if not to then return nil, nil, "request_invalid", "to must be an RFC 3339 date-time" end
  end
  if from and to then
    if to < from then return nil, nil, "request_invalid", "to is earlier than from" end
    if to - from > 90 * DAY then
      return nil, nil, "request_invalid_range", "date range exceeds the 90-day maximum"
    end
  end
  return from, to
end

local function order_filter(args)
  local from, to, code, msg = date_window(args)
  if code then return nil, code, msg end
  local provider, branch
  local err
  provider, err = int_arg(args, "provider_id", 1)
  if err then return nil, "request_invalid", err end
  branch, err = int_arg(args, "branch_id", 1)
  if err then return nil, "request_invalid", err end
  local status = args.status
  return function(r)
    return (not from or r.created >= from) and (not to or r.created < to)
      and (not status or tostring(r.status) == status)
      and (not provider or r.provider_id == provider) and (not branch or r.branch.id == branch)
  end
end

---------------------------------------------------------------------------------------
-- Routes

local function list_orders(rid, args)
  local keep, code, msg = order_filter(args)
  if not keep then return fail(rid, 400, code, msg) end
  local page, err = int_arg(args, "page", 1, nil, 1)
  if not page then return fail(rid, 400, "request_invalid", err) end
  local size
  size, err = int_arg(args, "size", 1, 100, 20)
  if not size then return fail(rid, 400, "request_invalid", err) end
  local first, last = (page - 1) * size + 1, page * size
  local orders, total = json.array(), 0
  for _, r in ipairs(state.records) do
    if keep(r) then
      total = total + 1
      if total >= first and total <= last then orders[#orders + 1] = data.order(r) end
    end
  end
  return ok(rid, { orders = orders, page = page, size = size, total = total })
end

local function count_orders(rid, args)
  local keep, code, msg = order_filter(args)
  if not keep then return fail(rid, 400, code, msg) end
  return ok(rid, {}) -- as the real endpoint does today
end

local function get_order(rid, id)
  local r = id:find("^%d+$") and state.by_id[tonumber(id)]
  if not r then return fail(rid, 404, "resource_not_found", "order not found") end
  return ok(rid, data.order(r))
end

local function list_branches(rid, args)
  local page, err = int_arg(args, "page", 1, nil, 1)
  if not page then return fail(rid, 400, "request_invalid", err) end
  local size
  size, err = int_arg(args, "size", 1, 1000, 1000)
  if not size then return fail(rid, 400, "request_invalid", err) end
  local results = json.array()
  for i = (page - 1) * size + 1, math.min(page * size, #data.BRANCHES) do
    results[#results + 1] = data.branch(data.BRANCHES[i])
  end
  return ok(rid, { page = page, size = size, total = #data.BRANCHES, results = results })
end

-- { method, pattern, scope, handler(rid, args, capture) }
local ROUTES = {
  { "GET", "^/orders$", "orders:read", list_orders },
  { "GET", "^/orders/count$", "orders:read", count_orders },
  { "GET", "^/orders/order%-types$", "orders:read", function(rid) return ok(rid, data.ORDER_TYPES) end },
  { "GET", "^/orders/fulfillment%-statuses$", "orders:read",
    function(rid) return ok(rid, data.FULFILLMENT_STATUSES) end },
  { "GET", "^/orders/([^/]+)$", "orders:read", function(rid, _, id) return get_order(rid, id) end },
  { "GET", "^/brands$", "brands:read", function(rid) return ok(rid, data.brands_payload()) end },
  { "GET", "^/branches$", "brands:read", list_branches },
}

local function record_request(path)
  local headers = ngx.req.get_headers(100)
  local copy = {}
  for k, v in pairs(headers) do copy[k] = v end
  if copy.authorization then copy.authorization = "(present)" end
  ngx.req.read_body()
  state.log[#state.log + 1] = { method = ngx.req.get_method(), path = path,
    query = ngx.var.args or "", headers = copy, body = ngx.req.get_body_data() }
  if #state.log > state.log_max then table.remove(state.log, 1) end
end

local function api(path)
  state.requests = state.requests + 1
  record_request(path)
  local rid = request_id()
  local fault = next_fault(path)
  if fault then apply_fault(fault, rid) end
  local method = ngx.req.get_method()
  local args, aerr = scalar_args()
  for _, route in ipairs(ROUTES) do
    local capture = { path:match(route[2]) }
    if #capture > 0 or path:find(route[2]) then
      if route[1] ~= method then break end
      local cred = authenticate(rid, route[3])
      if not cred then return end
      if not args then return fail(rid, 400, "request_invalid", aerr) end
      return route[4](rid, args, capture[1] ~= path and capture[1] or nil)
    end
  end
  -- unknown path or method: authenticate first so probing never skips auth
  if not authenticate(rid, nil) then return end
  return fail(rid, 404, "resource_not_found", "no such endpoint: " .. method .. " " .. BASE .. path)
end

---------------------------------------------------------------------------------------
-- Control endpoints

local function control(path)
  local method = ngx.req.get_method()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if path == "/_sandbox/faults" and method == "POST" then
    local spec = cjson.decode(body or "")
    if type(spec) ~= "table" or type(spec.faults) ~= "table" then
      return send(400, '{"error":"expected {\\"faults\\":[...]}"}')
    end
    for _, f in ipairs(spec.faults) do
      if f.path then f.path = f.path:gsub("^" .. BASE:gsub("%p", "%%%0"), "") end
      state.faults[#state.faults + 1] = f
    end
    return send(200, json.encode { queued = #state.faults })
  elseif path == "/_sandbox/reset" and method == "POST" then
    state.faults, state.log = {}, {}
    return send(200, '{"reset":true}')
  elseif path == "/_sandbox/requests" and method == "GET" then
    return send(200, json.encode { requests = json.array(state.log), total = state.requests })
  elseif path == "/_sandbox/health" then
    return send(200, json.encode { ok = true, orders = #state.records })
  end
  return send(404, '{"error":"unknown control endpoint"}')
end

function M.handle()
  local uri = ngx.var.uri
  if uri:sub(1, 10) == "/_sandbox/" then return control(uri) end
  if uri:sub(1, #BASE + 1) == BASE .. "/" then return api(uri:sub(#BASE + 1)) end
  return fail(request_id(), 404, "resource_not_found", "not under " .. BASE)
end

return M
