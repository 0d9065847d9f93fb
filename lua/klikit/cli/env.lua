--- Clients from the environment, never from arguments:
--   KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY   the Partner API credential
--   KLIKIT_BASE_URL (else KLIKIT_ENV=dev|prod, else production), KLIKIT_CA_FILE
--   KLAR_TOKEN, KLAR_BASE_URL               Klar's order import
-- A missing or unusable setting is a usage error (exit 2) naming the variable.
local fail = require("klikit.cli.fail")

local M = {}

local function get(ctx, name)
  local v = ctx.getenv(name)
  if v == "" then return nil end
  return v
end

-- klikit.new and klar.new raise request_invalid on unusable options: a usage error here.
local function build(what, new, opts)
  local ok, client = pcall(new, opts)
  if ok then return client end
  local err = client
  fail.usage(what .. ": " .. (type(err) == "table" and tostring(err.message) or tostring(err)))
end

--- The klikit client of the environment.
function M.klikit(ctx)
  local key, secret = get(ctx, "KLIKIT_PARTNER_KEY"), get(ctx, "KLIKIT_SECRET_KEY")
  if not key or not secret then
    fail.usage("no klikit credential: set KLIKIT_PARTNER_KEY and KLIKIT_SECRET_KEY in the environment"
      .. " (`klikit sandbox start` prints a test pair)")
  end
  local opts = { partner_key = key, secret_key = secret, base_url = get(ctx, "KLIKIT_BASE_URL"),
    ca_file = get(ctx, "KLIKIT_CA_FILE") }
  if not opts.base_url then opts.env = get(ctx, "KLIKIT_ENV") end
  return build("the klikit client", require("klikit").new, opts)
end

--- The Klar client of the environment.
function M.klar(ctx)
  local token = get(ctx, "KLAR_TOKEN")
  if not token then
    fail.usage("no Klar token: set KLAR_TOKEN in the environment (from the data source's Access Token tab)")
  end
  return build("the Klar client", require("klikit.klar").new, { token = token, base_url = get(ctx, "KLAR_BASE_URL"),
    ca_file = get(ctx, "KLIKIT_CA_FILE") })
end

return M
