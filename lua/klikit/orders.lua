--- Orders: walks over any date range, counts, single orders, status transitions, enums.
--
-- A walk splits [from, to) into windows of at most 90 days (klikit rejects longer ones)
-- and walks them newest first. Inside a window it does not page by number: klikit lists
-- newest first, so an order created mid-walk would shift every later page. Instead each
-- request asks for page 1 of [from, cursor) where cursor = last created_at seen + 1 s,
-- and the few orders of that boundary second already yielded are skipped by id. Orders
-- that arrive during the walk are then never seen twice, and none that existed at the
-- start is skipped, whatever the clocks say.
local client_mod = require "klikit.client"
local errors = require "klikit.errors"
local util = require "klikit.util"
local pager = require "klikit.pager"
local enums = require "klikit.enums"

local Client = client_mod.Client
local invalid = errors.invalid
local M = {}

M.WINDOW = 90 * 86400 -- klikit's maximum from/to span

local FILTERS = { from = true, to = true, status = true, provider_id = true, branch_id = true }

-- Validates the filters; returns query (without from/to), from_t, to_t (epoch or nil).
local function check_filters(what, params, extra)
  local allowed = {}
  for k in pairs(FILTERS) do allowed[k] = true end
  for k in pairs(extra or {}) do allowed[k] = true end
  params = util.check_keys(what, params, allowed)
  local _, from_t = util.check_time("from", params.from)
  local _, to_t = util.check_time("to", params.to)
  if from_t and to_t and to_t < from_t then invalid(what .. ": to is earlier than from") end
  if params.status ~= nil and not (util.is_integer(params.status) and params.status >= 0)
    and type(params.status) ~= "string" then
    invalid(what .. ": status must be a status code (integer) or a string")
  end
  local q = {
    status = params.status,
    provider_id = util.check_int("provider_id", params.provider_id, 1),
    branch_id = util.check_int("branch_id", params.branch_id, 1),
  }
  return q, from_t, to_t, params
end
M.check_filters = check_filters

