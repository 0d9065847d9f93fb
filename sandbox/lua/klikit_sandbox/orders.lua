-- Sandbox orders: listing with filters and paging, the empty count, single orders, the
-- status state machine, and "arrivals" (orders created while a client walks).
local cjson = require "cjson.safe"
local json = require "klikit_sandbox.json"
local http = require "klikit_sandbox.http"
local data = require "klikit_sandbox.data"
local quirks = require "klikit_sandbox.quirks"
local churn = require "klikit_sandbox.churn"

local M = {}
local DAY = 86400
local ok, fail, invalid = http.ok, http.fail, http.invalid

local state = { records = {}, by_id = {} }

function M.init(opts)
  M.opts = opts
  state.records, state.rand = data.generate(opts)
  state.by_id = {}
  for _, r in ipairs(state.records) do state.by_id[r.id] = r end
  state.next_id = (state.records[1] and state.records[1].id or 71000000) + 1000
  churn.clear()
end

function M.size() return #state.records end

--- The records (newest first) and the map from id to record, for webhook deliveries.
function M.snapshot() return state.records, state.by_id end

--- Status changes applied per order id: { ["<id>"] = n } for orders changed at least once.
function M.transitions()
  local out = {}
  for id, r in pairs(state.by_id) do
    if r.transitions then out[tostring(id)] = r.transitions end
  end
  return out
end
function M.arrived() return churn.arrived() end

--- per_request new orders on every GET /orders; mode "top" (created now, newest) or
--- "inside" (created inside the requested window: late, backdated arrivals).
function M.set_arrivals(n, mode)
  churn.set { arrive = n or 0, mode = mode }
end

-- Inserts a record keeping created_at desc, id desc order.
function state.insert(r)
  local recs = state.records
  local i = 1
  while i <= #recs and (recs[i].created > r.created or (recs[i].created == r.created and recs[i].id > r.id)) do
    i = i + 1
  end
  table.insert(recs, i, r)
  state.by_id[r.id] = r
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
local function filter(args, any_span)
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
    if to - from > 90 * DAY and not any_span then
      return nil, "request_invalid_range", "date range exceeds the 90-day maximum"
    end
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

-- The page of a list endpoint as this server shapes it (see quirks.lua).
local function list_payload(rows, page, size, total)
  local q = quirks.get()
  if total == 0 and q.empty == "204" then return 204, "" end
  if total == 0 and q.empty == "object" then return "object" end
  if q.list_key == "bare" then return "list", rows end
  return "object", { [q.list_key] = rows, page = page, size = size, total = quirks.total(total) }
end

-- Records matching `keep`, in this server's order for this request.
local function matching(keep)
  local list = {}
  for _, r in ipairs(state.records) do
    if keep(r) then list[#list + 1] = r end
  end
  return quirks.sort(list)
end

function M.list(ctx)
  local q = quirks.get()
  local args = q.ignore_query and {} or ctx.args
  local keep, code, msg = filter(args)
  if not keep then return fail(ctx.rid, 400, code, msg) end
  local page, err = int_arg(args, "page", 1, nil, 1)
  if not page then return invalid(ctx.rid, err) end
  local asked
  asked, err = int_arg(args, "size", 1, 100, 20)
  if not asked then return invalid(ctx.rid, err) end
  local window = code -- on success filter() returns keep, window
  churn.apply(state, window.from, window.to, ngx.now())
  local list = matching(keep)
  local first, last, size = quirks.slice(page, asked, #list)
  local rows = json.array()
  for i = first, math.min(last, #list) do
    rows[#rows + 1] = quirks.present(data.order(list[i]), list[i])
  end
  local kind, payload = list_payload(rows, page, quirks.echo(size, asked), #list)
  if kind == 204 then return 204, "" end
  if kind == "object" and payload == nil then return ok(ctx.rid, {}) end
  return ok(ctx.rid, payload)
end

--- The orders matching a filter right now, in true order (for specs): { ids, created, status }.
function M.audit(args)
  local keep, code, msg = filter(args, true)
  if not keep then return nil, code .. ": " .. msg end
  local out = { ids = json.array(), created = json.array(), status = json.array() }
  for _, r in ipairs(state.records) do
    if keep(r) then
      out.ids[#out.ids + 1] = r.id
      out.created[#out.created + 1] = r.created
      out.status[#out.status + 1] = r.status
    end
  end
  return out
end

function M.count(ctx)
  local keep, code, msg = filter(ctx.args)
  if not keep then return fail(ctx.rid, 400, code, msg) end
  return ok(ctx.rid, {}) -- as the real endpoint does today
end

function M.get(ctx)
  local r = ctx.id:find("^%d+$") and state.by_id[tonumber(ctx.id)]
  if not r then return fail(ctx.rid, 404, "resource_not_found", "order not found") end
  return ok(ctx.rid, quirks.present(data.order(r), r))
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
