-- The OpenResty spec group's application, inside nginx (LuaJIT): klikit installed as a
-- user would, its clients kept per worker, every call through cosockets unless a request
-- asks for transport=curl.
--   GET  /call?id=N[&transport=curl]   one klikit call (client:order)   -> { ok, code, elapsed }
--   GET  /walk?from=&to=&size=&concurrency=  a whole walk inside nginx  -> { ids, requests, elapsed | code, message }
--   POST /transport {opts, req}        one request through klikit.transport.ngx (the shared
--                                      transport contract runs through this) -> { resp | err | raised }
--   GET  /tls?base_url=...             one call to an HTTPS sandbox       -> { status, code }
--   POST /webhook                      klikit.webhook.handler (on_event sleeps, then counts)
--   GET  /processed                    { [event id] = times processed }
--   POST /reset                        empties the shared dicts
local cjson = require "cjson.safe"
local klikit = require "klikit"

local M = {}
local settings
local clients = {}

function M.init(path)
  settings = dofile(path)
end

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
  return ngx.exit(ngx.HTTP_OK)
end

local function client(transport, base_url)
  local key = (transport or "auto") .. " " .. (base_url or "")
  if not clients[key] then
    clients[key] = klikit.new { partner_key = settings.partner_key, secret_key = settings.secret_key,
      base_url = base_url or settings.base_url, transport = transport,
      retry = { max_attempts = 8, base_delay = 0.02, max_delay = 0.2 } }
  end
  return clients[key]
end

local transports = {}
local function transport_for(opts)
  local key = cjson.encode(opts or {})
  transports[key] = transports[key] or require("klikit.transport.ngx").new(opts)
  return transports[key]
end

local handlers = {}

function handlers.call(args)
  local t0 = ngx.now()
  local order, err = client(args.transport):order(tonumber(args.id) or args.id)
  ngx.update_time()
  return reply(200, { ok = order ~= nil, code = err and err.code, elapsed = ngx.now() - t0 })
end

function handlers.walk(args)
  local ids = {}
  local t0 = ngx.now()
  local pager, err = client():orders { from = args.from, to = args.to, size = tonumber(args.size),
    concurrency = tonumber(args.concurrency) }
  if not pager then return reply(200, { code = err.code, message = err.message }) end
  while true do
    local order, werr = pager:next()
    if werr then return reply(200, { ids = ids, code = werr.code, message = werr.message }) end
    if not order then break end
    ids[#ids + 1] = tostring(order.id)
  end
  ngx.update_time()
  return reply(200, { ids = ids, requests = pager.pages, elapsed = ngx.now() - t0 })
end

function handlers.transport()
  ngx.req.read_body()
  local spec = cjson.decode(ngx.req.get_body_data() or "")
  if type(spec) ~= "table" then return reply(400, { raised = "bad request" }) end
  local ok, t = pcall(transport_for, spec.opts)
  if not ok then return reply(200, { raised = tostring(t) }) end
  local done, resp, err = pcall(t.request, t, spec.req)
  if not done then return reply(200, { raised = tostring(resp) }) end
  return reply(200, { resp = resp, err = err })
end

function handlers.tls(args)
  local c = klikit.new { partner_key = settings.partner_key, secret_key = settings.secret_key,
    base_url = args.base_url, retry = { max_attempts = 1 } }
  local _, err, meta = c:order(1)
  return reply(200, { status = meta.status, code = err and err.code })
end

function handlers.processed()
  local out, dict = {}, ngx.shared.processed
  for _, key in ipairs(dict:get_keys(0)) do out[key] = dict:get(key) end
  return reply(200, out)
end

function handlers.reset()
  ngx.shared.processed:flush_all()
  ngx.shared.klikit_events:flush_all()
  return reply(200, { ok = true })
end

function M.handle()
  local name = ngx.var.uri:match("^/([%w_]+)$")
  local h = name and handlers[name]
  if not h then return reply(404, { error = "no such location" }) end
  return h(ngx.req.get_uri_args())
end

local webhook
function M.webhook()
  webhook = webhook or require("klikit.webhook").handler {
    secret = settings.webhook_secret, dedupe = "klikit_events", ttl = 3600,
    on_event = function(event)
      ngx.sleep(settings.on_event_sleep or 1)
      ngx.shared.processed:incr(event.id, 1, 0)
    end,
  }
  return webhook()
end

return M