--- Splits [from, to) into windows of at most 90 days, newest first. With from and no
-- to, to is `now`. Without from there is one open window.
function M.windows(from_t, to_t, now)
  if not from_t then return { { from = nil, to = to_t } } end
  to_t = to_t or now
  local list = {}
  local hi = to_t
  repeat
    local lo = math.max(from_t, hi - M.WINDOW)
    list[#list + 1] = { from = lo, to = hi }
    hi = lo
  until hi <= from_t
  return list
end

local function window_query(base, w, to)
  local q = {}
  for k, v in pairs(base) do q[k] = v end
  q.from = w.from and util.format_time(w.from)
  q.to = to and util.format_time(to)
  return q
end

local function second_of(order)
  local t = type(order) == "table" and util.parse_time(order.created_at)
  return t and math.floor(t)
end

-- Pager fetch for orders: one request per call, moving the cursor as described above.
local function fetch_orders(p)
  local st = p.state
  while true do
    local w = st.windows[st.window]
    if not w then
      p.items, p.done = {}, true
      return true
    end
    local to = st.cursor or w.to
    local q = window_query(st.query, w, to)
    q.page, q.size = st.page, st.size
    local data, err, meta = p.client:request("GET", "/orders", { query = q })
    if err then return nil, err end
    if type(data) ~= "table" or (data.orders ~= nil and type(data.orders) ~= "table")
      or (data.orders == nil and data.total == nil) then
      return nil, errors.new { code = "decode_failed", status = meta.status, request_id = meta.request_id,
        method = "GET", path = "/orders", message = "GET /orders answered without a data.orders list" }
    end
    local raw = data.orders or {}
    p.pages = p.pages + 1
    p.last_request_id = meta.request_id
    local fresh = {}
    for _, order in ipairs(raw) do
      local id = type(order) == "table" and order.id
      if id == nil or not st.seen[id] then fresh[#fresh + 1] = order end
    end
    local total = tonumber(data.total)
    local last = raw[#raw]
    local last_second = second_of(last)
    if #raw == 0 or (total and (st.page - 1) * st.size + #raw >= total) then
      st.window, st.cursor, st.page, st.seen = st.window + 1, nil, 1, {}
    elseif last_second and (to == nil or last_second + 1 < to) then
      -- move the cursor; remember the orders of the boundary second
      local seen = {}
      for _, order in ipairs(raw) do
        if second_of(order) == last_second and order.id ~= nil then seen[order.id] = true end
      end
      st.cursor, st.page, st.seen = last_second + 1, 1, seen
    else
      -- a full page inside one second (or no usable created_at): page on, deduping by id
      for _, order in ipairs(raw) do
        if type(order) == "table" and order.id ~= nil then st.seen[order.id] = true end
      end
      st.page = st.page + 1
    end
    if #fresh > 0 then
      p.items = fresh
      return true
    end
  end
end

--- for order in client:orders{ from, to, status, provider_id, branch_id, size } do
-- Walks every order of [from, to) exactly once, newest first, over any range length.
-- from/to: RFC 3339 strings or Unix seconds; from inclusive, to exclusive, on created_at.
function Client:orders(params)
  local state, err = self:checked("GET", "/orders", function()
    local q, from_t, to_t, p = check_filters("orders", params, { size = true })
    return { query = q, size = util.check_int("size", p.size, 1, 100) or 100, page = 1, seen = {},
      window = 1, windows = M.windows(from_t, to_t, os.time()) }
  end)
  if not state then return pager.new(self, { path = "/orders", error = err }) end
  return pager.new(self, { path = "/orders", fetch = fetch_orders, state = state })
end

-- The total of one window: GET /orders/count, or data.total of a one-order page.
local function count_window(self, q)
  if not self.count_endpoint_empty then
    local data, err = self:request("GET", "/orders/count", { query = q })
    if err then return nil, err end
    local n = type(data) == "number" and data
      or (type(data) == "table" and (tonumber(data.count) or tonumber(data.total)))
    if n then return n end
    self.count_endpoint_empty = true -- answers {} today: skip it for the rest of this client
  end
  local page_q = {}
  for k, v in pairs(q) do page_q[k] = v end
  page_q.page, page_q.size = 1, 1
  local page, err, meta = self:request("GET", "/orders", { query = page_q })
  if err then return nil, err end
  if type(page) ~= "table" or not util.is_integer(page.total) then
    return nil, self:fail(errors.new { code = "decode_failed", status = meta.status, request_id = meta.request_id,
      message = "GET /orders?size=1 returned no integer data.total to count with" }, "GET", "/orders")
  end
  return page.total
end

--- n, err = client:count_orders{ from, to, status, provider_id, branch_id }
-- Sums the 90-day windows of the range. GET /orders/count answers `data: {}` today; when it
-- does, each window is counted with GET /orders?size=1 (data.total), as klikit advises.
function Client:count_orders(params)
  local q, from_t, to_t = self:checked("GET", "/orders/count", check_filters, "count_orders", params)
  if not q then return nil, from_t end
  local sum = 0
  for _, w in ipairs(M.windows(from_t, to_t, os.time())) do
    local n, err = count_window(self, window_query(q, w, w.to))
    if not n then return nil, err end
    sum = sum + n
  end
  return sum
end

--- order, err = client:order(id)   -- GET /orders/{id}
function Client:order(id)
  local seg, err = self:checked("GET", "/orders/{id}", util.path_id, "order id", id)
  if not seg then return nil, err end
  local data, err2, meta = self:request("GET", "/orders/" .. seg)
  if err2 then return nil, err2 end
  if type(data) ~= "table" then
    return nil, self:fail(errors.new { code = "decode_failed", status = meta.status,
      request_id = meta.request_id, message = "GET /orders/" .. seg .. " returned no order object" },
      "GET", "/orders/" .. seg)
  end
  return data
end

--- data, err = client:update_order_status(id, { status, reason_code, occurred_at },
---                                         { idempotency_key = ... })
-- PATCH /orders/{id}/status. status: accepted | ready | picked_up | rejected | cancelled;
-- rejected and cancelled need a reason_code. Returns { id, status, updated_at }.
client_mod.define_write("update_order_status", {
  method = "PATCH", path = "/orders/{id}/status", id = "order id",
  body = function(fields)
    fields = util.check_keys("update_order_status", fields, { status = true, reason_code = true, occurred_at = true })
    local status = fields.status
    if not enums.STATUS_ALIASES[status] then
      invalid("update_order_status: status must be one of accepted, ready, picked_up, rejected, cancelled, got "
        .. tostring(status))
    end
    local reason = fields.reason_code
    if enums.NEEDS_REASON[status] then
      if type(reason) ~= "string" or reason == "" then
        invalid("update_order_status: status " .. status .. " needs a reason_code (e.g. \"out_of_items\")")
      end
    end
    if reason ~= nil and (type(reason) ~= "string" or #reason > 128 or reason:find("%c")) then
      invalid("update_order_status: reason_code must be a string of at most 128 printable characters")
    end
    local occurred = util.check_time("occurred_at", fields.occurred_at)
    return { status = status, reason_code = reason, occurred_at = occurred }
  end,
})

--- list, err = client:order_types()           -- GET /orders/order-types
client_mod.define_read("order_types", "/orders/order-types")
--- list, err = client:fulfillment_statuses()  -- GET /orders/fulfillment-statuses
client_mod.define_read("fulfillment_statuses", "/orders/fulfillment-statuses")

return M
