--- Which transport a client gets: `transport = nil | "auto"` picks by where the code runs,
-- "curl" forces libcurl, "ngx" the nginx cosocket transport, and any object with a
-- request(self, req) method is used as is.
--   outside nginx                 libcurl (blocking)
--   inside nginx, per request:    cosockets in the phases that have them (rewrite, access,
--                                 content, timer, ssl_*), libcurl in the others (init,
--                                 init_worker, set, header_filter, body_filter, log), where
--                                 nothing can wait without blocking anyway
-- One client can live for the whole worker: the choice is made for each request.
local core = require("klikit.core")
local errors = require("klikit.errors")
local ngx_transport = require("klikit.transport.ngx")

local M = {}
local invalid = errors.invalid

local function inside_nginx()
  local n = rawget(_G, "ngx")
  return type(n) == "table" and type(n.get_phase) == "function"
end

-- Transport options that are strings: no control characters, bounded.
local function check_strings(where, opts)
  for _, name in ipairs { "ca_file", "proxy", "noproxy", "user_agent" } do
    if opts[name] ~= nil and (type(opts[name]) ~= "string" or opts[name]:find("%c") or #opts[name] > 4096) then
      invalid(where .. ": " .. name .. " must be a string without control characters, at most 4096 bytes")
    end
  end
  if opts.user_agent and (#opts.user_agent > 256 or opts.user_agent:find("[\128-\255]")) then
    invalid(where .. ": user_agent must be at most 256 ASCII characters")
  end
end

local function user_agent(opts)
  return opts.user_agent and ("klikit-lua/" .. core.version .. " " .. opts.user_agent)
end

local function curl(where, opts, insecure)
  if opts.ca_file then
    local f = io.open(opts.ca_file, "rb")
    if not f then invalid(where .. ": ca_file " .. opts.ca_file .. " cannot be read") end
    f:close()
  end
  return require("klikit.transport.curl").new {
    ca_file = opts.ca_file, proxy = opts.proxy, max_body_bytes = opts.max_body_bytes,
    insecure_skip_tls_verify = insecure,
    -- loopback never goes through a proxy (plain http goes through none: request.direct)
    noproxy = opts.noproxy or "localhost,127.0.0.0/8,::1",
    user_agent = user_agent(opts),
  }
end

local function cosockets(where, opts, insecure)
  if opts.ca_file ~= nil then
    invalid(where .. ': ca_file has no meaning for cosockets: set lua_ssl_trusted_certificate in nginx.conf '
      .. '(or pass transport = "curl", which blocks the worker)')
  end
  if opts.proxy ~= nil then
    invalid(where .. ': proxy is not supported by the nginx transport (transport = "curl" supports it, blocking)')
  end
  return ngx_transport.new { max_body_bytes = opts.max_body_bytes, insecure_skip_tls_verify = insecure,
    pool_size = opts.pool_size, user_agent = user_agent(opts) or ("klikit-lua/" .. core.version) }
end

-- Inside nginx: cosockets where the phase has them, else libcurl (made on first need).
local Auto = {}
Auto.__index = Auto

function Auto:request(req)
  if ngx_transport.available() then return self.ngx:request(req) end
  self.curl = self.curl or curl(self.where, self.opts, self.insecure)
  return self.curl:request(req)
end

function Auto:close()
  if self.curl then self.curl:close() end
end

function Auto.__tostring() return "klikit.transport.auto (cosockets where nginx has them, else libcurl)" end

--- The transport for a client's options; raises request_invalid.
function M.choose(where, opts, insecure)
  local t = opts.transport
  check_strings(where, opts)
  if t == "curl" or ((t == nil or t == "auto") and not inside_nginx()) then return curl(where, opts, insecure) end
  if t == "ngx" then
    if not inside_nginx() then invalid(where .. ': transport = "ngx" works only inside nginx (OpenResty)') end
    return cosockets(where, opts, insecure)
  end
  if t == nil or t == "auto" then
    local settings = {}
    for k, v in pairs(opts) do settings[k] = v end
    return setmetatable({ where = where, opts = settings, insecure = insecure,
      ngx = cosockets(where, opts, insecure) }, Auto)
  end
  if (type(t) ~= "table" and type(t) ~= "userdata") or type(t.request) ~= "function" then
    invalid(where .. ': transport must be "auto", "curl", "ngx" or an object with a request(self, req) method')
  end
  return t
end

--- The default sleep: ngx.sleep where nginx can yield (the worker goes on serving), the
--- runner's inside a parallel walk's task (the other tasks go on), else klikit.core's.
function M.sleep(seconds)
  if inside_nginx() and ngx_transport.available() then return ngx.sleep(seconds) end
  local r = require("klikit.http.runner").current() -- a parallel walk's task: the others go on
  if r then return r:sleep(seconds) end
  return core.sleep(seconds)
end

return M
