--- The OpenResty webhook receiver: verify, dedupe, acknowledge, then work.
--   location = /klikit/webhook {
--     content_by_lua_block {
--       handler = handler or require("klikit.webhook").handler {
--         secret = os.getenv("KLIKIT_WEBHOOK_SECRET"), dedupe = "klikit_events", ttl = 86400,
--         on_event = function(event) ... end }
--       handler()
--     }
--   }
-- Answers as klikit's reference receivers do: 400 {"error":"missing klikit headers"},
-- 401 {"error":"invalid signature"}, 400 {"error":"invalid body"}, 200
-- {"status":"duplicate-ignored"}, 200 {"status":"received"}. klikit retries a delivery
-- that is not acknowledged within 10 s, so the answer goes first: on_event runs afterwards
-- in a timer (ngx.timer.at). Event ids are claimed atomically across workers in a
-- lua_shared_dict (shared_dict:add), so each event is handled once; so are the body's
-- bytes (by its signature), for a retry that comes under a new event id. Every decision is
-- logged with the event id and type; never the body, the signature or the secret.
local errors = require("klikit.errors")
local util = require("klikit.util")
local webhook = require("klikit.webhook")

local M = {}
local invalid = errors.invalid
local KEYS = { secret = true, dedupe = true, ttl = true, on_event = true, logger = true }

local function default_logger(level, message)
  ngx.log(level == "warn" and ngx.WARN or level == "error" and ngx.ERR or ngx.INFO, message)
end

-- The raw body, also when nginx buffered it to a temp file (client_body_buffer_size).
local function raw_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local path = ngx.req.get_body_file()
  if not path then return "" end
  local f = io.open(path, "rb")
  if not f then return nil end
  body = f:read("*a")
  f:close()
  return body
end

local function answer(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return ngx.exit(ngx.HTTP_OK)
end

local ANSWERS = {
  webhook_headers_missing = { 400, '{"error":"missing klikit headers"}' },
  webhook_signature_invalid = { 401, '{"error":"invalid signature"}' },
  webhook_body_invalid = { 400, '{"error":"invalid body"}' },
}

local function run(opts, event)
  local ok, why = pcall(opts.on_event, event)
  if not ok then
    opts.logger("error", string.format("klikit webhook %s %s: on_event failed: %s", event.id, event.type,
      errors.visible(tostring(why)):sub(1, 500)))
  end
end

--- opts: secret, dedupe (a lua_shared_dict name), ttl (seconds an event id is remembered,
--- default 86400), on_event(event), logger(level, message) (default ngx.log). -> a
--- function to call from content_by_lua.
function M.new(opts)
  if type(opts) ~= "table" then invalid("klikit.webhook.handler expects a table of options") end
  util.check_keys("klikit.webhook.handler", opts, KEYS)
  if type(opts.secret) ~= "string" or opts.secret == "" then invalid("klikit.webhook.handler: secret is missing") end
  if type(opts.on_event) ~= "function" then invalid("klikit.webhook.handler: on_event must be a function") end
  local dict = type(opts.dedupe) == "string" and ngx.shared[opts.dedupe]
  if not dict then
    invalid("klikit.webhook.handler: dedupe must name a lua_shared_dict (lua_shared_dict "
      .. tostring(opts.dedupe) .. " 10m; in nginx.conf)")
  end
  local ttl = opts.ttl or 86400
  if type(ttl) ~= "number" or not (ttl > 0 and ttl <= 30 * 86400) then
    invalid("klikit.webhook.handler: ttl must be a number of seconds from 1 to 2592000")
  end
  local settings = { on_event = opts.on_event, logger = opts.logger or default_logger }
  local log = settings.logger
  return function()
    local headers = ngx.req.get_headers(100, true)
    local body = raw_body()
    local event, err = webhook.parse(headers, body, opts.secret)
    local id = errors.visible(tostring(event and event.id or err and err.event and err.event.id
      or headers["x-klikit-event-id"] or "-"):sub(1, 100))
    if not event and err.code == "webhook_event_unknown" then
      log("warn", string.format("klikit webhook %s: %s; acknowledged, not processed", id, err.message))
      return answer(200, '{"status":"received"}')
    end
    if not event then
      log("warn", string.format("klikit webhook %s: %s (%s)", id, err.code, err.message))
      local a = ANSWERS[err.code]
      return answer(a[1], a[2])
    end
    for _, w in ipairs(event.warnings) do log("warn", "klikit webhook " .. id .. ": " .. errors.visible(w)) end
    local keys = { "klikit-event:" .. event.id, "klikit-body:" .. event.type .. ":" .. event.signature }
    local added, why = dict:add(keys[1], ngx.now(), ttl)
    local claimed, same_body = added and 1 or 0, false
    if added then
      -- klikit's overview calls the id "unique per delivery attempt": a retry may come with
      -- a new id but the same bytes (the same signature), which are the same event
      added, why = dict:add(keys[2], event.id, ttl)
      if added then claimed = 2 end
      same_body = not added and why == "exists"
    end
    if not added and why == "exists" then
      log("info", string.format("klikit webhook %s %s: duplicate-ignored%s", id, event.type,
        same_body and " (the same body as an event already received)" or ""))
      return answer(200, '{"status":"duplicate-ignored"}')
    end
    local function forget() -- only the keys this delivery claimed
      for i = 1, claimed do dict:delete(keys[i]) end
    end
    if not added then -- the dict is full: without dedupe, ask klikit to deliver again later
      forget()
      log("error", string.format("klikit webhook %s: dedupe store %s failed (%s); answered 503", id, opts.dedupe, why))
      return answer(503, '{"error":"try again"}')
    end
    local ok, terr = ngx.timer.at(0, function(premature)
      if not premature then run(settings, event) end
    end)
    if not ok then -- no timer: forget the event so klikit's retry is processed
      forget()
      log("error", string.format("klikit webhook %s: cannot schedule on_event (%s); answered 503", id, terr))
      return answer(503, '{"error":"try again"}')
    end
    log("info", string.format("klikit webhook %s %s: received (%d orders)", id, event.type, #event.orders))
    return answer(200, '{"status":"received"}')
  end
end

return M
