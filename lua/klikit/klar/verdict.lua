--- Klar's answers to an order import, read the way they come (klar-api.md section 5):
--   201 {"status":"VALID"}
--   400 {"status":"INVALID", "errors": [strings or {id,key,message,value}], "orderIds" | "failedOrderIds": [...]}
--   207 {"status":"PARTIALLY_VALID", "errors": [...], "failedOrderIds": [...], "successfulOrderIds": [...]}
--   400 the raw class-validator tree (no status): [{ property, constraints, children }]
-- Judged by body.status, not by the HTTP code alone. Every message is tied to the order it
-- is about: by its id, or by its index in the batch ("orders.3.createdAt: ...", "3.orderId").
local errors = require("klikit.errors")
local core = require("klikit.core")
local redact = require("klikit.http.redact")

local M = {}

--- Statuses retried for Klar: 408, 425, 429 and every 5xx (INVALID and PARTIALLY_VALID never).
M.RETRY_STATUSES = { [408] = true, [425] = true, [429] = true }
for status = 500, 599 do M.RETRY_STATUSES[status] = true end

-- The answer behind a klar_invalid error, as Klar sent it (the error itself carries only a
-- redacted, bounded copy in err.details): read by judge, never shown.
local answers = setmetatable({}, { __mode = "k" })

--- The answer Klar sent with a klar_invalid error (nil for any other error).
function M.answer_of(err) return answers[err] end

-- One line of a body, for a message: credentials out first, then cut.
local function snippet(session, body)
  return (session:redact(tostring(body or "")):sub(1, 200):gsub("%s+", " "))
end

--- The session codec: -> true, data | false, err. A 400 with a JSON body, and a 2xx
--- saying INVALID, are klar_invalid: the batch's verdict, kept for judge.
function M.codec(resp, session)
  local status, body = resp.status, resp.body or ""
  local value, kind, why
  if body:find("%S") then value, kind, why = core.decode_json(body, session.max_json_values) end
  if kind == "too_large" then
    return false, errors.new { code = "response_too_large", status = status, message = why }
  end
  local ok = status >= 200 and status < 300
  if ok and kind then return false, errors.new { code = "decode_failed", status = status, message = why } end
  if status == 401 or status == 403 then
    return false, errors.new { code = "klar_auth", status = status, message = "Klar answered HTTP " .. status
      .. (type(value) == "table" and type(value.message) == "string" and (": " .. value.message) or "") }
  end
  if type(value) == "table" and ((ok and value.status == "INVALID") or status == 400) then
    local err = errors.new { code = "klar_invalid", status = status, details = value,
      message = string.format("Klar answered HTTP %d: %s", status, type(value.status) == "string"
        and ("status " .. value.status) or "a validation error list") }
    answers[err] = value
    return false, err
  end
  if ok then return true, value end
  return false, errors.new { code = "klar_error", status = status, retry_statuses = M.RETRY_STATUSES,
    message = "Klar answered HTTP " .. status .. ": " .. snippet(session, body) }
end

-- The batch index of an error string "orders.<i>.<path>: ..." or a key "<i>.<path>".
local function index_of(text)
  local i = tostring(text or ""):match("^orders%.(%d+)") or tostring(text or ""):match("^(%d+)%.")
    or tostring(text or ""):match("^(%d+)$")
  return i and tonumber(i)
end

