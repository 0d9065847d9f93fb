-- The bench server: GET /v1/partner/orders as the sandbox answers it (Basic auth with the
-- sandbox's credentials, from inclusive, to exclusive, newest first, page/size, the
-- 90-day rule, status/provider_id/branch_id, the {request_id, data} envelope with orders,
-- page, size, total), but fast: every order is pre-encoded once (gen_orders.lua, by the
-- sandbox's generator and encoder), the range is two binary searches on created_at, and a
-- page is the concatenation of its pre-encoded rows.
--
--   /v1/partner/...            answered at once
--   /lat/<ms>/v1/partner/...   answered <ms> milliseconds late (ngx.sleep: nothing blocks),
--                              so rounds of a benchmark can mix latencies without restarts
--   GET /_bench/info?sizes=10000,100000   { orders, ranges: [{ n, from, to }] }: for each
--                              size, the range holding the newest `size` orders
--   GET /_bench/stats          { requests } (API requests answered so far, all workers)
local data = require "klikit_sandbox.data"
local json = require "klikit_sandbox.json"
local http = require "klikit_sandbox.http"
local sandbox = require "klikit_sandbox.app" -- its CREDENTIALS

local M = {}
local BASE = "/v1/partner"
local DAY = 86400
local fail, invalid = http.fail, http.invalid
local concat, floor, fmt = table.concat, math.floor, string.format

-- Newest first: created[i], status[i], provider[i], branch[i], row[i] (the order's JSON).
local created, status, provider, branch, row = {}, {}, {}, {}, {}

--- Loads the pre-encoded orders (init_by_lua, before the workers fork).
function M.init(path)
  local find, sub = string.find, string.sub
  local n = 0
  for line in io.lines(path) do
    local a = find(line, "\t", 1, true)
    local b = find(line, "\t", a + 1, true)
    local c = find(line, "\t", b + 1, true)
    local d = find(line, "\t", c + 1, true)
    n = n + 1
    created[n] = tonumber(sub(line, 1, a - 1))
    status[n] = sub(line, a + 1, b - 1)
    provider[n] = tonumber(sub(line, b + 1, c - 1))
    branch[n] = tonumber(sub(line, c + 1, d - 1))
    row[n] = sub(line, d + 1)
  end
  for i = 2, n do assert(created[i] <= created[i - 1], "orders must be newest first") end
end

-- The first index whose created_at is below t (n + 1 when none is).
local function first_below(t)
  local lo, hi = 1, #created + 1
  while lo < hi do
    local mid = floor((lo + hi) / 2)
    if created[mid] < t then hi = mid else lo = mid + 1 end
  end
  return lo
end

local function send(status_code, body)
  ngx.status = status_code
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return ngx.exit(ngx.HTTP_OK)
end

local counter = 0
local function request_id()
  counter = counter + 1
  return ngx.md5(tostring(ngx.worker.pid()) .. ":" .. ngx.now() .. ":" .. counter)
end

-- As the sandbox's authenticate(): the credential, or nil, status, body.
local function authenticate(rid)
  local h = ngx.var.http_authorization
  local encoded = h and h:match("^[Bb]asic%s+(%S+)%s*$")
  local decoded = encoded and ngx.decode_base64(encoded)
  local key, secret = (decoded or ""):match("^([^:]*):(.*)$")
  if not key then return nil, fail(rid, 401, "auth_missing", "Authorization header is missing or malformed") end
  local cred = sandbox.CREDENTIALS[key]
  if not cred or cred.secret ~= secret then
    return nil, fail(rid, 401, "auth_invalid_credential", "partner_key or secret_key did not verify")
  end
  if cred.revoked then return nil, fail(rid, 403, "auth_revoked", "credential has been revoked") end
  if not cred.scopes["orders:read"] then
    return nil, fail(rid, 403, "auth_forbidden", "credential is not scoped for orders:read")
  end
  return key
end

-- As the sandbox's scalar_args().
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
    return nil, fmt("%s must be an integer in %d..%s", name, lo, hi and tostring(hi) or "")
  end
  return n
end

-- GET /orders, checked in the sandbox's order (filters, page, size).
local function list(rid, args)
  local from, to
  if args.from then
    from = data.parse_time(args.from)
    if not from then return fail(rid, 400, "request_invalid", "from must be an RFC 3339 date-time") end
  end
  if args.to then
    to = data.parse_time(args.to)
    if not to then return fail(rid, 400, "request_invalid", "to must be an RFC 3339 date-time") end
  end
  if from and to then
    if to < from then return fail(rid, 400, "request_invalid", "to is earlier than from") end
    if to - from > 90 * DAY then
      return fail(rid, 400, "request_invalid_range", "date range exceeds the 90-day maximum")
    end
  end
  local prov, err = int_arg(args, "provider_id", 1)
  if err then return fail(rid, 400, "request_invalid", err) end
  local br
  br, err = int_arg(args, "branch_id", 1)
  if err then return fail(rid, 400, "request_invalid", err) end
  local page
  page, err = int_arg(args, "page", 1, nil, 1)
  if not page then return invalid(rid, err) end
  local size
  size, err = int_arg(args, "size", 1, 100, 20)
  if not size then return invalid(rid, err) end
  -- [lo, hi): the rows with from <= created < to
  local lo = to and first_below(to) or 1
  local hi = from and first_below(from) or #created + 1
  local st = args.status
  local rows, total = {}, 0
  local first = (page - 1) * size + 1
  if not (st or prov or br) then
    total = math.max(0, hi - lo)
    for i = lo + first - 1, math.min(lo + first + size - 2, hi - 1) do rows[#rows + 1] = row[i] end
  else -- filters other than the range: a scan of the range (not what the bench times)
    for i = lo, hi - 1 do
      if (not st or status[i] == st) and (not prov or provider[i] == prov) and (not br or branch[i] == br) then
        total = total + 1
        if total >= first and total < first + size then rows[#rows + 1] = row[i] end
      end
    end
  end
  return 200, '{"request_id":' .. json.encode(rid) .. ',"data":{"orders":[' .. concat(rows, ",")
    .. fmt('],"page":%d,"size":%d,"total":%d}}', page, size, total)
end

local function api(path)
  ngx.shared.bench:incr("requests", 1, 0)
  local rid = request_id()
  if path == "/orders" and ngx.req.get_method() == "GET" then
    local who, s, b = authenticate(rid)
    if not who then return send(s, b) end
    local args, aerr = scalar_args()
    if not args then return send(invalid(rid, aerr)) end
    return send(list(rid, args))
  end
  local who, s, b = authenticate(rid)
  if not who then return send(s, b) end
  return send(fail(rid, 404, "resource_not_found", "no such endpoint: " .. ngx.req.get_method() .. " "
    .. BASE .. path))
end

-- { n, from, to } for the newest `size` orders (n can exceed size when the oldest of them
-- shares its second with older orders).
local function range_of(size, to)
  local t = created[size]
  return { n = first_below(t) - 1, from = data.format_time(t), to = to }
end

function M.handle(settings)
  local uri = ngx.var.uri
  local ms, rest = uri:match("^/lat/(%d+)(/.*)$")
  if ms then uri = rest end
  if uri:sub(1, #BASE + 1) == BASE .. "/" then
    if ms and tonumber(ms) > 0 then ngx.sleep(tonumber(ms) / 1000) end
    return api(uri:sub(#BASE + 1))
  elseif uri == "/_bench/stats" then
    return send(200, json.encode { requests = ngx.shared.bench:get("requests") or 0 })
  elseif uri == "/_bench/info" then
    local ranges = json.array()
    for s in (ngx.var.arg_sizes or ""):gmatch("%d+") do
      local size = tonumber(s)
      if size < 1 or size > #created then
        return send(400, json.encode { error = "size " .. s .. " is outside 1.." .. #created })
      end
      ranges[#ranges + 1] = range_of(size, settings.to)
    end
    return send(200, json.encode { orders = #created, ranges = ranges })
  end
  return send(fail(request_id(), 404, "resource_not_found", "not under " .. BASE))
end

return M
