--- The klikit Partner API client: an HTTP session (klikit.http.session) with HTTP Basic
-- auth, klikit's envelope codec and the endpoint rows of orders, stores and menus.
--
--   local client = klikit.new{ partner_key, secret_key, base_url | env, ... }
--   client:orders{...}, client:order(id), ...   -- data, nil, meta | nil, err, meta
local core = require("klikit.core")
local errors = require("klikit.errors")
local util = require("klikit.util")
local url = require("klikit.http.url")
local options = require("klikit.http.options")
local session_mod = require("klikit.http.session")
local endpoints = require("klikit.partner.endpoints")

local M = {}
local Client = {}
Client.__index = Client
local invalid = errors.invalid

M.ENVIRONMENTS = {
  dev = "https://api.dev.shadowchef.co/v1/partner",
  prod = "https://gateway-enterprise.klikit.io/v1/partner",
}

-- The rows, in the order the docs list them; each becomes a method of Client.
M.ROWS = {}
for _, module in ipairs { "klikit.partner.orders", "klikit.partner.stores", "klikit.partner.menus" } do
  for _, row in ipairs(require(module).rows) do M.ROWS[#M.ROWS + 1] = row end
end
for name, method in pairs(endpoints.methods(M.ROWS)) do Client[name] = method end

--- klikit's envelope: {request_id, data} or {request_id, error{code, message, details}}.
local function envelope(resp, session, projection)
  local ok, data, request_id = core.decode_envelope(resp.status, resp.body, session.max_json_values,
    projection and projection.projection)
  if ok then return true, data, request_id end
  return false, errors.from_envelope(data)
end

local function credential(name, v)
  if type(v) ~= "string" or v == "" then
    invalid("klikit.new: " .. name .. " is missing: pass " .. name .. " or set KLIKIT_" .. name:upper())
  end
  if v:find("[%z\r\n]") or #v > 512 then
    invalid("klikit.new: " .. name .. " contains CR, LF or NUL, or is longer than 512 bytes")
  end
  return v
end

local KEYS = { partner_key = true, secret_key = true, base_url = true, env = true }

--- klikit.new(opts): partner_key, secret_key (else KLIKIT_PARTNER_KEY / KLIKIT_SECRET_KEY),
--- base_url or env = "dev" | "prod" (else KLIKIT_BASE_URL, else production), and the
--- session options of klikit.http.options. Bad options raise request_invalid.
---@param opts? klikit.Options
---@return klikit.Client
function M.new(opts)
  local settings
  opts, settings = options.client("klikit.new", opts, KEYS)
  local key = credential("partner_key", opts.partner_key or os.getenv("KLIKIT_PARTNER_KEY"))
  local secret = credential("secret_key", opts.secret_key or os.getenv("KLIKIT_SECRET_KEY"))
  if key:find(":", 1, true) then invalid("klikit.new: partner_key cannot contain ':' (HTTP Basic)") end
  if opts.env ~= nil and not M.ENVIRONMENTS[opts.env] then
    invalid("klikit.new: env must be \"dev\" or \"prod\", got " .. tostring(opts.env))
  end
  local base_url = url.check_base_url(opts.base_url or M.ENVIRONMENTS[opts.env] or os.getenv("KLIKIT_BASE_URL")
    or M.ENVIRONMENTS.prod, settings.allow_insecure_http)
  local basic = core.base64(key .. ":" .. secret)
  local session = session_mod.new { api = "klikit", base_url = base_url, settings = settings, codec = envelope,
    -- the Basic encoding first: the Authorization value holds it
    auth = { name = "Authorization", value = "Basic " .. basic, needles = { basic, secret } } }
  return setmetatable({ session = session, base_url = base_url, partner_key = key,
    tls_verification_off = settings.tls_verification_off }, Client)
end

--- client:request(method, path, opts) -> data, nil, meta | nil, err, meta: any endpoint,
--- through the same checks, retries and redaction as the methods.
function Client:request(method, path, opts)
  return self.session:request(method, path, opts)
end

--- Releases the connection; every later call returns nil, err with code client_closed.
function Client:close()
  self.session:close()
end

function Client:__tostring()
  local k = self.partner_key
  return string.format("klikit.client(%s, partner_key %s%s)", self.base_url,
    #k > 6 and (k:sub(1, 4) .. "...") or "...", self.tls_verification_off and ", TLS VERIFICATION OFF" or "")
end

util.guard_methods(Client, "client")
M.Client = Client
return M