-- Messages of a class-validator node and its children, with the property path.
local function tree_messages(node, path, out)
  if type(node) ~= "table" then return end
  local here = path
  if node.property ~= nil then here = path and (path .. "." .. tostring(node.property)) or tostring(node.property) end
  if type(node.constraints) == "table" then
    for rule, message in pairs(node.constraints) do
      out[#out + 1] = string.format("%s: %s (%s)", here or "?", tostring(message), tostring(rule))
    end
  end
  for _, child in ipairs(type(node.children) == "table" and node.children or {}) do tree_messages(child, here, out) end
end

local function nonempty(v) return type(v) == "table" and next(v) ~= nil end

-- An id as the batch keys it: a string, integers without an exponent or ".0".
local function id_text(v)
  if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2^53 then return string.format("%d", v) end
  return tostring(v)
end

-- The messages of a refused batch, tied to its orders: add(id, message) for each message
-- that names one (by id, or by its index in the batch); -> the messages that name none.
local function place_messages(answer, raw, ids, add)
  local unplaced = {}
  local list = raw and (answer.message or answer) or answer.errors or {}
  if type(list) ~= "table" then list = { list } end
  for _, e in ipairs(list) do
    if type(e) == "string" then
      if not add(ids[index_of(e)], e) then unplaced[#unplaced + 1] = e end
    elseif type(e) == "table" and raw then
      local texts = {}
      tree_messages(e, nil, texts)
      local id = ids[index_of(e.property)]
      for _, t in ipairs(texts) do if not add(id, t) then unplaced[#unplaced + 1] = t end end
    elseif type(e) == "table" then
      local text = string.format("%s: %s", tostring(e.key or "?"), tostring(e.message or "invalid"))
      local v = e.value
      if type(v) == "string" or type(v) == "number" or type(v) == "boolean" then
        text = text .. " (" .. tostring(v) .. ")"
      end
      local id = e.id ~= nil and id_text(e.id) or nil
      if not add(id, text) and not add(ids[index_of(e.key)], text) then unplaced[#unplaced + 1] = text end
    end
  end
  for _, named_ids in ipairs { answer.failedOrderIds or {}, answer.orderIds or {} } do
    for _, id in ipairs(type(named_ids) == "table" and named_ids or {}) do add(id_text(id)) end
  end
  return unplaced
end

--- -> { accepted = n, failed = { [order id] = { messages } } } | nil, why, for `batch`
--- (the orders sent, in order) and Klar's answer at HTTP `http_status`. `clean` makes a
--- message safe to keep; validate_only: nothing was to be stored, so an INVALID verdict
--- refuses only the orders it names. An order counts as accepted only when Klar said so:
--- VALID on a 2xx, or listed in successfulOrderIds (or, without that list, not named as
--- failed by a PARTIALLY_VALID that names some).
function M.judge(answer, batch, clean, http_status, validate_only)
  local ids, by_id = {}, {}
  for i, order in ipairs(batch) do ids[i - 1] = order.id; by_id[order.id] = true end
  local failed, n = {}, 0
  local function add(id, message)
    if id == nil or not by_id[id] then return false end
    if not failed[id] then failed[id], n = {}, n + 1 end
    if message then failed[id][#failed[id] + 1] = clean(message) end
    return true
  end
  local ok_http = type(http_status) == "number" and http_status >= 200 and http_status < 300
  local all = { accepted = #batch, failed = failed }
  if type(answer) ~= "table" then
    if ok_http and http_status ~= 207 then return all end -- a 2xx without a body (Klar's older 200)
    return nil, string.format("Klar answered HTTP %s without a verdict", tostring(http_status))
  end
  local status = answer.status
  if status == "VALID" then
    if not ok_http then return nil, string.format("Klar answered HTTP %s with status VALID", tostring(http_status)) end
    if nonempty(answer.failedOrderIds) or nonempty(answer.orderIds) or nonempty(answer.errors) then
      return nil, "Klar answered status VALID and named failed orders"
    end
    return all
  end
  local listed = answer.failedOrderIds ~= nil or answer.orderIds ~= nil or answer.successfulOrderIds ~= nil
    or answer.errors ~= nil
  if status == nil and ok_http and http_status ~= 207 and not listed then return all end
  if status ~= nil and status ~= "INVALID" and status ~= "PARTIALLY_VALID" then
    return nil, "Klar answered status " .. clean(tostring(status)) .. ", which this client does not know"
  end
  local partial = status == "PARTIALLY_VALID" or (status == nil and ok_http)
  local unplaced = place_messages(answer, status == nil and not ok_http, ids, add)
  local named = n
  if partial and type(answer.successfulOrderIds) == "table" then
    local confirmed = {}
    for _, id in ipairs(answer.successfulOrderIds) do confirmed[id_text(id)] = true end
    for _, order in ipairs(batch) do
      if not failed[order.id] and not confirmed[order.id] then
        add(order.id, "not stored: Klar did not list it in successfulOrderIds")
      end
    end
  elseif named == 0 or (not partial and not validate_only) then
    -- INVALID (or a raw tree) stores nothing of the batch: the orders it does not name are
    -- refused too. A PARTIALLY_VALID that names no order cannot say which were stored.
    for _, order in ipairs(batch) do
      if not failed[order.id] then
        add(order.id, named > 0 and "not stored: Klar refused the whole batch (INVALID) for other orders in it" or nil)
      end
    end
  end
  for id, messages in pairs(failed) do
    if #messages == 0 then
      messages[1] = #unplaced > 0 and clean(table.concat(unplaced, "; ")) or "rejected by Klar without a message"
    end
    if #messages > 20 then
      failed[id] = { messages[1], messages[2], string.format("... and %d more", #messages - 2) }
    end
  end
  return { accepted = #batch - n, failed = failed }
end

--- A message safe to keep in a summary or a state file.
function M.cleaner(session)
  return function(text) return redact.safe(session:redact(tostring(text))) end
end

return M
