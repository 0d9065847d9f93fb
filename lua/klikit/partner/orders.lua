--- Orders: the walk over any date range, counts, single orders, status transitions and
-- the two enums, as endpoint rows (see klikit.partner.endpoints).
local errors = require("klikit.errors")
local util = require("klikit.util")
local page = require("klikit.http.page")
local pager = require("klikit.http.pager")
local time_cursor = require("klikit.http.time_cursor")
local enums = require("klikit.partner.enums")

local M = {}
local invalid = errors.invalid

M.WINDOW = time_cursor.WINDOW
M.KEYS = { "orders", "results" } -- data.orders as documented; data.results as on other lists

local FILTERS = { from = true, to = true, status = true, provider_id = true, branch_id = true }

--- Checks the filters of a walk or a count -> query (without from/to), windows, params.
-- status takes a code or a name (klikit.enums.ORDER_STATUS); a value klikit does not
-- know is refused rather than silently matching nothing.
function M.filters(what, params, extra)
  local allowed = {}
  for k in pairs(FILTERS) do allowed[k] = true end
  for k in pairs(extra or {}) do allowed[k] = true end
  params = util.check_keys(what, params, allowed)
  local from_wire, from_t = util.check_time("from", params.from)
  local to_wire, to_t = util.check_time("to", params.to)
  if from_t and to_t and to_t < from_t then invalid(what .. ": to is earlier than from") end
  local q = {
    status = params.status ~= nil and enums.status_code(what, params.status) or nil,
    provider_id = util.check_int("provider_id", params.provider_id, 1),
    branch_id = util.check_int("branch_id", params.branch_id, 1),
  }
  return q, time_cursor.windows(from_t, to_t, os.time(), from_wire, to_wire), params
end

local function walk_opts(query, windows, size, concurrency, fields)
  return { query = query, windows = windows, size = size, keys = M.KEYS, field = "created_at",
    range = { "from", "to" }, span_size = 100, concurrency = concurrency, fields = fields }
end

-- A copy of the caller's list of fields, checked (raises request_invalid).
local function field_list(list)
  if list == nil then return nil end
  require("klikit.http.fields").compile(list)
  local copy = {}
  for i, name in ipairs(list) do copy[i] = name end
  return copy
end

local function window_query(base, w)
  local q = {}
  for k, v in pairs(base) do q[k] = v end
  q.from = w.from_wire or (w.from and util.format_time(w.from))
  q.to = w.to_wire or (w.to and util.format_time(w.to))
  return q
end

-- A count as klikit may send it: a non-negative integer, or a string of digits; else nil
-- (a count of -5, 1.5, "0x10" or 1e400 is no count).
local function count_value(v)
  if type(v) == "string" and v:find("^%d+$") and #v <= 15 then v = tonumber(v) end
  if util.is_integer(v) and v >= 0 then return v end
  return nil
end

-- The total of one window: GET /orders/count, or data.total of a one-order page, or (a
-- server without totals) a walk of the window, counted. -> n, nil, meta | nil, err, meta
local function count_window(client, q, w)
  local session = client.session
  if not client.count_endpoint_empty then
    local data, err, meta = session:request("GET", "/orders/count", { query = q })
    if err then return nil, err, meta end
    local n = count_value(data)
    if type(data) == "table" then n = count_value(data.count) or count_value(data.total) end
    if n then return n, nil, meta end
    if data ~= nil and (type(data) ~= "table" or data.count ~= nil or data.total ~= nil) then
      return nil, session:fail(page.shape_error("/orders/count", meta, "the count is not a non-negative integer"),
        "GET", "/orders/count"), meta
    end
    client.count_endpoint_empty = true -- answers {} today: skip it for the rest of this client
  end
  local page_q = {}
  for k, v in pairs(q) do page_q[k] = v end
  page_q.page, page_q.size = 1, 1
  local pg, err = page.fetch(session, "/orders", page_q, M.KEYS)
  if not pg then return nil, err, {} end
  if pg.total then return pg.total, nil, pg.meta end
  if pg.n == 0 then return 0, nil, pg.meta end
  local base = {}
  for k, v in pairs(q) do if k ~= "from" and k ~= "to" then base[k] = v end end
  local all, werr = pager.time_cursor(session, "/orders", walk_opts(base, { w }, 100)):all()
  if not all then return nil, werr, {} end
  return #all, nil, pg.meta
