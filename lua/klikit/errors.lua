--- Error objects and the one catalogue of every code a client can return.
-- Runtime failures are returned as `nil, err`; `err` is a table with `code`, `status`,
-- `message`, `request_id`, `details`, `retryable`, `raw_code`, `api` (the client it came
-- from: "klikit", "klar") and a `__tostring`.
local redact = require("klikit.http.redact")

local M = {}

local BY_STATUS = "by_status" -- retryable when the HTTP status is 429 or 5xx

--- code -> { status = HTTP status or nil, retryable = bool | "by_status", meaning = ... }
-- `source` tells whether klikit sends the code or the client makes it up.
M.codes = {
  auth_missing = { status = 401, retryable = false, source = "server",
    meaning = "Authorization header absent or malformed" },
  auth_invalid_credential = { status = 401, retryable = false, source = "server",
    meaning = "partner_key/secret_key did not verify (wrong or revoked)" },
  auth_revoked = { status = 403, retryable = false, source = "server",
    meaning = "the credential was revoked (klikit also documents this as 401)" },
  auth_forbidden = { status = 403, retryable = false, source = "server",
    meaning = "the credential is not scoped for this endpoint" },
  request_invalid = { status = 400, retryable = false, source = "both",
    meaning = "body, query or arguments failed validation (client-side: nothing was sent)" },
  request_missing_idempotency_key = { status = 400, retryable = false, source = "server",
    meaning = "a write endpoint was called without an Idempotency-Key" },
  request_invalid_range = { status = 400, retryable = false, source = "server",
    meaning = "the from/to window is longer than 90 days" },
  resource_not_found = { status = 404, retryable = false, source = "server",
    meaning = "the order/store/mapping does not exist or is not visible to this credential" },
  resource_unmapped = { status = 404, retryable = false, source = "server",
    meaning = "a stock/availability call named an unknown SKU" },
  state_invalid_transition = { status = 409, retryable = false, source = "server",
    meaning = "the order cannot move to that status from its current one (409 or 422)" },
  state_idempotency_conflict = { status = 409, retryable = false, source = "server",
    meaning = "the Idempotency-Key was already used with a different body" },
  rate_limit_exceeded = { status = 429, retryable = true, source = "server",
    meaning = "per-credential rate cap hit; see err.retry_after" },
  downstream_unavailable = { status = 502, retryable = true, source = "server",
    meaning = "a klikit-internal dependency is unreachable" },
  internal = { status = 500, retryable = true, source = "server",
    meaning = "failure inside klikit" },
  api_error = { status = nil, retryable = BY_STATUS, source = "server",
    meaning = "klikit answered with an error code this client does not know (see raw_code)" },
  http_error = { status = nil, retryable = BY_STATUS, source = "client",
    meaning = "non-2xx answer without a usable klikit envelope (proxy page, empty or cut body)" },
  decode_failed = { status = nil, retryable = true, source = "client",
    meaning = "a 2xx answer whose body is not a klikit JSON envelope" },
  network_error = { status = nil, retryable = true, source = "client",
    meaning = "no HTTP answer: connection refused/reset, DNS failure, ..." },
  timeout = { status = nil, retryable = true, source = "client",
    meaning = "the request did not complete within timeout/connect_timeout" },
  tls_verify_failed = { status = nil, retryable = false, source = "client",
    meaning = "the server certificate did not verify; set ca_file to the CA that signs it" },
  response_too_large = { status = nil, retryable = false, source = "client",
    meaning = "the response exceeded max_body_bytes or max_json_values, or its headers their limit, and was refused" },
  deadline_exceeded = { status = nil, retryable = false, source = "client",
    meaning = "the call's deadline would pass before it could be sent (e.g. waiting for the rate limiter)" },
  client_closed = { status = nil, retryable = false, source = "client",
    meaning = "the client was closed with client:close(); make a new one" },
  -- Klar's order import (klikit.klar)
  klar_invalid = { status = 400, retryable = false, source = "klar",
    meaning = "Klar judged a batch INVALID (never retried); upload/validate report its orders in res.failed" },
  klar_auth = { status = 401, retryable = false, source = "klar",
    meaning = "Klar refused the token (401/403): copy it again from the data source's Access Token tab" },
  klar_error = { status = nil, retryable = BY_STATUS, source = "klar",
    meaning = "Klar answered an error this client does not know; 408, 425, 429 and 5xx are retried" },
  klar_unmappable = { status = nil, retryable = false, source = "client",
    meaning = "a klikit order cannot become a Klar order (no currency, no creation time, ...); nothing was sent" },
  export_locked = { status = nil, retryable = false, source = "client",
    meaning = "another export holds the state file's lock; nothing was changed" },
  export_state_invalid = { status = nil, retryable = false, source = "client",
    meaning = "the export's state file cannot be read or written, or is not an export state" },
  -- klikit's webhooks (klikit.webhook): what a receiver answers a delivery with
  webhook_headers_missing = { status = 400, retryable = false, source = "webhook",
    meaning = "a delivery without x-klikit-signature, x-klikit-event-id or x-klikit-event-type" },
  webhook_signature_invalid = { status = 401, retryable = false, source = "webhook",
    meaning = "the x-klikit-signature is not the HMAC-SHA256 of the raw body with the webhook secret" },
  webhook_body_invalid = { status = 400, retryable = false, source = "webhook",
    meaning = "a signed delivery whose body is not {brand_id, branch_id, orders: [...]}" },
  webhook_event_unknown = { status = nil, retryable = false, source = "webhook",
    meaning = "a signed delivery of an event type this receiver does not know (acknowledged, not processed)" },
  unexpected_shape = { status = nil, retryable = false, source = "client",
    meaning = "a 2xx answer whose data is not shaped as documented (rows not where expected, a row without an id)" },
  walk_unsorted = { status = nil, retryable = false, source = "client",
    meaning = "a walk got orders that are not newest first, so it cannot move a time cursor over them" },
  walk_out_of_range = { status = nil, retryable = false, source = "client",
    meaning = "a walk got an order outside the from/to range it asked for (the server ignored the range)" },
  walk_incomplete = { status = nil, retryable = false, source = "client",
    meaning = "a walk could not prove it saw every row: the server's pages kept changing or contradicting its total" },
}
M.BY_STATUS = BY_STATUS

