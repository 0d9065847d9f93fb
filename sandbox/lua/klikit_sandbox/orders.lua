-- Sandbox orders: listing with filters and paging, the empty count, single orders, the
-- status state machine, and "arrivals" (orders created while a client walks).
local cjson = require "cjson.safe"
local json = require "klikit_sandbox.json"
local http = require "klikit_sandbox.http"
local data = require "klikit_sandbox.data"

local M = {}
local DAY = 86400
local ok, fail, invalid = http.ok, http.fail, http.invalid

local state = { records = {}, by_id = {}, arrivals = 0, mode = "top", arrived = 0 }

function M.init(opts)
  M.opts = opts
  state.records, state.rand = data.generate(opts)
  state.by_id = {}
  for _, r in ipairs(state.records) do state.by_id[r.id] = r end
  state.next_id = state.records[1].id + 1000
  state.arrived = 0
end

function M.size() return #state.records end

--- Status changes applied per order id: { ["<id>"] = n } for orders changed at least once.
function M.transitions()
  local out = {}
  for id, r in pairs(state.by_id) do
    if r.transitions then out[tostring(id)] = r.transitions end
  end
  return out
end
function M.arrived() return state.arrived end

--- per_request new orders on every GET /orders; mode "top" (created now, newest) or
--- "inside" (created inside the requested window: late, backdated arrivals).
function M.set_arrivals(n, mode)
  state.arrivals, state.mode = n or 0, mode or "top"
end

-- Inserts a record keeping created_at desc, id desc order.
local function insert(r)
  local recs = state.records
  local i = 1
  while i <= #recs and (recs[i].created > r.created or (recs[i].created == r.created and recs[i].id > r.id)) do
    i = i + 1
  end
  table.insert(recs, i, r)
  state.by_id[r.id] = r
end

local function arrive(from, to)
  for _ = 1, state.arrivals do
    local created
    if state.mode == "inside" and from and to and to > from then
      created = from + state.rand(to - from) - 1
    else
      created = math.max(ngx.time(), state.records[1].created + 1)
    end
    state.next_id = state.next_id + 1
    state.arrived = state.arrived + 1
    insert(data.make_record(state.rand, #state.records + 1, state.next_id, created, 1))
  end
end

local function int_arg(args, name, lo, hi, default)
  local v = args[name]
  if v == nil then return default end
  local n = tonumber(v)
  if not v:find("^%d+$") or not n or n < lo or (hi and n > hi) then
    return nil, string.format("%s must be an integer in %d..%s", name, lo, hi and tostring(hi) or "")
  end
  return n
end
M.int_arg = int_arg

-- Parses the filters; returns keep(record), { from, to } or nil, code, message.
local function filter(args)
  local from, to
  if args.from then
    from = data.parse_time(args.from)
    if not from then return nil, "request_invalid", "from must be an RFC 3339 date-time" end
  end
  if args.to then
    to = data.parse_time(args.to)
    if not to then return nil, "request_invalid", "to must be an RFC 3339 date-time" end
  end
  if from and to then
    if to < from then return nil, "request_invalid", "to is earlier than from" end
    if to - from > 90 * DAY then return nil, "request_invalid_range", "date range exceeds the 90-day maximum" end
  end
  local provider, err = int_arg(args, "provider_id", 1)
  if err then return nil, "request_invalid", err end
  local branch
  branch, err = int_arg(args, "branch_id", 1)
  if err then return nil, "request_invalid", err end
  local status = args.status
  return function(r)
    return (not from or r.created >= from) and (not to or r.created < to)
      and (not status or tostring(r.status) == status)
      and (not provider or r.provider_id == provider) and (not branch or r.branch.id == branch)
  end, { from = from, to = to }
end

function M.list(ctx)
  local keep, code, msg = filter(ctx.args)
  if not keep then return fail(ctx.rid, 400, code, msg) end
  local page, err = int_arg(ctx.args, "page", 1, nil, 1)
  if not page then return invalid(ctx.rid, err) end
  local size
  size, err = int_arg(ctx.args, "size", 1, 100, 20)
  if not size then return invalid(ctx.rid, err) end
  local window = code -- on success filter() returns keep, window
  arrive(window.from, window.to)
  local first, last = (page - 1) * size + 1, page * size
  local list, total = json.array(), 0
  for _, r in ipairs(state.records) do
    if keep(r) then
      total = total + 1
      if total >= first and total <= last then list[#list + 1] = data.order(r) end
    end
  end
  return ok(ctx.rid, { orders = list, page = page, size = size, total = total })
end

function M.count(ctx)
  local keep, code, msg = filter(ctx.args)
  if not keep then return fail(ctx.rid, 400, code, msg) end
  return ok(ctx.rid, {}) -- as the real endpoint does today
end

function M.get(ctx)
  local r = ctx.id:find("^%d+$") and state.by_id[tonumber(ctx.id)]
  if not r then return fail(ctx.rid, 404, "resource_not_found", "order not found") end
  return ok(ctx.rid, data.order(r))
end

function M.order_types(ctx) return ok(ctx.rid, data.ORDER_TYPES) end
function M.fulfillment_statuses(ctx) return ok(ctx.rid, data.FULFILLMENT_STATUSES) end

-- alias -> { new status code, allowed from = { codes } }  (the draft's graph; rejected is
-- a cancel of a placed order by the merchant)
local TRANSITIONS = {
  accepted = { 2, { [1] = true } },
  ready = { 4, { [2] = true } },
  picked_up = { 9, { [4] = true } },
  rejected = { 3, { [1] = true } },
  cancelled = { 3, { [1] = true, [2] = true, [4] = true } },
}
local NAMES = { [1] = "placed", [2] = "accepted", [3] = "cancelled", [4] = "ready", [5] = "delivered",
  [9] = "picked_up" }

function M.transition(ctx)
  local r = state.by_id[tonumber(ctx.id)]
  if not r then return fail(ctx.rid, 404, "resource_not_found", "order not found") end
  local body, f1, f2 = http.json_body(ctx.rid, ctx.body)
  if not body then return f1, f2 end
  local rule = TRANSITIONS[body.status]
  if not rule then
    return invalid(ctx.rid, "status must be one of accepted, ready, picked_up, rejected, cancelled")
  end
  if (body.status == "rejected" or body.status == "cancelled")
    and (type(body.reason_code) ~= "string" or body.reason_code == "") then
    return invalid(ctx.rid, "reason_code is required for " .. body.status)
  end
  local at = ctx.now
  if body.occurred_at ~= nil and body.occurred_at ~= cjson.null then
    at = data.parse_time(body.occurred_at)
    if not at then return invalid(ctx.rid, "occurred_at must be an RFC 3339 date-time") end
  end
  if not rule[2][r.status] or (body.status == "picked_up" and r.type == 2) then
    return fail(ctx.rid, 409, "state_invalid_transition", string.format("cannot move order %d from %s to %s",
      r.id, NAMES[r.status] or tostring(r.status), body.status))
  end
  r.status = rule[1]
  r.history[#r.history + 1] = { status = rule[1], at = at }
  r.transitions = (r.transitions or 0) + 1
  if rule[1] == 3 then
    r.cancellation_reason, r.cancelled_by = body.reason_code, body.status == "rejected" and 1 or 2
  end
  return ok(ctx.rid, { id = tostring(r.id), status = body.status, updated_at = data.format_time(at) })
end

return M
