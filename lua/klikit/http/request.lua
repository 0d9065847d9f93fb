--- Building the request table a transport sends, from a method, a path and per-call
-- options. Everything is checked here, before anything is sent; bad input raises
-- request_invalid.
local core = require("klikit.core")
local errors = require("klikit.errors")
local util = require("klikit.util")
local url = require("klikit.http.url")
local json = require("klikit.http.json")
local options = require("klikit.http.options")

local M = {}
local invalid = errors.invalid

M.METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true }
-- projection: what klikit.http.fields.compile made (list reads decode only those fields)
local CALL_KEYS = { query = true, body = true, headers = true, timeout = true, connect_timeout = true,
  idempotency_key = true, retry = true, projection = true }

-- The credentials are the session's to set, whatever the caller passes; the rest of the
-- rules (token names, no control characters but tab, no framing or hop-by-hop headers,
-- 8 KiB a header) are klikit.core's, the same the transport enforces.
local CREDENTIALS = { authorization = true, ["proxy-authorization"] = true }
-- Set by klikit from options: a header of the caller's by these names (any case) would
-- go out next to klikit's.
local FROM_OPTIONS = { ["idempotency-key"] = "idempotency_key", ["user-agent"] = "user_agent" }

local function check_headers(headers)
  if headers == nil then return end
  if type(headers) ~= "table" then invalid("request: opts.headers must be a table") end
  for k, v in pairs(headers) do
    if type(k) ~= "string" or type(v) ~= "string" then
      invalid("request: header names and values must be strings, got " .. type(k) .. " " .. tostring(k):sub(1, 100))
    end
    if CREDENTIALS[k:lower()] then invalid("request: header " .. k .. " is set by klikit and cannot be passed") end
    if FROM_OPTIONS[k:lower()] then
      invalid("request: header " .. k .. " is set by klikit: pass the " .. FROM_OPTIONS[k:lower()] .. " option instead")
    end
    local why = core.header_problem(k, v)
    if why then invalid("request: header " .. k:sub(1, 100) .. " " .. why) end
  end
end

local function idempotency_key(key)
  if key == nil then return core.uuid4() end
  if type(key) ~= "string" or #key < 1 or #key > 64 or not key:find("^[\33-\126]+$") then
    invalid("request: idempotency_key must be 1..64 printable ASCII characters without spaces")
  end
  return key
end

--- session: { base_url, timeout, connect_timeout, verbose }; auth: { name, value } (kept
-- off the session table so no dump of it shows the credential).
-- -> { method, url, headers, body, timeout, connect_timeout, verbose, direct }
function M.build(session, auth, method, path, opts)
  if type(method) ~= "string" or not M.METHODS[method] then
    invalid("request: method must be one of GET, POST, PUT, PATCH, DELETE, got " .. tostring(method))
  end
  url.check_path("request", path)
  opts = util.check_keys("request", opts, CALL_KEYS)
  check_headers(opts.headers)
  local qs = url.query_string(opts.query)
  -- the caller's headers replace klikit's defaults whatever their case: one of each goes out
  local headers, seen = {}, {}
  for k, v in pairs(opts.headers or {}) do
    if seen[k:lower()] then invalid("request: header " .. k:sub(1, 100) .. " is given twice (names ignore case)") end
    headers[k], seen[k:lower()] = v, true
  end
  if not seen.accept then headers.Accept = "application/json" end
  headers[auth.name] = auth.value

  local body = opts.body
  if type(body) == "table" then
    body = json.encode(body) -- once: a retry resends these exact bytes
  elseif body ~= nil and type(body) ~= "string" then
    invalid("request: body must be a table (sent as JSON) or a string, got " .. type(body))
  end
  if body ~= nil and not seen["content-type"] then headers["Content-Type"] = "application/json" end
  -- klikit dedupes writes by Idempotency-Key; an API without keys (Klar upserts by id) gets none
  if method ~= "GET" and session.idempotency_keys ~= false then
    headers["Idempotency-Key"] = idempotency_key(opts.idempotency_key)
  end

  local full = url.check_length("request", session.base_url .. path .. (qs ~= "" and ("?" .. qs) or ""))
  return {
    method = method,
    url = full,
    -- plain http never goes through a proxy (the credentials would reach it in clear text),
    -- unless the caller named one and allowed insecure http
    direct = full:sub(1, 7):lower() == "http://" and not (session.allow_insecure_http and session.explicit_proxy)
      or nil,
    headers = headers,
    body = body,
    timeout = options.seconds("request", "timeout", opts.timeout, session.timeout),
    connect_timeout = options.seconds("request", "connect_timeout", opts.connect_timeout, session.connect_timeout),
    verbose = session.verbose,
  }
end

return M
