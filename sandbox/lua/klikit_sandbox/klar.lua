-- The fake Klar order-import API, served under /klar (klar-api.md §3-§5):
--   POST /klar/<MM.YYYY>/orders/validate[?failedOrderIds=true]   checks, stores nothing
--   POST /klar/<MM.YYYY>/orders/json[?failedOrderIds=true]       checks, upserts by id
--   GET  /klar/orders/status                                     all values as strings
-- Bearer auth. Answers in Klar's three shapes: 201 {"status":"VALID"}; 400 INVALID with
-- errors as strings (validate) or {id,key,message,value} objects (json), failed ids under
-- orderIds; 207 PARTIALLY_VALID with failedOrderIds and successfulOrderIds (valid orders
-- of the batch are stored); without failedOrderIds=true, the raw class-validator tree.
-- Every upload is counted per id, so specs can prove exactly-once.
--
-- Modes (POST /_sandbox/klar { ... }; a new table replaces the old):
--   reject      { "<id>": "message" }  orders refused whatever they hold
--   partial     false: a mixed batch is refused whole (400 INVALID), as the docs describe
--   error_style "strings" | "objects" (default: objects on json, strings on validate)
--   ids_key     "orderIds" | "failedOrderIds" (default: orderIds on 400, failedOrderIds on 207)
local cjson = require "cjson.safe"
local json = require "klikit_sandbox.json"
local rules = require "klikit_sandbox.klar_rules"

local M = {}
M.TOKEN = "klar_test_token_n3ver_print_me"
M.PREFIX = "/klar"
M.MAX_ORDERS = 1000
local VERSIONS = { ["12.2022"] = true, ["07.2025"] = true }

local state

function M.reset()
  state = { orders = {}, uploads = {}, total = 0, last_batch = 0, last_success = nil, last_failure = nil,
    requests = 0, batches = 0, mode = {} }
end
M.reset()

function M.set_mode(mode)
  state.mode = type(mode) == "table" and mode or {}
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. string.format(".%03dZ", math.floor((t % 1) * 1000))
end

local function answer(status, body) return status, json.encode(body) end

local function error_string(i, e)
  return string.format("orders.%d.%s: (%s) %s (%s)", i - 1, e.path, tostring(e.value), e.message, e.rule)
end

-- The raw class-validator tree of a refused batch (no status field).
local function tree(orders, failed)
  local out = json.array()
  for _, f in ipairs(failed) do
    local children = json.array()
    for _, e in ipairs(f.errors) do
      children[#children + 1] = { property = e.path, value = e.value ~= nil and tostring(e.value) or json.null,
        constraints = { [e.rule] = e.message }, children = json.array() }
    end
    out[#out + 1] = { target = json.array(), value = json.null, property = tostring(f.index - 1),
      children = children, constraints = {} }
  end
  local _ = orders
  return out
end

