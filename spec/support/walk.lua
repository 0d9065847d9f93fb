-- Helpers for walk specs: run a walk, take the sandbox's truth, and check exactly-once.
local sandbox = require "support.sandbox"

local M = {}

-- WALK_CONCURRENCY=K: every walk of the walk specs runs as a parallel walk of K slices.
local concurrency = tonumber(os.getenv("WALK_CONCURRENCY") or "")

--- Walks client:orders(params) to the end or the first error: ids, err, pager, orders.
function M.run(client, params)
  if concurrency and type(params) == "table" then
    local p = { concurrency = concurrency }
    for k, v in pairs(params) do p[k] = v end
    params = p
  end
  local pager = client:orders(params)
  local ids, orders = {}, {}
  while true do
    local order, err = pager:next()
    if err then return ids, err, pager, orders end
    if not order then return ids, nil, pager, orders end
    ids[#ids + 1] = order.id
    orders[#orders + 1] = order
  end
end

--- Checks a walk against the truth: no id twice; every id of `want` that churn did not
--- touch is there; every id yielded was wanted or touched. Returns nil or a message.
-- Ids as keys: a number and its digits name one order (servers may send either).
local function key(id)
  if type(id) == "number" then return string.format("%d", id) end
  return id
end

function M.exactly_once(got, want, touched)
  local seen, wanted, changed = {}, {}, {}
  for _, id in ipairs(want) do wanted[key(id)] = true end
  for _, id in ipairs(touched or {}) do changed[key(id)] = true end
  for _, raw in ipairs(got) do
    local id = key(raw)
    if seen[id] then return "order " .. tostring(id) .. " yielded twice" end
    seen[id] = true
    if not wanted[id] and not changed[id] then return "order " .. tostring(id) .. " was never in the range" end
  end
  local missing = {}
  for _, raw in ipairs(want) do
    local id = key(raw)
    if not seen[id] and not changed[id] then missing[#missing + 1] = id end
  end
  if #missing > 0 then
    return string.format("%d of %d orders missing (e.g. %s)", #missing, #want, table.concat(missing, ", ", 1,
      math.min(5, #missing)))
  end
  return nil
end

--- The sandbox's orders for a walk filter (from/to/status/provider_id/branch_id).
function M.truth(params)
  local f = {}
  for k, v in pairs(params) do
    if k ~= "size" then
      if (k == "from" or k == "to") and type(v) == "number" then v = require("klikit.util").format_time(v) end
      f[k] = v
    end
  end
  return sandbox.truth(f).ids
end

--- Requests the sandbox received for GET /orders since the last reset.
function M.order_requests()
  local n = 0
  for _, r in ipairs(sandbox.requests()) do
    if r.path == "/orders" then n = n + 1 end
  end
  return n
end

return M
