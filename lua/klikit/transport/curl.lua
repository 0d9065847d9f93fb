--- The default transport: klikit.core's libcurl handle behind the transport contract
--   transport:request{ method, url, headers, body, timeout, connect_timeout, verbose, direct }
--     -> { status, headers (lowercase names), body, elapsed, connects, trace }
--     |  nil, { code = network_error|timeout|tls_verify_failed|response_too_large,
--               message, curl_code, trace }
-- `trace` (only with verbose = true) is curl's verbose text with credentials redacted.
-- Any object with that `request` method can be passed to klikit.new{ transport = ... }.
-- It blocks the calling thread (inside nginx klikit uses cosockets instead), except in a
-- task of a klikit.transport.multi driver (a parallel walk's slices run in one): there its
-- requests go through the driver's curl multi, each on a handle of its own.
local core = require("klikit.core")

local M = {}
local Transport = {}
Transport.__index = Transport

-- The core options of each transport, for new_handle; kept off the object (keyed weakly)
-- since a proxy URL may carry credentials.
local settings_of = setmetatable({}, { __mode = "k" })

local function settings(opts)
  return { user_agent = opts.user_agent, ca_file = opts.ca_file, proxy = opts.proxy,
    noproxy = opts.noproxy, max_body_bytes = opts.max_body_bytes,
    insecure_skip_tls_verify = opts.insecure_skip_tls_verify }
end

function M.new(opts)
  local s = settings(opts or {})
  local self = setmetatable({ handle = core.new_transport(s) }, Transport)
  settings_of[self] = s
  return self
end

--- One request on a klikit.core handle, answered as this transport answers.
function M.call(handle, req)
  local resp, code, message, curl_code, trace = handle:request(req)
  if resp then return resp end
  return nil, { code = code, message = message, curl_code = curl_code, trace = trace }
end

function Transport:request(req)
  local multi = package.loaded["klikit.transport.multi"] -- no driver can run before it is loaded
  local driver = multi and multi.current()
  if driver then return driver:transport(self):request(req) end
  return M.call(self.handle, req)
end

--- A new klikit.core handle with this transport's settings: klikit.transport.multi runs
--- concurrent requests of one transport on handles of its own.
function Transport:new_handle()
  return core.new_transport(settings_of[self])
end

function Transport:close()
  self.handle:close()
end

function Transport:__tostring()
  return "klikit.transport.curl (" .. tostring(self.handle) .. ")"
end

return M