end

local function count_filters(params)
  local q, windows, p = M.filters("count_orders", params, { concurrency = true })
  return q, windows, pager.check_concurrency(p.concurrency) or 1
end

-- n, nil, meta: the sum over the 90-day windows of the range. GET /orders/count answers
-- `data: {}` today; then each window is counted with GET /orders?size=1 (data.total), as
-- klikit advises.
local function count_orders(client, params)
  local session = client.session
  local closed = session:closed_error("GET", "/orders/count")
  if closed then return nil, closed, {} end
  local q, windows, k = session:checked("GET", "/orders/count", count_filters, params)
  if not q then return nil, windows, {} end
  -- the windows are counted K at a time (each by its own task when K > 1)
  local counts, next_window = {}, 1
  local function worker()
    while next_window <= #windows do
      local i = next_window
      next_window = i + 1
      counts[i] = { count_window(client, window_query(q, windows[i]), windows[i]) }
    end
  end
  if k > 1 and #windows > 1 then
    local runner = require("klikit.http.runner").new()
    for _ = 1, math.min(k, #windows) do runner:spawn(worker) end
    runner:wait(function() return false end)
  else
    worker()
  end
  local sum, meta = 0, {}
  for i = 1, #windows do
    local n, err
    n, err, meta = counts[i][1], counts[i][2], counts[i][3] or {}
    if not n then return nil, err, meta end
    sum = sum + n
  end
  meta.windows = #windows
  return sum, nil, meta
end

local function status_body(fields)
  fields = util.check_keys("update_order_status", fields, { status = true, reason_code = true, occurred_at = true })
  local status = fields.status
  if not enums.STATUS_ALIASES[status] then
    invalid("update_order_status: status must be one of accepted, ready, picked_up, rejected, cancelled, got "
      .. tostring(status))
  end
  local reason = fields.reason_code
  if enums.NEEDS_REASON[status] and (type(reason) ~= "string" or reason == "") then
    invalid("update_order_status: status " .. status .. " needs a reason_code (e.g. \"out_of_items\")")
  end
  if reason ~= nil and (type(reason) ~= "string" or #reason > 128 or reason:find("%c")) then
    invalid("update_order_status: reason_code must be a string of at most 128 printable characters")
  end
  return { status = status, reason_code = reason, occurred_at = util.check_time("occurred_at", fields.occurred_at) }
end

M.rows = {
  -- for order in assert(client:orders{ from, to, status, provider_id, branch_id, size }) do
  -- every order of [from, to) exactly once, newest first (klikit.http.time_cursor)
  { name = "orders", path = "/orders", pager = { style = "time_cursor", opts = function(params)
    local q, windows, p = M.filters("orders", params, { size = true, concurrency = true, fields = true })
    return walk_opts(q, windows, util.check_int("size", p.size, 1, 100) or 100,
      pager.check_concurrency(p.concurrency), field_list(p.fields))
  end } },
  { name = "count_orders", path = "/orders/count", call = count_orders },
  { name = "order", method = "GET", path = "/orders/{id}", id = "order id", shape = "object" },
  -- PATCH /orders/{id}/status: accepted | ready | picked_up | rejected | cancelled ->
  -- { id, status, updated_at }; rejected and cancelled need a reason_code
  { name = "update_order_status", method = "PATCH", path = "/orders/{id}/status", id = "order id",
    body = status_body, shape = "object" },
  { name = "order_types", method = "GET", path = "/orders/order-types", shape = "list" },
  { name = "fulfillment_statuses", method = "GET", path = "/orders/fulfillment-statuses", shape = "list" },
}

return M
