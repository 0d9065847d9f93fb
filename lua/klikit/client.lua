--- The klikit client: configuration, one request path, and the endpoint methods.
local core = require "klikit.core"
local errors = require "klikit.errors"
local util = require "klikit.util"
local curl_transport = require "klikit.transport.curl"
local body_mod = require "klikit.body"
local retry = require "klikit.retry"
local ratelimit = require "klikit.ratelimit"
local url_mod = require "klikit.url"
local redact_mod = require "klikit.redact"

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

local function check_seconds(where, name, v, dflt)
  if v == nil then return dflt end
  if type(v) ~= "number" or not (v > 0) or v > 86400 then -- luacheck: ignore 581 (NaN)
    invalid(where .. ": " .. name .. " must be a number of seconds in (0, 86400], got " .. tostring(v))
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
    transport = true, allow_insecure_http = true, user_agent = true, retry = true, sleep = true,
    clock = true, on_request = true, rate_limit = true, insecure_skip_tls_verify = true,
    logger = true, verbose = true, max_json_values = true,
  })
  local insecure = opts.insecure_skip_tls_verify
  if insecure ~= nil and insecure ~= true and insecure ~= false then
    invalid("klikit.new: insecure_skip_tls_verify must be true or false")
  end
  for _, name in ipairs { "sleep", "clock", "on_request", "logger" } do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      invalid("klikit.new: " .. name .. " must be a function")
    end
  end
  if opts.verbose ~= nil and type(opts.verbose) ~= "boolean" then
    invalid("klikit.new: verbose must be true or false")
  end
  if opts.verbose and not opts.logger then
    invalid("klikit.new: verbose = true needs a logger = function(level, message) to receive the trace")
  end
  local rate = opts.rate_limit
  if rate ~= nil and (type(rate) ~= "number" or not (rate >= 0.01 and rate <= 1e6)) then -- NaN fails too
    invalid("klikit.new: rate_limit must be a number of requests per minute from 0.01 to 1000000, got "
      .. tostring(rate))
  end
  for name, hi in pairs { max_body_bytes = 4294967295, max_json_values = 1e9 } do
    local v = opts[name]
    if v ~= nil and not (util.is_integer(v) and v >= 1 and v <= hi) then
      invalid(string.format("klikit.new: %s must be an integer from 1 to %.0f, got %s", name, hi, tostring(v)))
    end
  end
  local key = opts.partner_key or os.getenv("KLIKIT_PARTNER_KEY")
  local secret = opts.secret_key or os.getenv("KLIKIT_SECRET_KEY")
  check_credential("partner_key", key)
  check_credential("secret_key", secret)
  if key:find(":", 1, true) then invalid("klikit.new: partner_key cannot contain ':' (HTTP Basic)") end

  if opts.env ~= nil and not M.ENVIRONMENTS[opts.env] then
    invalid("klikit.new: env must be \"dev\" or \"prod\", got " .. tostring(opts.env))
  end
  local base_url = opts.base_url or M.ENVIRONMENTS[opts.env]
  base_url = url_mod.check_base_url(base_url or os.getenv("KLIKIT_BASE_URL") or M.ENVIRONMENTS.prod,
    opts.allow_insecure_http == true)

  local transport = opts.transport
  if transport ~= nil then
    if (type(transport) ~= "table" and type(transport) ~= "userdata") or type(transport.request) ~= "function" then
      invalid("klikit.new: transport must be an object with a request(self, req) method")
    end
  else
    for _, name in ipairs { "ca_file", "proxy", "noproxy", "user_agent" } do
      if opts[name] ~= nil and (type(opts[name]) ~= "string" or opts[name]:find("%c")) then
        invalid("klikit.new: " .. name .. " must be a string without control characters")
      end
    end
    if opts.ca_file then
      local f = io.open(opts.ca_file, "rb")
      if not f then invalid("klikit.new: ca_file " .. opts.ca_file .. " cannot be read") end
      f:close()
    end
    transport = curl_transport.new {
      ca_file = opts.ca_file, proxy = opts.proxy, max_body_bytes = opts.max_body_bytes,
      insecure_skip_tls_verify = insecure == true,
      -- loopback never goes through an environment proxy
      noproxy = opts.noproxy or "localhost,127.0.0.1,::1",
      user_agent = opts.user_agent and ("klikit-lua/" .. core.version .. " " .. opts.user_agent),
    }
  end

  local self = setmetatable({
    base_url = base_url,
    partner_key = key,
    timeout = check_seconds("klikit.new", "timeout", opts.timeout, 30),
    connect_timeout = check_seconds("klikit.new", "connect_timeout", opts.connect_timeout, 10),
    transport = transport,
    retry = retry.policy(opts.retry),
    sleep = opts.sleep or core.sleep,
    clock = opts.clock or core.monotonic,
    on_request = opts.on_request,
    logger = opts.logger,
    verbose = opts.verbose or nil,
    tls_verification_off = insecure == true or nil,
    max_json_values = opts.max_json_values or 500000,
  }, Client)
  if opts.rate_limit then
    self.limiter, self.rate_limit = ratelimit.new(opts.rate_limit, self.clock), opts.rate_limit
  end
  local basic = core.base64(key .. ":" .. secret)
  -- the longer needle first: the Authorization value holds the Basic encoding
  secrets[self] = { authorization = "Basic " .. basic, needles = { basic, secret } }
  return self
