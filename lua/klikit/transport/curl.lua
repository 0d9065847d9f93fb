--- The default transport: klikit.core's libcurl handle behind the transport contract
--   transport:request{ method, url, headers, body, timeout, connect_timeout, verbose, direct }
--     -> { status, headers (lowercase names), body, elapsed, connects, trace }
--     |  nil, { code = network_error|timeout|tls_verify_failed|response_too_large,
--               message, curl_code, trace }
-- `trace` (only with verbose = true) is curl's verbose text with credentials redacted.
-- Any object with that `request` method can be passed to klikit.new{ transport = ... }.
-- It blocks the calling thread: inside nginx use an OpenResty transport instead.
local core = require("klikit.core")

local M = {}
local Transport = {}
Transport.__index = Transport

function M.new(opts)
  opts = opts or {}
  return setmetatable({
    handle = core.new_transport {
      user_agent = opts.user_agent, ca_file = opts.ca_file, proxy = opts.proxy,
      noproxy = opts.noproxy, max_body_bytes = opts.max_body_bytes,
      insecure_skip_tls_verify = opts.insecure_skip_tls_verify,
    },
  }, Transport)
end

function Transport:request(req)
  local resp, code, message, curl_code, trace = self.handle:request(req)
  if resp then return resp end
  return nil, { code = code, message = message, curl_code = curl_code, trace = trace }
end

function Transport:close()
  self.handle:close()
end

function Transport:__tostring()
  return "klikit.transport.curl (" .. tostring(self.handle) .. ")"
end

return M
