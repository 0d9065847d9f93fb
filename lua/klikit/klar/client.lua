--- The Klar order-import client: the same HTTP session as klikit's (retries, rate limit,
-- redaction, logger, transports) with Bearer auth and Klar's verdict codec.
--
--   local kc = klar.new{ token, version = "12.2022", base_url, batch_size = 250, ... }
--   kc:validate(orders)  -- POST /<version>/orders/validate?failedOrderIds=true
--   kc:upload(orders)    -- POST /<version>/orders/json?failedOrderIds=true
--     -> { sent, accepted, batches, failed = { [order id] = { messages } } }, nil, meta
--   kc:status()          -- GET /orders/status -> { total, last_batch_count, last_success, last_failure }
local errors = require("klikit.errors")
local util = require("klikit.util")
local url = require("klikit.http.url")
local json = require("klikit.http.json")
local options = require("klikit.http.options")
local session_mod = require("klikit.http.session")
local verdict = require("klikit.klar.verdict")

local M = {}
local Klar = {}
Klar.__index = Klar
local invalid = errors.invalid

M.BASE_URL = "https://open-api.getklar.com"
M.VERSION = "12.2022"
M.MAX_BATCH = 1000 -- Klar's limit per request

local KEYS = { token = true, version = true, base_url = true, batch_size = true }