-- Which API sends each code: klikit's own vocabulary, or "any" for what the client makes
-- up itself (an error object also carries err.api, the client it came from).
for _, entry in pairs(M.codes) do
  entry.api = (entry.source == "server" or entry.source == "webhook") and "klikit"
    or entry.source == "klar" and "klar" or "any"
end

--- The retryable verdict of a code at an HTTP status (429 and 5xx by default; `extra`
--- adds statuses, e.g. Klar's 408 and 425).
function M.retryable_status(status, extra)
  return status == 429 or (type(status) == "number" and status >= 500 and status <= 599)
    or (extra ~= nil and extra[status] == true)
end

-- The UPPER_SNAKE vocabulary of klikit's concepts/errors page (and stray upstream codes),
-- keyed by their lowercased form.
local ALIASES = {
  missing_auth = "auth_missing",
  invalid_credentials = "auth_invalid_credential",
  forbidden_scope = "auth_forbidden",
  not_found = "resource_not_found",
  idempotency_key_conflict = "state_idempotency_conflict",
  invalid_transition = "state_invalid_transition",
  rate_limited = "rate_limit_exceeded",
}

--- Maps a code as klikit sent it to the stable lowercase code.
function M.normalize_code(raw)
  if type(raw) ~= "string" then return "api_error" end
  local lower = raw:lower()
  local entry = M.codes[lower]
  if entry and (entry.source == "server" or entry.source == "both") then return lower end
  return ALIASES[lower] or "api_error"
end

local retryable_status = M.retryable_status

local Error = {}
Error.__index = Error
M.Error = Error

function Error.__tostring(e)
  local where = {}
  where[#where + 1] = e.status and ("HTTP " .. tostring(e.status)) or "no HTTP status"
  where[#where + 1] = e.request_id and ("request_id " .. e.request_id) or "no request_id"
  if e.method and e.path then where[#where + 1] = e.method .. " " .. e.path end
  -- one line whatever the server or the caller put in message and path
  return redact.clip(M.visible(string.format("klikit: %s: %s [%s]", e.code, e.message or M.codes[e.code].meaning,
    table.concat(where, ", "))), 2048)
end

--- Builds an error object; `fields.code` must be a catalogued code.
function M.new(fields)
  local entry = M.codes[fields.code]
  assert(entry, "klikit: uncatalogued error code " .. tostring(fields.code))
  local e = setmetatable({}, Error)
  for k, v in pairs(fields) do e[k] = v end
  if e.retryable == nil then
    if entry.retryable == BY_STATUS then e.retryable = retryable_status(e.status, fields.retry_statuses)
    else e.retryable = entry.retryable end
  end
  e.message = e.message or entry.meaning
  return e
end

function M.is_error(v)
  return getmetatable(v) == Error
end

--- Control characters, malformed UTF-8, C1 controls and bidi overrides as visible escapes:
--- a message that echoes caller or server input cannot forge or hide lines in a log.
M.visible = redact.visible

--- Raises a request_invalid error: the caller passed something unusable.
function M.invalid(message)
  error(M.new { code = "request_invalid", message = M.visible(message) }, 2)
end

--- From the parts table that klikit.core.decode_envelope returns on failure.
function M.from_envelope(parts)
  local code
  if parts.kind == "api" then code = M.normalize_code(parts.raw_code)
  elseif parts.kind == "decode_failed" then code = "decode_failed"
  elseif parts.kind == "too_large" then code = "response_too_large"
  else code = "http_error" end
  return M.new {
    code = code, status = parts.status, message = parts.message, raw_code = parts.raw_code,
    request_id = parts.request_id, details = parts.details,
  }
end

local TRANSPORT_CODES = { network_error = true, timeout = true, tls_verify_failed = true,
  response_too_large = true }

--- From a transport failure: a table {code, message, curl_code} or a plain string.
function M.from_transport(terr)
  if M.is_error(terr) then return terr end
  if type(terr) ~= "table" then terr = { message = tostring(terr) } end
  local code = TRANSPORT_CODES[terr.code] and terr.code or "network_error"
  local message = terr.message or M.codes[code].meaning
  if code == "tls_verify_failed" then
    message = message .. " (hint: pass ca_file = the CA bundle that signs this server)"
  end
  return M.new { code = code, message = message, curl_code = terr.curl_code }
end

return M
