--- Orders: walks over any date range, counts, single orders, status transitions, enums.
-- The walk itself (a time cursor, exactly once against any server the docs allow) is
-- klikit.cursor.
local client_mod = require "klikit.client"
local errors = require "klikit.errors"
local util = require "klikit.util"
local pager = require "klikit.pager"
local cursor = require "klikit.cursor"
local page = require "klikit.page"
local enums = require "klikit.enums"

local Client = client_mod.Client
local invalid = errors.invalid
local M = {}

M.WINDOW = cursor.WINDOW
M.windows = cursor.windows

local FILTERS = { from = true, to = true, status = true, provider_id = true, branch_id = true }

-- Validates the filters; returns query (without from/to), the windows, params.
local function check_filters(what, params, extra)
  local allowed = {}
  for k in pairs(FILTERS) do allowed[k] = true end
  for k in pairs(extra or {}) do allowed[k] = true end
  params = util.check_keys(what, params, allowed)
  local from_wire, from_t = util.check_time("from", params.from)
  local to_wire, to_t = util.check_time("to", params.to)
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
  return q, cursor.windows(from_t, to_t, os.time(), from_wire, to_wire), params
end
M.check_filters = check_filters

local function window_query(base, w)
  local q = {}
  for k, v in pairs(base) do q[k] = v end
  q.from = w.from_wire or (w.from and util.format_time(w.from))
  q.to = w.to_wire or (w.to and util.format_time(w.to))
  return q
end

--- for order in client:orders{ from, to, status, provider_id, branch_id, size } do
-- Walks every order of [from, to) exactly once, newest first, over any range length.
-- from/to: RFC 3339 strings or Unix seconds; from inclusive, to exclusive, on created_at.
function Client:orders(params)
  local walk, err = self:checked("GET", "/orders", function()
    local q, windows, p = check_filters("orders", params, { size = true })
    return cursor.new { client = self, path = "/orders", query = q, windows = windows,
      size = util.check_int("size", p.size, 1, 100) or 100 }
  end)
  return pager.new(self, "/orders", walk, err)
end

-- The total of one window: GET /orders/count, or data.total of a one-order page, or (a
-- server without totals) a walk of the window, counted.
local function count_window(self, q, w)
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
  local pg, err = page.fetch(self, "/orders", page_q, cursor.KEYS)
  if not pg then return nil, err end
  if pg.total then return pg.total end
  if pg.n == 0 then return 0 end
  local base = {}
  for k, v in pairs(q) do if k ~= "from" and k ~= "to" then base[k] = v end end
  local walk = pager.new(self, "/orders", cursor.new { client = self, path = "/orders", query = base,
    windows = { w }, size = 100 })
  local n = 0
  while true do
    local order, werr = walk:next()
    if werr then return nil, werr end
    if not order then return n end
    n = n + 1
  end
end

--- n, err = client:count_orders{ from, to, status, provider_id, branch_id }
-- Sums the 90-day windows of the range. GET /orders/count answers `data: {}` today; when it
-- does, each window is counted with GET /orders?size=1 (data.total), as klikit advises.
function Client:count_orders(params)
  local q, windows = self:checked("GET", "/orders/count", check_filters, "count_orders", params)
  if not q then return nil, windows end
  local sum = 0
  for _, w in ipairs(windows) do
    local n, err = count_window(self, window_query(q, w), w)
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