--- klar.new(opts): token (else KLAR_TOKEN), base_url (else KLAR_BASE_URL, else Klar's),
--- version ("MM.YYYY", default 12.2022), batch_size (1..1000, default 250) and the session
--- options of klikit.http.options. Bad options raise request_invalid.
---@param opts? klikit.KlarOptions
---@return klikit.KlarClient
function M.new(opts)
  local settings
  opts, settings = options.client("klar.new", opts, KEYS)
  local token = opts.token or os.getenv("KLAR_TOKEN")
  if type(token) ~= "string" or token == "" then invalid("klar.new: token is missing: pass token or set KLAR_TOKEN") end
  if #token > 4096 or not token:find("^[\33-\126]+$") then
    invalid("klar.new: token must be printable ASCII without spaces, at most 4096 bytes")
  end
  local version = opts.version or M.VERSION
  if type(version) ~= "string" or not version:find("^%d%d%.%d%d%d%d$") then
    invalid("klar.new: version must look like 12.2022, got " .. tostring(version))
  end
  local base_url = url.check_base_url(opts.base_url or os.getenv("KLAR_BASE_URL") or M.BASE_URL,
    settings.allow_insecure_http, "klar.new")
  local session = session_mod.new { api = "klar", base_url = base_url, settings = settings, codec = verdict.codec,
    retry_statuses = verdict.RETRY_STATUSES, idempotency_keys = false, -- Klar upserts by id
    auth = { name = "Authorization", value = "Bearer " .. token, needles = { token } } }
  return setmetatable({ session = session, base_url = base_url, version = version,
    batch_size = util.check_int("klar.new: batch_size", opts.batch_size, 1, M.MAX_BATCH) or 250 }, Klar)
end

-- The orders argument: a list of Klar orders, each with a string id.
local function check_orders(what, orders)
  if type(orders) ~= "table" then invalid(what .. " expects a list of Klar orders, got " .. type(orders)) end
  local n = 0
  for _ in pairs(orders) do n = n + 1 end
  if n ~= #orders then invalid(what .. " expects a list (1..n) of Klar orders") end
  for i, order in ipairs(orders) do
    if type(order) ~= "table" or type(order.id) ~= "string" or order.id == "" then
      invalid(string.format("%s: order %d has no string id (Klar's ids are strings)", what, i))
    end
  end
  return orders
end

--- Sends one batch (at most 1000 orders) to `endpoint` ("json" or "validate").
--- -> { accepted, failed }, nil, meta | nil, err, meta. A Klar verdict (INVALID,
--- PARTIALLY_VALID) is a result: final, never retried; anything else is an error. A batch
--- Klar finds too large (HTTP 413) is sent again in halves; a single order it finds too
--- large is refused.
function Klar:send_batch(batch, endpoint)
  local session = self.session
  local path = "/" .. self.version .. "/orders/" .. (endpoint or "json")
  local data, err, meta = session:request("POST", path, { query = { failedOrderIds = "true" },
    body = json.array(batch) })
  if err and err.status == 413 then return self:split_batch(batch, endpoint, meta) end
  if err and err.code ~= "klar_invalid" then return nil, err, meta end
  local judged, why = verdict.judge(err and verdict.answer_of(err) or data, batch, verdict.cleaner(session),
    meta.status, endpoint == "validate")
  if not judged then
    return nil, session:fail(errors.new { code = "unexpected_shape", status = meta.status, message = why },
      "POST", path), meta
  end
  return judged, nil, meta
end

-- A batch answered 413: each half on its own, the results merged.
function Klar:split_batch(batch, endpoint, meta)
  if #batch == 1 then
    local refused = { [batch[1].id] = { "Klar refused the order as too large (HTTP 413)" } }
    return { accepted = 0, failed = refused }, nil, meta
  end
  local half, out = math.floor(#batch / 2), { accepted = 0, failed = {} }
  for _, part in ipairs { { 1, half }, { half + 1, #batch } } do
    local piece = {}
    for i = part[1], part[2] do piece[#piece + 1] = batch[i] end
    local judged, err
    judged, err, meta = self:send_batch(piece, endpoint)
    if not judged then return nil, err, meta end
    out.accepted = out.accepted + judged.accepted
    for id, messages in pairs(judged.failed) do out.failed[id] = messages end
  end
  return out, nil, meta
end

-- Every order in batches of batch_size; a failure other than Klar's verdict stops it (the
-- error carries err.progress, what was done before it).
local function send_all(self, what, orders, endpoint)
  local closed = self.session:closed_error("POST", "/orders/" .. endpoint)
  if closed then return nil, closed, {} end
  local ok, err = self.session:checked("POST", "/orders/" .. endpoint, check_orders, what, orders)
  if not ok then return nil, err, {} end
  local res, meta = { sent = 0, accepted = 0, batches = 0, failed = {} }, {}
  for first = 1, #orders, self.batch_size do
    local batch = {}
    for i = first, math.min(#orders, first + self.batch_size - 1) do batch[#batch + 1] = orders[i] end
    local judged, berr
    judged, berr, meta = self:send_batch(batch, endpoint)
    if not judged then
      berr.progress = res
      return nil, berr, meta
    end
    res.sent, res.accepted, res.batches = res.sent + #batch, res.accepted + judged.accepted, res.batches + 1
    for id, messages in pairs(judged.failed) do res.failed[id] = messages end
  end
  return res, nil, meta
end

function Klar:upload(orders) return send_all(self, "upload", orders, "json") end
function Klar:validate(orders) return send_all(self, "validate", orders, "validate") end

-- "2" -> 2; an ISO-8601 time -> Unix seconds.
local function number(v) return tonumber(v) end
local function seconds(v)
  local t = util.parse_time(v)
  return t and math.floor(t) or nil
end

--- GET /orders/status: Klar sends strings; this gives numbers and Unix seconds.
function Klar:status()
  local data, err, meta = self.session:request("GET", "/orders/status")
  if err and err.code == "klar_invalid" then -- a verdict means nothing here
    err.code, err.retryable = "klar_error", false
    err.message = "Klar answered HTTP " .. tostring(err.status) .. " to GET /orders/status"
  end
  if err then return nil, err, meta end
  if type(data) ~= "table" then
    return nil, self.session:fail(errors.new { code = "unexpected_shape", status = meta.status,
      message = "GET /orders/status answered no object" }, "GET", "/orders/status"), meta
  end
  return { total = number(data.total), last_batch_count = number(data.lastBatchCount),
    last_success = seconds(data.lastSuccess), last_failure = seconds(data.lastFailure) }, nil, meta
end

function Klar:close() self.session:close() end

function Klar:__tostring()
  return string.format("klikit.klar(%s, version %s)", self.base_url, self.version)
end

util.guard_methods(Klar, "klar client")
M.Klar = Klar
return M
