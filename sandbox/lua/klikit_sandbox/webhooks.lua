-- Webhook deliveries from the sandbox, signed as klikit signs them (klikit-api.md §4):
-- body {brand_id, branch_id, orders}, headers x-klikit-signature (lowercase hex
-- HMAC-SHA256 of the raw body), x-klikit-event-id, x-klikit-event-type. Each delivery runs
-- in its own timer (all at once, or `spacing` seconds apart), and is sent again on a non-2xx answer or no answer, as
-- klikit does (max_attempts, retry_delay doubling).
--
--   POST /_sandbox/webhooks { target = "http://127.0.0.1:P/path", secret, max_attempts = 3,
--     retry_delay = 0.05, spacing = 0, deliveries = [ { type, event_id, orders = [ids] | count = n,
--     bad_signature, missing_header = "x-klikit-...", underscore_headers } ] }
--   GET  /_sandbox/webhooks -> { deliveries = [ { event_id, attempts = [ { status, ms } ], done } ] }
local json = require "klikit_sandbox.json"
local data = require "klikit_sandbox.data"
local sha256 = require "klikit_sandbox.sha256"

local M = {}
local state = { deliveries = {} }

function M.reset() state.deliveries = {} end

local function now()
  ngx.update_time()
  return ngx.now()
end

-- One POST over a fresh connection -> status | nil, why
local function post(target, headers, body)
  local host, port, path = target:match("^http://([^:/]+):(%d+)(/.*)$")
  if not host then return nil, "target must be http://host:port/path" end
  local sock = ngx.socket.tcp()
  sock:settimeouts(2000, 10000, 10000) -- klikit's own limit is 10 s
  local ok, err = sock:connect(host, tonumber(port))
  if not ok then return nil, err end
  local lines = { "POST " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port, "Content-Type: application/json",
    "Content-Length: " .. #body, "Connection: close" }
  for _, h in ipairs(headers) do lines[#lines + 1] = h end
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  if not ok then sock:close() return nil, err end
  local line
  line, err = sock:receive("*l")
  if not line then sock:close() return nil, err end
  local answer = sock:receive("*a") or ""
  sock:close()
  local head, content = answer:match("^(.-\r\n)\r\n(.*)$")
  if head and head:lower():find("transfer%-encoding:%s*chunked") then -- decode the chunks
    local out, pos = {}, 1
    while true do
      local size, at = content:match("^(%x+)[^\r]*\r\n()", pos)
      if not size or tonumber(size, 16) == 0 then break end
      out[#out + 1] = content:sub(at, at + tonumber(size, 16) - 1)
      pos = at + tonumber(size, 16) + 2
    end
    content = table.concat(out)
  end
  return tonumber(line:match("^HTTP/1%.%d (%d%d%d)")), content
end

local function deliver(premature, spec, d, record)
  if premature then return end
  for attempt = 1, spec.max_attempts do
    local t0 = now()
    local status, answer = post(spec.target, d.headers, d.body)
    record.attempts[attempt] = { status = status or json.null, ms = math.floor((now() - t0) * 1000 + 0.5),
      body = answer or json.null }
    if status and status >= 200 and status < 300 then break end
    if attempt < spec.max_attempts then ngx.sleep(spec.retry_delay * 2 ^ (attempt - 1)) end
  end
  record.done = true
end

-- The body and headers of one delivery.
local function build(spec, d, records, by_id, i)
  local list, brand, branch = json.array(), nil, nil
  local ids = d.orders or {}
  if #ids == 0 then
    for k = 1, d.count or 1 do ids[k] = records[((i - 1) * 3 + k - 1) % #records + 1].id end
  end
  for _, id in ipairs(ids) do
    local r = by_id[tonumber(id)]
    if r then
      list[#list + 1] = data.order(r)
      brand, branch = brand or r.brand_id, branch or r.branch.id
    end
  end
  local body = json.encode { brand_id = brand or 0, branch_id = branch or 0, orders = list }
  local signature = sha256.hmac_hex(spec.secret, body)
  if d.bad_signature then signature = sha256.hmac_hex(spec.secret .. "x", body) end
  local headers, sep = {}, d.underscore_headers and "_" or "-"
  for name, value in pairs { signature = signature, ["event-id"] = d.event_id, ["event-type"] = d.type } do
    local full = "x-klikit-" .. name
    if full ~= d.missing_header then headers[#headers + 1] = full:gsub("%-", sep) .. ": " .. value end
  end
  return { body = body, headers = headers }
end

--- Queues the deliveries of `spec` (records: the sandbox's orders; by_id: id -> record).
function M.queue(spec, records, by_id)
  if type(spec.target) ~= "string" or type(spec.secret) ~= "string" or type(spec.deliveries) ~= "table" then
    return nil, "expected { target, secret, deliveries = [...] }"
  end
  spec.max_attempts = tonumber(spec.max_attempts) or 3
  spec.retry_delay = tonumber(spec.retry_delay) or 0.05
  spec.spacing = math.max(0, math.min(tonumber(spec.spacing) or 0, 1)) -- seconds between first attempts
  for i, d in ipairs(spec.deliveries) do
    d.type = d.type or "klikit.order.created.v2"
    d.event_id = d.event_id or ("evt-" .. i)
    local record = { event_id = d.event_id, attempts = json.array(), done = false }
    state.deliveries[#state.deliveries + 1] = record
    local ok, err = ngx.timer.at((i - 1) * spec.spacing, deliver, spec, build(spec, d, records, by_id, i), record)
    if not ok then return nil, "cannot start a delivery: " .. tostring(err) end
  end
  return #spec.deliveries
end

function M.report()
  local pending = 0
  for _, r in ipairs(state.deliveries) do if not r.done then pending = pending + 1 end end
  return { deliveries = json.array(state.deliveries), pending = pending }
end

--- The docs' test vector, signed by this module (the specs compare it with klikit.core).
function M.selftest()
  return sha256.hmac_hex("your-webhook-secret", '{"brand_id":1,"branch_id":2,"orders":[{"id":42}]}')
end

return M
