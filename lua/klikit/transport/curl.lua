--- The default transport: klikit.core's libcurl handle behind the transport contract
--   transport:request{ method, url, headers, body, timeout, connect_timeout, verbose, direct }
--     -> { status, headers (lowercase names), body, elapsed, connects, trace }
--     |  nil, { code = network_error|timeout|tls_verify_failed|response_too_large,
--               message, curl_code, trace }
-- `trace` (only with verbose = true) is curl's verbose text with credentials redacted.
-- Any object with that `request` method can be passed to klikit.new{ transport = ... }.
-- It blocks the calling thread (inside nginx klikit uses cosockets instead), except in a
-- task of a parallel walk (klikit.http.runner): there each request goes through the
-- runner's curl-multi driver on a handle of its own, so the tasks' requests overlap.
local core = require("klikit.core")
local runner = require("klikit.http.runner")

local M = {}
local Transport = {}
Transport.__index = Transport

function M.new(opts)
  opts = opts or {}
  local settings = {
    user_agent = opts.user_agent, ca_file = opts.ca_file, proxy = opts.proxy,
    noproxy = opts.noproxy, max_body_bytes = opts.max_body_bytes,
    insecure_skip_tls_verify = opts.insecure_skip_tls_verify,
  }
  return setmetatable({ handle = core.new_transport(settings), settings = settings, idle = {} }, Transport)
end

-- A request from a runner's task: on an idle handle of this transport's (made as needed,
-- one per request in flight, kept for keep-alive), through the runner's multi driver.
local function concurrent(self, r, req)
  local n = #self.idle
  local handle = self.idle[n] or core.new_transport(self.settings)
  self.idle[n] = nil
  local resp, err = r:request(handle, req)
  self.idle[#self.idle + 1] = handle
  if resp then return resp end
  return nil, { code = err.code, message = err.message, curl_code = err.curl_code, trace = err.trace }
end

function Transport:request(req)
  local r = runner.current()
  if r and r.multi then return concurrent(self, r, req) end
  local resp, code, message, curl_code, trace = self.handle:request(req)
  if resp then return resp end
  return nil, { code = code, message = message, curl_code = curl_code, trace = trace }
end

function Transport:close()
  self.handle:close()
  for _, handle in ipairs(self.idle) do handle:close() end
  self.idle = {}
end

function Transport:__tostring()
  return "klikit.transport.curl (" .. tostring(self.handle) .. ")"
end

return M
