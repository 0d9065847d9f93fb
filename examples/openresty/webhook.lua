--- The application behind examples/openresty/nginx.conf.
--   POST /klikit/webhook  klikit's signed deliveries: 400 missing headers, 401 bad
--                         signature, 200 duplicate-ignored, 200 received; after the ack,
--                         each order of a klikit.order.created.v2 is fetched in full.
--   GET  /today           { date, utc_offset, orders, cancelled, revenue = { [currency] =
--                         "81000.00" }, revenue_minor = { [currency] = 8100000 } }
-- Replace handle_new_order with your own work (ring the kitchen, copy to a database...).
local cjson = require "cjson.safe"
local klikit = require "klikit"
local webhook = require "klikit.webhook"

local M = {}

-- One client per worker is safe: it holds settings, no per-request state, and picks
-- cosockets per call in the phases that have them (content, timers). Built on first use,
-- because init_by_lua runs before the worker and its environment exist.
local client
local function klikit_client()
  client = client or klikit.new { timeout = 10, retry = { deadline = 60 } } -- keys: KLIKIT_* (nginx.conf)
  return client
end

--- Your work for each new order (here: one log line without customer data).
function M.handle_new_order(order)
  ngx.log(ngx.NOTICE, string.format("klikit example: order %s fetched: status %s, %s %s",
    tostring(order.id), tostring(order.status), tostring(order.currency), tostring(order.final_price)))
end

-- Runs in a timer after the 200 went out: klikit's 10 s limit is not ours to spend.
local function on_event(event)
  if event.type ~= "klikit.order.created.v2" then return end
  for _, summary in ipairs(event.orders) do
    local order, err = klikit_client():order(summary.id)
    if order then
      M.handle_new_order(order)
    else -- the event is acknowledged: keep the id so a later job can fetch it again
      ngx.log(ngx.ERR, "klikit example: order ", tostring(summary.id), " not fetched: ", tostring(err))
    end
  end
end

local receiver
function M.receive()
  receiver = receiver or webhook.handler {
    secret = os.getenv("KLIKIT_WEBHOOK_SECRET"), dedupe = "klikit_events", ttl = 86400, on_event = on_event }
  return receiver()
end

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
  return ngx.exit(ngx.HTTP_OK)
end

-- "+07:00" -> seconds east of UTC
local function offset_seconds(text)
  local sign, h, m = tostring(text):match("^([+-])(%d%d):(%d%d)$")
  if not sign or tonumber(h) > 14 or tonumber(m) > 59 then return nil end
  return (sign == "-" and -1 or 1) * (tonumber(h) * 3600 + tonumber(m) * 60)
end

local CANCELLED = 3 -- order status integer on reads

function M.today()
  local utc_offset = ngx.var.arg_utc_offset or os.getenv("KLIKIT_UTC_OFFSET") or "+07:00"
  utc_offset = ngx.unescape_uri(utc_offset)
  local offset = offset_seconds(utc_offset)
  if not offset then return reply(400, { error = "utc_offset must look like +07:00" }) end
  local now = ngx.time()
  local from = math.floor((now + offset) / 86400) * 86400 - offset -- local midnight, in UTC seconds
  local pager, err = klikit_client():orders { from = from, to = from + 86400 }
  if not pager then return reply(502, { error = err.code, message = err.message }) end
  local count, cancelled, minor = 0, 0, {}
  while true do
    local order, werr = pager:next()
    if werr then return reply(502, { error = werr.code, message = werr.message, request_id = werr.request_id }) end
    if not order then break end
    count = count + 1
    if order.status == CANCELLED then
      cancelled = cancelled + 1
    elseif type(order.final_price) == "number" then
      local currency = type(order.currency) == "string" and order.currency or "unknown"
      minor[currency] = (minor[currency] or 0) + order.final_price
    end
  end
  local major = {}
  for currency, sum in pairs(minor) do major[currency] = string.format("%d.%02d", math.floor(sum / 100), sum % 100) end
  return reply(200, { date = os.date("!%Y-%m-%d", from + offset), utc_offset = utc_offset, orders = count,
    cancelled = cancelled, revenue = major, revenue_minor = minor })
end

return M