end

function Client:__tostring()
  local k = self.partner_key
  return string.format("klikit.client(%s, partner_key %s%s)", self.base_url,
    #k > 6 and (k:sub(1, 4) .. "...") or "...", self.tls_verification_off and ", TLS VERIFICATION OFF" or "")
end

-- Removes the secret and its Basic-auth encoding (so also the Authorization value) from
-- any text that came back.
local function redact(client, text)
  local s = secrets[client]
  return redact_mod.scrub(text, s and s.needles)
end

-- Every string of an error that a server (or a caller) supplied: secrets removed, length
-- bounded, details copied with the same treatment.
local function finish_error(client, err, method, path)
  local needles = secrets[client] and secrets[client].needles
  err.method, err.path = method, path
  for _, k in ipairs { "message", "request_id", "raw_code" } do
    if type(err[k]) == "string" then err[k] = redact_mod.clip(redact_mod.scrub(err[k], needles)) end
  end
  if type(err.details) == "table" then err.details = redact_mod.value(err.details, needles) end
  return err
end

-- Headers libcurl or klikit sets: framing and hop-by-hop headers (a caller's
-- Content-Length could desynchronise a keep-alive connection) and the credentials.
local RESERVED = { ["content-length"] = true, ["transfer-encoding"] = true, host = true, connection = true,
  ["keep-alive"] = true, ["proxy-connection"] = true, te = true, trailer = true, upgrade = true,
  expect = true, authorization = true, ["proxy-authorization"] = true }

local function check_header_table(headers)
  if headers == nil then return end
  if type(headers) ~= "table" then invalid("request: opts.headers must be a table") end
  for k, v in pairs(headers) do
    if type(k) ~= "string" or not k:find("^[%w!#$%%&'*+%-.^_`|~]+$") then
      invalid("request: invalid header name " .. tostring(k):sub(1, 100))
    end
    if RESERVED[k:lower()] then
      invalid("request: header " .. k .. " is set by klikit or libcurl and cannot be passed in opts.headers")
    end
    if type(v) ~= "string" or v:find("[%z\1-\8\10-\31\127]") then -- RFC 9110: no CTL but HTAB
      invalid("request: header " .. k .. " must be a string without control characters (tab allowed)")
    end
    if #k + #v > 8192 then
      invalid(string.format("request: header %s is %d bytes long; name and value may hold 8192", k, #k + #v))
    end
  end
end

local check_path = url_mod.check_path

--- Prepares the request table; raises request_invalid errors for bad input.
function Client:build_request(method, path, opts)
  if type(method) ~= "string" or not METHODS[method] then
    invalid("request: method must be one of GET, POST, PUT, PATCH, DELETE, got " .. tostring(method))
  end
  check_path("request", path)
  opts = opts or {}
  util.check_keys("request", opts, { query = true, body = true, headers = true, timeout = true,
    connect_timeout = true, idempotency_key = true, retry = true })
  check_header_table(opts.headers)
  local qs = util.query_string(opts.query)
  local headers = { Accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  headers.Authorization = secrets[self].authorization

  local body = opts.body
  if type(body) == "table" then
    body = body_mod.encode(body) -- once: a retry resends these exact bytes
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
    url = url_mod.check_length("request", self.base_url .. path .. (qs ~= "" and ("?" .. qs) or "")),
    headers = headers,
    body = body,
    timeout = check_seconds("request", "timeout", opts.timeout, self.timeout),
    connect_timeout = check_seconds("request", "connect_timeout", opts.connect_timeout, self.connect_timeout),
    verbose = self.verbose,
  }
end

-- Hands one line to the logger: redacted, control characters escaped. Without a logger,
-- warnings still go to stderr; a failing logger is reported there and otherwise ignored.
local function log(self, level, text)
  text = errors.visible(redact_mod.clip(redact(self, text), redact_mod.MAX_LINE))
  if not self.logger then
    if level == "warn" then io.stderr:write("klikit: ", text, "\n") end
    return
  end
  local ok, why = pcall(self.logger, level, text)
  if not ok then io.stderr:write("klikit: logger failed: ", errors.visible(redact(self, tostring(why))), "\n") end
end

local function log_trace(self, trace)
  if type(trace) ~= "string" then return end
  for line in trace:gmatch("[^\n]+") do log(self, "debug", line) end
end

-- One attempt: sends `req` and decodes the answer -> data | nil, err. Fills meta afresh,
-- so nothing of an earlier attempt is left in it.
local function attempt(self, req, method, path, meta)
  meta.status, meta.headers, meta.elapsed, meta.connects, meta.request_id = nil, nil, nil, nil, nil
  local resp, terr = self.transport:request(req)
  if self.verbose then log_trace(self, resp and resp.trace or type(terr) == "table" and terr.trace) end
  if not resp then return nil, finish_error(self, errors.from_transport(terr), method, path) end
  meta.status, meta.headers, meta.elapsed, meta.connects =
    resp.status, resp.headers, resp.elapsed, resp.connects
  local decoded, data, request_id = core.decode_envelope(resp.status, resp.body, self.max_json_values)
  if decoded then
    meta.request_id = redact_mod.clip(redact(self, request_id))
    return data
  end
  local err = errors.from_envelope(data)
  meta.request_id = err.request_id
  err.retry_after = retry.parse_retry_after(resp.headers["retry-after"], os.time())
  return nil, finish_error(self, err, method, path)
end

local function report(self, event)
  if self.logger then
    log(self, "info", string.format("%s %s: %s in %.3f s (attempt %d%s)", event.method, event.path,
      event.code or event.status, event.elapsed, event.attempt,
      event.request_id and (", request_id " .. event.request_id) or ""))
  end
  if not self.on_request then return end
  local ok, why = pcall(self.on_request, event)
  if not ok then log(self, "warn", "on_request hook failed: " .. tostring(why)) end
end

--- client:request(method, path, { query, body, headers, timeout, idempotency_key, retry })
--   -> data, nil, meta   |   nil, err, meta
-- meta = { status, headers, request_id, elapsed, connects, attempts, idempotency_key }.
-- `path` is relative to base_url. Invalid arguments give request_invalid before anything
-- is sent. Retryable failures are retried per the client's retry policy (opts.retry
-- overrides it, false disables); a write is only ever retried with its Idempotency-Key and
-- the same body bytes, because `req` is built once.
-- The request and the retry policy of one call; raises request_invalid.
local function prepare(self, method, path, opts)
  local req = self:build_request(method, path, opts)
  local wanted = opts and opts.retry
  if wanted == false then return req, retry.policy(self.retry, { max_attempts = 1 }) end
  if wanted ~= nil then return req, retry.policy(self.retry, wanted) end
  return req, self.retry
end

function Client:request(method, path, opts)
  if self.closed then
    return nil, finish_error(self, errors.new { code = "client_closed",
      message = "this client was closed with client:close(); make a new one" }, method, path), {}
  end
  local req, policy = self:checked(method, path, prepare, self, method, path, opts)
  if not req then return nil, policy, {} end
  local meta = { idempotency_key = req.headers["Idempotency-Key"], attempts = 0 }
  local started = self.clock()
  local deadline = policy.deadline and started + policy.deadline
  local timeout = req.timeout
  local err
  for n = 1, policy.max_attempts do
    if self.limiter then
      local wait = self.limiter:take()
      if wait > 0 and deadline and self.clock() + wait > deadline then
        self.limiter:refund()
        err = finish_error(self, errors.new { code = "deadline_exceeded", attempts = n - 1,
          message = string.format("the rate limit (%g per minute) would hold this call for %.1f s, past its "
            .. "deadline", self.rate_limit, wait) }, method, path)
        return nil, err, meta
      end
      if wait > 0 then self.sleep(wait) end
    end
    if deadline then req.timeout = math.max(0.001, math.min(timeout, deadline - self.clock())) end
    meta.attempts = n
    local t0 = self.clock()
    local data
    data, err = attempt(self, req, method, path, meta)
    report(self, { method = method, path = path, attempt = n, status = meta.status,
      code = err and err.code, request_id = meta.request_id, elapsed = self.clock() - t0 })
    if not err then return data, nil, meta end
    err.attempts = n
    if n == policy.max_attempts or not retry.should_retry(err) then break end
    if err.retry_after and err.retry_after > policy.max_retry_after then break end
    local wait = retry.delay(policy, n, err, math.random)
    if deadline and self.clock() + wait >= deadline then break end
    if self.logger then
      log(self, "info", string.format("%s %s: retrying in %.2f s after %s (attempt %d of %d)", method, path,
        wait, err.code, n, policy.max_attempts))
    end
    self.sleep(wait)
  end
  return nil, err, meta
end

--- Runs fn(...) and turns a raised request_invalid into nil, err (other errors propagate).
function Client:checked(method, path, fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if ok then return a, b, c end
  if errors.is_error(a) then return nil, finish_error(self, a, method, path) end
  error(a, 0)
end

--- Stamps method/path on an error made outside request() and redacts its message.
function Client:fail(err, method, path)
  return finish_error(self, err, method, path)
end

--- Defines client[name] for a write endpoint from a declarative spec:
--   { method, path = "/x/{id}", id = "x id" (the method then takes id first),
--     inferred = true (the docs did not capture method/path: opts.path/opts.method override),
--     confirm = true (destructive: refuses to run without opts.confirm == true),
--     body = function(fields) -> body table (raises request_invalid on bad input) }
-- The method returns data, nil, meta or nil, err, meta.
function M.define_write(name, spec)
  local allowed = { idempotency_key = true, timeout = true }
  if spec.inferred then allowed.path, allowed.method = true, true end
  if spec.confirm then allowed.confirm = true end
  Client[name] = function(self, ...)
    local id, fields, opts
    if spec.id then id, fields, opts = ... else fields, opts = ... end
    local method, path = spec.method, spec.path
    local ok, built = pcall(function()
      opts = util.check_keys(name, opts, allowed)
      if spec.confirm and opts.confirm ~= true then
        invalid(name .. " is destructive: pass { confirm = true } as options to run it")
      end
      if opts.method ~= nil then
        if not METHODS[opts.method] or opts.method == "GET" then
          invalid(name .. ": opts.method must be a write method")
        end
        method = opts.method
      end
      if opts.path ~= nil then
        check_path(name .. ": opts.path", opts.path)
        path = opts.path
      end
      if spec.id then
        local seg = util.path_id(spec.id, id)
        path = path:gsub("{id}", function() return seg end)
      end
      return spec.body(fields)
    end)
    if not ok then
      if errors.is_error(built) then return nil, finish_error(self, built, method, path), {} end
      error(built, 0)
    end
    return self:request(method, path, { body = built, idempotency_key = opts.idempotency_key,
      timeout = opts.timeout })
  end
end

--- Defines client[name] for a GET that answers a bare list or object in `data`.
function M.define_read(name, path)
  Client[name] = function(self)
    return self:request("GET", path)
  end
end

--- Releases the connection now instead of at garbage collection. Every later call
-- returns nil, err with code client_closed. Closing twice is harmless.
function Client:close()
  if self.closed then return end
  self.closed = true
  if self.transport.close then self.transport:close() end
end

return M
