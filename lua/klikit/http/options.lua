--- The options every API client takes (klikit.new, klar.new): checked once, here.
-- Each bad value raises request_invalid naming the option; nothing is sent.
local core = require("klikit.core")
local errors = require("klikit.errors")
local util = require("klikit.util")
local retry = require("klikit.http.retry")
local ratelimit = require("klikit.http.ratelimit")
local select_transport = require("klikit.transport.select")

local M = {}
local invalid = errors.invalid

--- The option names a session understands (an API client adds its own).
M.KEYS = { timeout = true, connect_timeout = true, ca_file = true, proxy = true, noproxy = true,
  max_body_bytes = true, max_json_values = true, transport = true, user_agent = true, retry = true,
  sleep = true, clock = true, on_request = true, rate_limit = true, insecure_skip_tls_verify = true,
  logger = true, verbose = true, allow_insecure_http = true, pool_size = true }

--- The options table of a client constructor `where`: nil reads as {}, a table whose
--- keys are the session's plus `own` -> opts, settings (from M.check); raises otherwise.
function M.client(where, opts, own)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then invalid(where .. " expects a table of options, got " .. type(opts)) end
  local allowed = {}
  for k in pairs(M.KEYS) do allowed[k] = true end
  for k in pairs(own) do allowed[k] = true end
  util.check_keys(where, opts, allowed)
  return opts, M.check(where, opts)
end

local function seconds(where, name, v, dflt)
  if v == nil then return dflt end
  if type(v) ~= "number" or not (v > 0) or v > 86400 then -- luacheck: ignore 581 (NaN)
    invalid(where .. ": " .. name .. " must be a number of seconds in (0, 86400], got " .. tostring(v))
  end
  return v
end
M.seconds = seconds

local function boolean(where, opts, name)
  local v = opts[name]
  if v ~= nil and type(v) ~= "boolean" then invalid(where .. ": " .. name .. " must be true or false") end
  return v == true
end

--- Checks the session options of `opts` -> settings for klikit.http.session.new.
function M.check(where, opts)
  local insecure = boolean(where, opts, "insecure_skip_tls_verify")
  for _, name in ipairs { "sleep", "clock", "on_request", "logger" } do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      invalid(where .. ": " .. name .. " must be a function")
    end
  end
  local verbose = boolean(where, opts, "verbose")
  if verbose and not opts.logger then
    invalid(where .. ": verbose = true needs a logger = function(level, message) to receive the trace")
  end
  local rate = opts.rate_limit
  if rate ~= nil and (type(rate) ~= "number" or not (rate >= 0.01 and rate <= 1e6)) then -- NaN fails too
    invalid(where .. ": rate_limit must be a number of requests per minute from 0.01 to 1000000, got "
      .. tostring(rate))
  end
  for name, hi in pairs { max_body_bytes = 4294967295, max_json_values = 1e9, pool_size = 10000 } do
    local v = opts[name]
    if v ~= nil and not (util.is_integer(v) and v >= 1 and v <= hi) then
      invalid(string.format("%s: %s must be an integer from 1 to %.0f, got %s", where, name, hi, tostring(v)))
    end
  end
  local transport = select_transport.choose(where, opts, insecure)
  local clock = opts.clock or core.monotonic
  return {
    transport = transport,
    timeout = seconds(where, "timeout", opts.timeout, 30),
    connect_timeout = seconds(where, "connect_timeout", opts.connect_timeout, 10),
    retry = retry.policy(opts.retry),
    sleep = opts.sleep or select_transport.sleep,
    clock = clock,
    on_request = opts.on_request,
    logger = opts.logger,
    verbose = verbose or nil,
    rate_limit = rate,
    limiter = rate and ratelimit.new(rate, clock),
    max_json_values = opts.max_json_values or 500000,
    tls_verification_off = insecure or nil,
    allow_insecure_http = boolean(where, opts, "allow_insecure_http"),
    explicit_proxy = opts.proxy ~= nil or nil,
  }
end

return M
