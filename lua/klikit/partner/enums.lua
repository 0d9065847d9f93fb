--- klikit's integer codes as data (reference §5). Unknown codes are not an error: orders
-- are returned untouched, and `enums.name(table, code)` gives nil for a code it lacks.
-- The status table follows the draft mapping, which the live evidence supports except for
-- the events page's "5 // READY" comment.
local M = {}

M.ORDER_STATUS = { [1] = "placed", [2] = "accepted", [3] = "cancelled", [4] = "ready",
  [5] = "delivered", [9] = "picked_up" }

--- Targets accepted by PATCH /orders/{id}/status.
M.STATUS_ALIASES = { accepted = true, ready = true, picked_up = true, rejected = true, cancelled = true }
--- Targets that need a reason_code.
M.NEEDS_REASON = { rejected = true, cancelled = true }

M.ORDER_TYPES = { [1] = "pickup", [2] = "delivery", [3] = "dinein" }

M.PROVIDERS = { [1] = "klikit", [2] = "uber_eats", [3] = "deliveroo", [6] = "grabfood",
  [7] = "foodpanda", [9] = "gofood", [11] = "shopeefood", [12] = "demaecan", [13] = "pickaroo",
  [14] = "wolt", [16] = "tiktok", [17] = "maxim" }

M.FULFILLMENT_STATUSES = { [1] = "DISPATCHING", [2] = "ALLOCATING", [3] = "PENDING_PICKUP",
  [4] = "PICKING_UP", [5] = "IN_DELIVERY", [6] = "COMPLETED", [7] = "RETURNED", [8] = "FAILED",
  [9] = "CANCELED", [10] = "IN_RETURN" }

--- The name of `code` in `tbl`, or nil when klikit sent a code this table does not know.
function M.name(tbl, code)
  return tbl[code]
end

--- The status code a read filter sends: a code of ORDER_STATUS, or its name (any case).
--- Anything else raises request_invalid: a filter klikit cannot match would silently
--- count or walk nothing.
function M.status_code(what, v)
  if type(v) == "number" and M.ORDER_STATUS[v] then return v end
  if type(v) == "string" then
    for code, name in pairs(M.ORDER_STATUS) do
      if name == v:lower() then return code end
    end
  end
  local known = {}
  for code, name in pairs(M.ORDER_STATUS) do known[#known + 1] = string.format("%d (%s)", code, name) end
  table.sort(known)
  require("klikit.errors").invalid(what .. ": status must be one of " .. table.concat(known, ", ") .. ", got "
    .. tostring(v))
end

return M
