--- klikit's webhooks (klikit-api.md §4): verifying and reading a delivery. Pure Lua over
-- klikit.core (HMAC-SHA256 and a timing-safe comparison in C); the OpenResty receiver is
-- klikit.webhook.handler.
--   local webhook = require("klikit.webhook")
--   local ok, err = webhook.verify(raw_body, signature_hex, secret)
--   local event, err = webhook.parse(headers, raw_body, secret)
--     -> { id, type, brand_id, branch_id, orders, warnings, signature (the body's HMAC) }
local core = require("klikit.core")
local errors = require("klikit.errors")

local M = {}
local invalid = errors.invalid

--- The event types klikit documents.
M.EVENTS = { ["klikit.order.created.v2"] = true, ["klikit.order.status.updated"] = true,
  ["klikit.order.cart.updated"] = true }
M.HEADERS = { "x-klikit-signature", "x-klikit-event-id", "x-klikit-event-type" }
M.MAX_BODY = 8 * 1024 * 1024
M.MAX_VALUES = 500000

-- err.status: what a receiver answers with (400, 401).
local function fail(code, message)
  return nil, errors.new { code = code, api = "klikit", status = errors.codes[code].status, message = message }
end

local function check_secret(secret)
  if type(secret) ~= "string" or secret == "" then invalid("klikit.webhook: secret must be a non-empty string") end
end

--- true | nil, err (webhook_signature_invalid). The signature must be the 64 lowercase hex
--- digits klikit sends; anything else is refused after the same work as a wrong one, so
--- the time taken says nothing about the secret.
---@param raw_body string
---@param signature_hex string
---@param secret string
---@return true? ok
---@return klikit.Error? err
function M.verify(raw_body, signature_hex, secret)
  if type(raw_body) ~= "string" then invalid("klikit.webhook.verify: raw_body must be the body's bytes, a string") end
  check_secret(secret)
  local expected = core.hmac_sha256_hex(secret, raw_body)
  local given = type(signature_hex) == "string" and signature_hex or ""
  local well_formed = #given == 64 and not given:find("[^0-9a-f]")
  -- a malformed signature is compared with a copy of the expected one, then refused
  local same = core.timing_safe_equal(expected, well_formed and given or expected)
  if well_formed and same then return true end
  return fail("webhook_signature_invalid", well_formed and "the signature does not match the body"
    or "the signature is not 64 lowercase hex digits")
end

-- The value of header `name` in `headers` (any case; "x_klikit_..." also, with a warning:
-- proxies and nginx's underscores_in_headers rewrite names).
local function header(headers, name, warnings)
  local underscored = name:gsub("-", "_")
  for k, v in pairs(headers) do
    if type(k) == "string" then
      local lower = k:lower()
      if type(v) == "table" then v = v[1] end -- repeated: the first
      if lower == name then return v end
      if lower == underscored then
        warnings[#warnings + 1] = "header " .. k .. " read as " .. name .. " (a proxy rewrote its name)"
        return v
      end
    end
  end
end

local function is_id(v)
  return (type(v) == "number" and v == math.floor(v) and v >= 0) or (type(v) == "string" and v:find("^%d+$") ~= nil)
end

--- headers (a table, names in any case), the raw body, the secret -> event | nil, err.
--- err.code: webhook_headers_missing, webhook_signature_invalid, webhook_body_invalid,
--- webhook_event_unknown (err.event then holds the verified event).
---@param headers table<string, string|string[]>
---@param raw_body string
---@param secret string
---@return klikit.WebhookEvent? event
---@return klikit.Error? err
function M.parse(headers, raw_body, secret)
  if type(headers) ~= "table" then invalid("klikit.webhook.parse: headers must be a table") end
  check_secret(secret)
  local warnings, values, missing = {}, {}, {}
  for _, name in ipairs(M.HEADERS) do
    local v = header(headers, name, warnings)
    if type(v) ~= "string" or v == "" then missing[#missing + 1] = name else values[name] = v end
  end
  if #missing > 0 then return fail("webhook_headers_missing", "missing " .. table.concat(missing, ", ")) end
  if type(raw_body) ~= "string" then return fail("webhook_body_invalid", "no body") end
  local ok, err = M.verify(raw_body, values["x-klikit-signature"], secret)
  if not ok then return nil, err end
  if #raw_body > M.MAX_BODY then return fail("webhook_body_invalid", "the body is larger than 8 MiB") end
  local body, kind, why = core.decode_json(raw_body, M.MAX_VALUES)
  if kind then return fail("webhook_body_invalid", "the body is not JSON (" .. tostring(why) .. ")") end
  if type(body) ~= "table" or not is_id(body.brand_id) or not is_id(body.branch_id) or type(body.orders) ~= "table" then
    return fail("webhook_body_invalid", "the body is not {brand_id, branch_id, orders: [...]}")
  end
  for i, order in ipairs(body.orders) do
    if type(order) ~= "table" or not is_id(order.id) then
      return fail("webhook_body_invalid", "orders[" .. i .. "] has no id")
    end
  end
  local event = { id = values["x-klikit-event-id"], type = values["x-klikit-event-type"], brand_id = body.brand_id,
    branch_id = body.branch_id, orders = body.orders, warnings = warnings, signature = values["x-klikit-signature"] }
  if not M.EVENTS[event.type] then
    local e = errors.new { code = "webhook_event_unknown", api = "klikit",
      message = "event type " .. errors.visible(event.type:sub(1, 100)) .. " is not one klikit documents" }
    e.event = event
    return nil, e
  end
  return event
end

--- The OpenResty receiver (see klikit.webhook.handler).
---@param opts klikit.WebhookHandlerOptions
---@return fun() handler
function M.handler(opts)
  return require("klikit.webhook.handler").new(opts)
end

return M