local function refused_list(failed, style)
  local errs = json.array()
  for _, f in ipairs(failed) do
    for _, e in ipairs(f.errors) do
      if style == "strings" then
        errs[#errs + 1] = error_string(f.index, e)
      else
        errs[#errs + 1] = { id = f.id or json.null, key = string.format("%d.%s", f.index - 1, e.path),
          message = e.message, value = e.value ~= nil and tostring(e.value) or json.null }
      end
    end
  end
  return errs
end

local function import(ctx, endpoint)
  local orders = cjson.decode(ctx.body or "")
  if type(orders) ~= "table" or (next(orders) ~= nil and orders[1] == nil) then
    return answer(400, { status = "INVALID",
      errors = json.array { "orders: the body must be a JSON array of orders (isArray)" } })
  end
  if #orders > M.MAX_ORDERS then
    return answer(400, { status = "INVALID", errors = json.array {
      string.format("orders: (%d) at most %d orders per request (arrayMaxSize)", #orders, M.MAX_ORDERS) } })
  end
  local mode, failed, good = state.mode, {}, {}
  for i, o in ipairs(orders) do
    local errs = rules.check(o, cjson.null)
    local id = type(o) == "table" and type(o.id) == "string" and o.id or nil
    if id and mode.reject and mode.reject[id] then
      errs[#errs + 1] = { path = "id", value = id, message = tostring(mode.reject[id]), rule = "isAccepted" }
    end
    if #errs > 0 then failed[#failed + 1] = { index = i, id = id, errors = errs } else good[#good + 1] = o end
  end
  local now = ngx.now()
  local flagged = ctx.args.failedOrderIds == "true"
  local store = endpoint == "json" and (#failed == 0 or (flagged and mode.partial ~= false))
  if store then
    for _, o in ipairs(good) do
      state.orders[o.id] = o
      state.uploads[o.id] = (state.uploads[o.id] or 0) + 1
    end
    if #good > 0 then
      state.total, state.last_batch, state.last_success = state.total + #good, #good, now
      state.batches = state.batches + 1
    end
  end
  if #failed == 0 then return answer(201, { status = "VALID" }) end
  state.last_failure = now
  if not flagged then return answer(400, tree(orders, failed)) end
  local style = mode.error_style or (endpoint == "json" and "objects" or "strings")
  local ids = json.array()
  for _, f in ipairs(failed) do ids[#ids + 1] = f.id or json.null end
  if store and #good > 0 then
    local ok_ids = json.array()
    for _, o in ipairs(good) do ok_ids[#ok_ids + 1] = o.id end
    return answer(207, { status = "PARTIALLY_VALID", errors = refused_list(failed, style),
      [mode.ids_key or "failedOrderIds"] = ids, successfulOrderIds = ok_ids })
  end
  return answer(400, { status = "INVALID", errors = refused_list(failed, style), [mode.ids_key or "orderIds"] = ids })
end

local function status()
  return answer(200, { total = tostring(state.total), lastBatchCount = tostring(state.last_batch),
    lastSuccess = state.last_success and iso(state.last_success) or json.null,
    lastFailure = state.last_failure and iso(state.last_failure) or json.null })
end

--- (status, body, headers) for a request to `path` (below /klar).
function M.dispatch(ctx, path)
  state.requests = state.requests + 1
  local token = (ngx.var.http_authorization or ""):match("^Bearer%s+(%S+)%s*$")
  if token ~= M.TOKEN then
    return answer(401, { statusCode = 401, message = "Unauthorized" })
  end
  if path == "/orders/status" then
    if ctx.method ~= "GET" then return answer(405, { statusCode = 405, message = "Method Not Allowed" }) end
    return status()
  end
  local version, endpoint = path:match("^/(%d%d%.%d%d%d%d)/orders/(%a+)$")
  if not version or not VERSIONS[version] or (endpoint ~= "json" and endpoint ~= "validate") then
    return answer(404, { statusCode = 404, message = "Cannot " .. ctx.method .. " " .. M.PREFIX .. path })
  end
  if ctx.method ~= "POST" then
    return answer(404, { statusCode = 404, message = "Cannot " .. ctx.method .. " " .. path })
  end
  local ct = ngx.var.http_content_type or ""
  if not ct:find("^application/json") then
    return answer(415, { statusCode = 415, message = "Content-Type must be application/json" })
  end
  return import(ctx, endpoint)
end

--- What specs read back: { count, requests, batches, total, uploads = { id = n },
--- financial = { id = financialStatus } } and, with full, the stored orders.
function M.report(args)
  local out = { count = 0, requests = state.requests, batches = state.batches, total = state.total,
    uploads = {}, financial = {}, shipment = {}, cancelled_at = {} }
  for id, o in pairs(state.orders) do
    out.count = out.count + 1
    out.uploads[id] = state.uploads[id]
    out.financial[id] = o.financialStatus
    out.shipment[id] = o.shipmentStatus
    out.cancelled_at[id] = o.cancelledAt
  end
  if args.full then out.orders = state.orders end
  if args.id then out.order = state.orders[args.id] or json.null end
  return out
end

return M
