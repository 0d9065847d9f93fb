--- The klikit client: configuration, one request path, and the endpoint methods.
local core = require "klikit.core"
local errors = require "klikit.errors"
local util = require "klikit.util"
local pager = require "klikit.pager"
local curl_transport = require "klikit.transport.curl"
local json = require("cjson.safe").new()

local M = {}
local Client = {}
Client.__index = Client
M.Client = Client

M.ENVIRONMENTS = {
  dev = "https://api.dev.shadowchef.co/v1/partner",
  prod = "https://gateway-enterprise.klikit.io/v1/partner",
}

local invalid = errors.invalid
local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true }

-- Credentials live here, keyed weakly by client, so that no field of the client table
-- (and so no dump, tostring or error of it) ever holds the secret.
local secrets = setmetatable({}, { __mode = "k" })

local function check_credential(name, v)
  if type(v) ~= "string" or v == "" then
    invalid("klikit.new: " .. name .. " is missing: pass " .. name .. " or set KLIKIT_"
      .. name:upper())
  end
  if v:find("[%z\r\n]") or #v > 512 then
    invalid("klikit.new: " .. name .. " contains CR, LF or NUL, or is longer than 512 bytes")
  end
end

local function is_loopback(host)
  return host == "localhost" or host:find("^127%.%d+%.%d+%.%d+$") ~= nil or host == "[::1]"
end

local function check_base_url(url, allow_http)
  if type(url) ~= "string" then invalid("klikit.new: base_url must be a string") end
  local scheme, host = url:match("^(https?)://([^/:]+)")
  if not scheme or url:find("[%s%z?#]") then
    invalid("klikit.new: base_url must look like https://host/v1/partner, got " .. string.format("%q", url))
  end
  if scheme == "http" and not is_loopback(host) and not allow_http then
    invalid("klikit.new: refusing plain http to " .. host .. ": credentials would travel in clear "
      .. "text (use https, or allow_insecure_http = true if you really mean it)")
  end
  return (url:gsub("/+$", ""))
end

local function check_seconds(name, v, dflt)
  if v == nil then return dflt end
  if type(v) ~= "number" or not (v > 0) or v > 86400 then -- luacheck: ignore 581 (NaN)
    invalid("klikit.new: " .. name .. " must be a number of seconds in (0, 86400], got " .. tostring(v))
  end
  return v
end

--- klikit.new{ partner_key, secret_key, base_url | env, timeout, connect_timeout, ca_file,
---   proxy, noproxy, max_body_bytes, transport, allow_insecure_http }
-- Missing credentials and base_url fall back to KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY
-- and KLIKIT_BASE_URL; without any base URL the production API is used.
function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then invalid("klikit.new expects a table of options, got " .. type(opts)) end
  util.check_keys("klikit.new", opts, {
    partner_key = true, secret_key = true, base_url = true, env = true, timeout = true,
    connect_timeout = true, ca_file = true, proxy = true, noproxy = true, max_body_bytes = true,
    transport = true, allow_insecure_http = true, user_agent = true,
  })
  local key = opts.partner_key or os.getenv("KLIKIT_PARTNER_KEY")
  local secret = opts.secret_key or os.getenv("KLIKIT_SECRET_KEY")
  check_credential("partner_key", key)
  check_credential("secret_key", secret)
  if key:find(":", 1, true) then invalid("klikit.new: partner_key cannot contain ':' (HTTP Basic)") end

  if opts.env ~= nil and not M.ENVIRONMENTS[opts.env] then
    invalid("klikit.new: env must be \"dev\" or \"prod\", got " .. tostring(opts.env))
  end
  local base_url = opts.base_url or M.ENVIRONMENTS[opts.env]
  base_url = check_base_url(base_url or os.getenv("KLIKIT_BASE_URL") or M.ENVIRONMENTS.prod,
    opts.allow_insecure_http)

  local transport = opts.transport
  if transport ~= nil then
    if (type(transport) ~= "table" and type(transport) ~= "userdata") or type(transport.request) ~= "function" then
      invalid("klikit.new: transport must be an object with a request(self, req) method")
    end
  else
    for _, name in ipairs { "ca_file", "proxy", "noproxy", "user_agent" } do
      if opts[name] ~= nil and type(opts[name]) ~= "string" then
        invalid("klikit.new: " .. name .. " must be a string")
      end
    end
    if opts.ca_file then
      local f = io.open(opts.ca_file, "rb")
      if not f then invalid("klikit.new: ca_file " .. opts.ca_file .. " cannot be read") end
      f:close()
    end
    transport = curl_transport.new {
      ca_file = opts.ca_file, proxy = opts.proxy, max_body_bytes = opts.max_body_bytes,
      -- loopback never goes through an environment proxy
      noproxy = opts.noproxy or "localhost,127.0.0.1,::1",
      user_agent = opts.user_agent and ("klikit-lua/" .. core.version .. " " .. opts.user_agent),
    }
  end

  local self = setmetatable({
    base_url = base_url,
    partner_key = key,
    timeout = check_seconds("timeout", opts.timeout, 30),
    connect_timeout = check_seconds("connect_timeout", opts.connect_timeout, 10),
    transport = transport,
  }, Client)
  secrets[self] = {
    secret = secret,
    authorization = "Basic " .. core.base64(key .. ":" .. secret),
  }
  return self
