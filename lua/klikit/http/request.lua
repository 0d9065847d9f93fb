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
local CALL_KEYS = { query = true, body = true, headers = true, timeout = true, connect_timeout = true,
  idempotency_key = true, retry = true }

-- The credentials are the session's to set, whatever the caller passes; the rest of the
-- rules (token names, no control characters but tab, no framing or hop-by-hop headers,
-- 8 KiB a header) are klikit.core's, the same the transport enforces.
local CREDENTIALS = { authorization = true, ["proxy-authorization"] = true }

local function check_headers(headers)
  if headers == nil then return end
  if type(headers) ~= "table" then invalid("request: opts.headers must be a table") end
  for k, v in pairs(headers) do
    if type(k) ~= "string" or type(v) ~= "string" then
      invalid("request: header names and values must be strings, got " .. type(k) .. " " .. tostring(k):sub(1, 100))
    end
    if CREDENTIALS[k:lower()] then invalid("request: header " .. k .. " is set by klikit and cannot be passed") end
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
-- -> { method, url, headers, body, timeout, connect_timeout, verbose }
function M.build(session, auth, method, path, opts)
  if type(method) ~= "string" or not M.METHODS[method] then
    invalid("request: method must be one of GET, POST, PUT, PATCH, DELETE, got " .. tostring(method))
  end
  url.check_path("request", path)
  opts = util.check_keys("request", opts, CALL_KEYS)
  check_headers(opts.headers)
  local qs = url.query_string(opts.query)
  local headers = { Accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  headers[auth.name] = auth.value

  local body = opts.body
  if type(body) == "table" then
    body = json.encode(body) -- once: a retry resends these exact bytes
  elseif body ~= nil and type(body) ~= "string" then
    invalid("request: body must be a table (sent as JSON) or a string, got " .. type(body))
  end
  if body ~= nil then headers["Content-Type"] = headers["Content-Type"] or "application/json" end
  -- klikit dedupes writes by Idempotency-Key; an API without keys (Klar upserts by id) gets none
  if method ~= "GET" and session.idempotency_keys ~= false then
    headers["Idempotency-Key"] = idempotency_key(opts.idempotency_key)
  end

  return {
    method = method,
    url = url.check_length("request", session.base_url .. path .. (qs ~= "" and ("?" .. qs) or "")),
    headers = headers,
    body = body,
    timeout = options.seconds("request", "timeout", opts.timeout, session.timeout),
    connect_timeout = options.seconds("request", "connect_timeout", opts.connect_timeout, session.connect_timeout),
    verbose = session.verbose,
  }
end

return M
