-- Changes that happen to the orders while a client walks them: on every GET /orders,
-- before it is answered, `arrive` new orders are created ("top": now; "inside": at a
-- random second of the requested window), `status` orders of that window change status
-- and `delete` orders of it disappear. Every order touched is remembered, so a spec can
-- tell the orders that stayed put during a walk (which it must yield exactly once) from
-- those that changed (at most once).
--
--   POST /_sandbox/churn { arrive = n, mode = "top"|"inside", status = n, delete = n, seed = s,
--                          limit = most changes in all (default: no limit),
--                          from, to = the range changes fall in (default: each request's) }
--   GET  /_sandbox/churn  -> { touched = [ids], arrived = n, changed = n, deleted = n }
local data = require "klikit_sandbox.data"

local M = {}

local cfg = { arrive = 0, mode = "top", status = 0, delete = 0 }
local touched, counts = {}, { arrived = 0, changed = 0, deleted = 0 }
local rand = data.prng(1)

function M.set(spec)
  cfg = { arrive = tonumber(spec.arrive) or 0, mode = spec.mode == "inside" and "inside" or "top",
    status = tonumber(spec.status) or 0, delete = tonumber(spec.delete) or 0, limit = tonumber(spec.limit),
    from = data.parse_time(spec.from), to = data.parse_time(spec.to) }
  if spec.seed then rand = data.prng(tonumber(spec.seed)) end
end

function M.clear()
  M.set {}
  touched, counts = {}, { arrived = 0, changed = 0, deleted = 0 }
end

function M.report()
  local ids = {}
  for id in pairs(touched) do ids[#ids + 1] = id end
  table.sort(ids)
  return { touched = ids, arrived = counts.arrived, changed = counts.changed, deleted = counts.deleted }
end

function M.arrived() return counts.arrived end

-- Records of `st` whose creation time lies in [from, to) (either bound may be nil).
local function in_window(st, from, to)
  local list = {}
  for i, r in ipairs(st.records) do
    if (not from or r.created >= from) and (not to or r.created < to) then list[#list + 1] = i end
  end
  return list
end

local STATUSES = { 1, 2, 3, 4, 5, 9 }

--- Applies one request's worth of changes to the orders state `st` (records newest
--- first, by_id, next_id, insert = function(record)).
function M.apply(st, from, to, now)
  if cfg.limit and counts.arrived + counts.changed + counts.deleted >= cfg.limit then return end
  if cfg.from and cfg.to then from, to = cfg.from, cfg.to end
  for _ = 1, cfg.arrive do
    local created
    if cfg.mode == "inside" and from and to and to > from then
      created = math.floor(from) + rand(math.max(1, math.floor(to - from))) - 1
      if created < from then created = math.ceil(from) end
    else
      created = math.max(math.floor(now), math.floor(st.records[1] and st.records[1].created or now) + 1)
    end
    st.next_id = st.next_id + 1
    counts.arrived = counts.arrived + 1
    touched[st.next_id] = true
    st.insert(data.make_record(rand, #st.records + 1, st.next_id, created, 1))
  end
  for _ = 1, cfg.status do
    local pool = in_window(st, from, to)
    if #pool == 0 then break end
    local r = st.records[pool[rand(#pool)]]
    local new = STATUSES[rand(#STATUSES)]
    if new == r.status then new = STATUSES[(rand(#STATUSES - 1) + new) % #STATUSES + 1] end
    r.status = new
    r.updated = now + counts.changed / 1000 -- distinct, increasing: the "updated" tie order moves
    r.history[#r.history + 1] = { status = new, at = now }
    counts.changed = counts.changed + 1
    touched[r.id] = true
  end
  for _ = 1, cfg.delete do
    local pool = in_window(st, from, to)
    if #pool == 0 then break end
    local i = pool[rand(#pool)]
    local r = table.remove(st.records, i)
    st.by_id[r.id] = nil
    counts.deleted = counts.deleted + 1
    touched[r.id] = true
  end
end

return M