end

function Client:__tostring()
  local k = self.partner_key
  return string.format("klikit.client(%s, partner_key %s)", self.base_url,
    #k > 6 and (k:sub(1, 4) .. "...") or "...")
end

-- Removes the secret (and the Authorization value) from any text that came back.
local function redact(client, text)
  local s = secrets[client]
  if type(text) ~= "string" or not s then return text end
  for _, needle in ipairs { s.authorization, core.base64(client.partner_key .. ":" .. s.secret), s.secret } do
    local i = text:find(needle, 1, true)
    while i do
      text = text:sub(1, i - 1) .. "[redacted]" .. text:sub(i + #needle)
      i = text:find(needle, i + 10, true)
    end
  end
  return text
end

local function finish_error(client, err, method, path)
  err.method, err.path = method, path
  err.message = redact(client, err.message)
  return err
end

local function retry_after(headers)
  local v = headers and headers["retry-after"]
  local secs = v and tonumber(v:match("^%s*(%d+)%s*$"))
  return secs
end

local function check_header_table(headers)
  if headers == nil then return end
  if type(headers) ~= "table" then invalid("request: opts.headers must be a table") end
  for k, v in pairs(headers) do
    if type(k) ~= "string" or not k:find("^[%w!#$%%&'*+%-.^_`|~]+$") then
      invalid("request: invalid header name " .. tostring(k))
    end
    if type(v) ~= "string" or v:find("[%z\r\n]") then
      invalid("request: header " .. k .. " must be a string without CR, LF or NUL")
    end
    if k:lower() == "authorization" then invalid("request: the Authorization header is set by klikit") end
  end
end

--- Prepares the request table; raises request_invalid errors for bad input.
function Client:build_request(method, path, opts)
  if type(method) ~= "string" or not METHODS[method] then
    invalid("request: method must be one of GET, POST, PUT, PATCH, DELETE, got " .. tostring(method))
  end
  if type(path) ~= "string" or not path:find("^/") or path:find("[%s%z?#]") or path:find("/%.%.?/")
    or path:find("/%.%.?$") then
    invalid("request: path must start with / and contain no spaces, '?', '#' or dot segments, got "
      .. string.format("%q", tostring(path)))
  end
  opts = opts or {}
  util.check_keys("request", opts, { query = true, body = true, headers = true, timeout = true,
    connect_timeout = true, idempotency_key = true })
  check_header_table(opts.headers)
  local qs = util.query_string(opts.query)
  local headers = { Accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  headers.Authorization = secrets[self].authorization

  local body = opts.body
  if type(body) == "table" then
    local encoded, why = json.encode(body)
    if not encoded then invalid("request: body cannot be encoded as JSON: " .. tostring(why)) end
    body = encoded
  elseif body ~= nil and type(body) ~= "string" then
    invalid("request: body must be a table (sent as JSON) or a string, got " .. type(body))
  end
  if body ~= nil then headers["Content-Type"] = headers["Content-Type"] or "application/json" end

  if method ~= "GET" then
    local key = opts.idempotency_key
    if key == nil then
      key = core.uuid4()
    elseif type(key) ~= "string" or #key < 1 or #key > 64 or not key:find("^[\33-\126]+$") then
      invalid("request: idempotency_key must be 1..64 printable ASCII characters without spaces")
    end
    headers["Idempotency-Key"] = key
  end

  return {
    method = method,
    url = self.base_url .. path .. (qs ~= "" and ("?" .. qs) or ""),
    headers = headers,
    body = body,
    timeout = opts.timeout and check_seconds("timeout", opts.timeout) or self.timeout,
    connect_timeout = opts.connect_timeout and check_seconds("connect_timeout", opts.connect_timeout)
      or self.connect_timeout,
  }
end

--- client:request(method, path, { query, body, headers, timeout, idempotency_key })
--   -> data, nil, meta   |   nil, err, meta
-- meta = { status, headers, request_id, elapsed, idempotency_key }. `path` is relative
-- to base_url. Invalid arguments give request_invalid before anything is sent.
function Client:request(method, path, opts)
  local ok, req = pcall(self.build_request, self, method, path, opts)
  if not ok then
    if errors.is_error(req) then return nil, finish_error(self, req, method, path), {} end
    error(req, 0)
  end
  local meta = { idempotency_key = req.headers["Idempotency-Key"] }
  local resp, terr = self.transport:request(req)
  if not resp then
    return nil, finish_error(self, errors.from_transport(terr), method, path), meta
  end
  meta.status, meta.headers, meta.elapsed, meta.connects =
    resp.status, resp.headers, resp.elapsed, resp.connects
  local decoded, data, request_id = core.decode_envelope(resp.status, resp.body)
  if decoded then
    meta.request_id = request_id
    return data, nil, meta
  end
  local err = errors.from_envelope(data)
  meta.request_id = err.request_id
  err.retry_after = retry_after(resp.headers)
  return nil, finish_error(self, err, method, path), meta
end

-- Runs fn(...) and turns a raised request_invalid into nil, err.
local function guarded(self, where, fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if ok then return a, b, c end
  if errors.is_error(a) then return nil, finish_error(self, a, "GET", where) end
  error(a, 0)
end

---------------------------------------------------------------------------------------
-- Orders

local ORDER_FILTERS = { from = true, to = true, status = true, provider_id = true, branch_id = true }

-- Validates from/to/status/provider_id/branch_id into a query table.
local function order_filters(what, params, extra)
  local allowed = {}
  for k in pairs(ORDER_FILTERS) do allowed[k] = true end
  for k in pairs(extra or {}) do allowed[k] = true end
  params = util.check_keys(what, params, allowed)
  local q = {}
  local from, from_t = util.check_time("from", params.from)
  local to, to_t = util.check_time("to", params.to)
  if from_t and to_t and to_t < from_t then invalid(what .. ": to is earlier than from") end
  q.from, q.to = from, to
  if params.status ~= nil then
    if not (util.is_integer(params.status) and params.status >= 0) and type(params.status) ~= "string" then
      invalid(what .. ": status must be a status code (integer) or a string")
    end
    q.status = params.status
  end
  q.provider_id = util.check_int("provider_id", params.provider_id, 1)
  q.branch_id = util.check_int("branch_id", params.branch_id, 1)
  return q, params
end

local function extract_orders(data)
  if type(data) ~= "table" then return nil, nil, "data is not an object" end
  local list = data.orders
  if list == nil and data.total ~= nil then list = {} end -- an empty page may come as null
  if type(list) ~= "table" then return nil, nil, "no data.orders list" end
  return list, { page = data.page, size = data.size, total = data.total }
end

--- for order in client:orders{ from, to, status, provider_id, branch_id, size, page } do
-- Walks every page of GET /orders (newest first). `from` is inclusive, `to` exclusive;
-- both take RFC 3339 strings or Unix seconds.
function Client:orders(params)
  local ok, q, p = pcall(order_filters, "orders", params, { size = true, page = true })
  local size, page, err
  if ok then
    ok, err = pcall(function()
      size = util.check_int("size", p.size, 1, 100) or 100
      page = util.check_int("page", p.page, 1) or 1
    end)
  else
    err = q
  end
  if not ok then
    if not errors.is_error(err) then error(err, 0) end
    return pager.new(self, { path = "/orders", error = finish_error(self, err, "GET", "/orders") })
  end
  return pager.new(self, { path = "/orders", query = q, extract = extract_orders,
    page = page, size = size })
end

--- n, err = client:count_orders{ from, to, status, provider_id, branch_id }
-- GET /orders/count answers `data: {}` today; when it does, the count comes from
-- GET /orders?size=1 (data.total), as klikit's docs advise.
function Client:count_orders(params)
  local q, err = guarded(self, "/orders/count", order_filters, "count_orders", params)
  if not q then return nil, err end
  local data, err2 = self:request("GET", "/orders/count", { query = q })
  if err2 then return nil, err2 end
  local n = type(data) == "number" and data
    or (type(data) == "table" and (tonumber(data.count) or tonumber(data.total)))
  if n then return n end
  q.page, q.size = 1, 1
  local page, err3, meta3 = self:request("GET", "/orders", { query = q })
  if err3 then return nil, err3 end
  if type(page) ~= "table" or not util.is_integer(page.total) then
    return nil, errors.new { code = "decode_failed", status = meta3.status, method = "GET",
      path = "/orders", request_id = meta3.request_id,
      message = "GET /orders?size=1 returned no integer data.total to count with" }
  end
  return page.total
end

--- order, err = client:order(id)   -- GET /orders/{id}
function Client:order(id)
  local seg, err = guarded(self, "/orders/{id}", util.path_id, "order id", id)
  if not seg then return nil, err end
  local data, err2 = self:request("GET", "/orders/" .. seg)
  if err2 then return nil, err2 end
  if type(data) ~= "table" then
    return nil, errors.new { code = "decode_failed", method = "GET", path = "/orders/" .. seg,
      message = "GET /orders/" .. seg .. " returned no order object" }
  end
  return data
end

---------------------------------------------------------------------------------------
-- Brands and branches

-- GET /brands answers a legacy outer array: data[1].brands (data[0] in klikit's docs).
local function extract_brands(data)
  if type(data) ~= "table" then return nil, nil, "data is not an array" end
  if #data == 0 then return {} end
  local first = data[1]
  if type(first) ~= "table" then return nil, nil, "data[1] is not an object" end
  local list = first.brands or {}
  if type(list) ~= "table" then return nil, nil, "data[1].brands is not a list" end
  return list
end

--- for brand in client:brands() do   -- GET /brands (one page; no paging fields)
function Client:brands()
  return pager.new(self, { path = "/brands", extract = extract_brands, paged = false })
end

--- business, err = client:business()  -- data[1].business of GET /brands
function Client:business()
  local data, err = self:request("GET", "/brands")
  if err then return nil, err end
  return type(data) == "table" and type(data[1]) == "table" and data[1].business or nil
end

local function extract_branches(data)
  if type(data) ~= "table" then return nil, nil, "data is not an object" end
  local list = data.results
  if list == nil and data.total ~= nil then list = {} end
  if type(list) ~= "table" then return nil, nil, "no data.results list" end
  return list, { page = data.page, size = data.size, total = data.total }
end

--- for branch in client:branches{ size, page } do   -- GET /branches, every page
-- The branch page limit is undocumented (the docs echo size=1000), so size is not
-- clamped to 100 here; without size the server's default applies.
function Client:branches(params)
  local ok, err = pcall(function()
    params = util.check_keys("branches", params, { size = true, page = true })
    util.check_int("size", params.size, 1)
    util.check_int("page", params.page, 1)
  end)
  if not ok then
    if not errors.is_error(err) then error(err, 0) end
    return pager.new(self, { path = "/branches", error = finish_error(self, err, "GET", "/branches") })
  end
  return pager.new(self, { path = "/branches", extract = extract_branches,
    page = params.page or 1, size = params.size })
end

--- Releases the connection now instead of at garbage collection.
function Client:close()
  if self.transport.close then self.transport:close() end
end

return M
