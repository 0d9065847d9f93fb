--- A time_cursor walk as a plain table and back: what client:orders{ resume = state }
-- continues from, what a checkpoint file can hold (numbers, strings, booleans, lists).
--
-- A span in progress is saved as its bounds and every id yielded in it: the resumed walk
-- starts that span's passes afresh and skips those ids, so nothing is yielded twice and
-- nothing in the span is missed.
local errors = require("klikit.errors")

local M = {}

local function list(...)
  local out = {}
  for i = 1, select("#", ...) do
    local set = select(i, ...)
    if set then
      for id in pairs(set) do out[#out + 1] = id end
    end
  end
  return out
end

--- { id = true } from a list of ids.
function M.set(ids)
  local out = {}
  for _, id in ipairs(ids or {}) do out[id] = true end
  return out
end

-- { id, time, id, time, ... }: the rows that may come back, with their printed times.
local function recent(map)
  local out = {}
  for id, t in pairs(map or {}) do out[#out + 1], out[#out + 2] = id, t end
  return out
end

function M.capture(walk)
  local windows = {}
  for i = walk.wi, #walk.windows do
    local w = walk.windows[i]
    windows[#windows + 1] = { from = w.from, to = w.to, from_wire = w.from_wire, to_wire = w.to_wire }
  end
  local span = walk.span and { lo = walk.span_lo, probe = walk.probe or nil,
    skip = list(walk.span.union, walk.span.skip) }
  return {
    style = "time_cursor", query = walk.query, keys = walk.keys, field = walk.field, range = walk.range,
    fields = walk.fields,
    size = walk.ctx.size, span_size = walk.span_ctx.size, windows = windows,
    upper = walk.upper, upper_wire = walk.upper_wire, recent = recent(walk.recent), unparsed = list(walk.unparsed),
    learned = { walk.ctx.s_eff, walk.ctx.most, walk.span_ctx.s_eff, walk.span_ctx.most }, span = span,
  }
end

local function valid(state)
  local function optional(v, kind) return v == nil or type(v) == kind end
  if type(state.query) ~= "table" or type(state.keys) ~= "table" or type(state.field) ~= "string"
    or type(state.range) ~= "table" or type(state.size) ~= "number" or type(state.span_size) ~= "number"
    or type(state.windows) ~= "table" or type(state.recent) ~= "table" or type(state.unparsed) ~= "table"
    or not optional(state.upper, "number") or not optional(state.upper_wire, "string")
    or not optional(state.learned, "table") or not optional(state.span, "table")
    or not optional(state.fields, "table") then
    return false
  end
  for _, w in ipairs(state.windows) do
    if type(w) ~= "table" or not optional(w.from, "number") or not optional(w.to, "number")
      or not optional(w.from_wire, "string") or not optional(w.to_wire, "string") then
      return false
    end
  end
  for k, v in pairs(state.query) do
    if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean") then
      return false
    end
  end
  return state.span == nil or (optional(state.span.lo, "number") and type(state.span.skip) == "table")
end

--- The options to rebuild the walk with; raises request_invalid on a malformed state.
function M.options(state)
  if not valid(state) then errors.invalid("resume: not a time_cursor pager state") end
  return { query = state.query, keys = state.keys, field = state.field, range = state.range, size = state.size,
    span_size = state.span_size, windows = state.windows, fields = state.fields }
end

--- Puts the saved cursor into a walk made from M.options(state).
function M.restore(walk, state)
  if walk.window then
    walk.upper, walk.upper_wire = state.upper, state.upper_wire
    walk.unparsed = M.set(state.unparsed)
    walk.recent = {}
    for i = 1, #state.recent - 1, 2 do
      local id, t = state.recent[i], tonumber(state.recent[i + 1])
      if (type(id) == "string" or type(id) == "number") and t then walk.recent[tostring(id)] = t end
    end
  end
  local learned = state.learned or {}
  walk.ctx.s_eff = tonumber(learned[1]) or walk.ctx.s_eff
  walk.ctx.most = tonumber(learned[2]) or walk.ctx.most
  walk.span_ctx.s_eff = tonumber(learned[3]) or walk.span_ctx.s_eff
  walk.span_ctx.most = tonumber(learned[4]) or walk.span_ctx.most
  if not walk.window then walk.span_lo = false end
end

return M
