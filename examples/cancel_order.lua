-- Cancel an order with a reason code (PATCH /orders/{id}/status).
--
--   KLIKIT_PARTNER_KEY=... KLIKIT_SECRET_KEY=... [KLIKIT_BASE_URL=...] \
--   lua5.4 examples/cancel_order.lua ORDER_ID [REASON_CODE]
--
-- klikit publishes no catalogue of reason codes; "out_of_items" (the default here) is the one
-- its examples use. Writes take status names (accepted, ready, picked_up, rejected,
-- cancelled); reads give integers (klikit.enums.ORDER_STATUS). The client sends a fresh
-- Idempotency-Key and resends the same bytes under it when it retries, so a lost answer never
-- cancels twice; running the script again is a new request: for an order already cancelled
-- klikit answers state_invalid_transition.
-- Exit status: 0 cancelled, 3 not cancellable now (state_invalid_transition), 1 other errors.
local klikit = require "klikit"

local id, reason = arg[1], arg[2] or "out_of_items"
if not id then
  io.stderr:write("usage: cancel_order.lua ORDER_ID [REASON_CODE]\n")
  os.exit(2)
end

local client = klikit.new {} -- KLIKIT_PARTNER_KEY, KLIKIT_SECRET_KEY, KLIKIT_BASE_URL
local changed, err = client:update_order_status(id, { status = "cancelled", reason_code = reason })
if not changed then
  if err.code == "state_invalid_transition" then
    print(string.format("order %s cannot be cancelled now: %s", id, err.message))
    os.exit(3)
  end
  io.stderr:write("cancel failed: ", tostring(err), "\n")
  os.exit(1)
end
print(string.format("order %s cancelled (reason %s): status %s at %s", tostring(changed.id), reason,
  tostring(changed.status), tostring(changed.updated_at)))
