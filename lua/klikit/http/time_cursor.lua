--- The time_cursor pager style: every row of [from, to) exactly once, newest first, while
-- rows arrive, change and disappear, against any server klikit's docs allow. Written for
-- GET /orders; the time field, range parameters, list keys and window are options.
--
-- klikit lists orders newest first and filters them on created_at ([from, to), at most
-- 90 days). Page numbers would shift under new orders, so the walk moves a time cursor
-- instead. Each request asks for page 1 of [from, upper):
--   * a short page (fewer rows than the page size the server says it used, and no total
--     saying there are more) ends the window;
--   * a full page covers every second after its oldest readable created_at S, so upper
--     becomes S + 1. The +1, and the memory of every row yielded whose printed time lies
--     within a second of the cursor (and of every row whose time could not be read),
--     absorb the orders of second S already yielded and times printed rounded;
--   * when the cursor cannot move (a full page inside one second, or a page without one
--     readable created_at), that span [S, upper) -- or the whole rest of the window -- is
--     walked alone by page number until the server's answers prove it complete (see
--     klikit.http.passes), then upper drops below it.
-- Every page is checked: rows newest first, none above the cursor or below `from` (1 s
-- of slack for rounding). A server that breaks these fails the walk with a named code;
-- the walk never ends "complete" after skipping anything.
local page_mod = require("klikit.http.page")
local passes = require("klikit.http.passes")
local saved = require("klikit.http.cursor_state")
local util = require("klikit.util")

local M = {}
M.WINDOW = 90 * 86400 -- klikit's maximum from/to span
M.SLACK = 1           -- seconds a printed created_at may lie outside the range asked for

--- Splits [from, to) into windows of at most 90 days, newest first. Bounds are numbers
-- (Unix seconds); the caller's own wire strings are kept for the outer bounds. With
-- from and no to, to is `now`. Without from there is one open window.
function M.windows(from_t, to_t, now, from_wire, to_wire)
  if not from_t then return { { from = nil, to = to_t, to_wire = to_wire } } end
  if not to_t then to_t, to_wire = now, nil end
  local list = {}
  local hi, hi_wire = to_t, to_wire
  repeat
    local lo = math.max(from_t, hi - M.WINDOW)
    list[#list + 1] = { from = lo, to = hi, to_wire = hi_wire, from_wire = lo == from_t and from_wire or nil }
    hi, hi_wire = lo, nil
  until hi <= from_t
  return list
end

local function wire(t, given)
  if given then return given end
  return t and util.format_time(t)
end

local Walk = {}
Walk.__index = Walk

--- opts: query (filters, without the range), size, windows (from M.windows), keys (list
--- keys), field (the time field), range ({ from param, to param }), span_size (the
--- largest page the server allows), fields (a projection: klikit.http.fields).
function M.new(session, path, opts)
  local self = setmetatable({ session = session, path = path, query = opts.query, windows = opts.windows,
    keys = opts.keys, field = opts.field, range = opts.range, fields = opts.fields,
    projection = opts.fields and require("klikit.http.fields").compile(opts.fields, { "id", opts.field }) }, Walk)
  self.tally = { requests = 0 }
  self.ctx = { size = opts.size, s_eff = opts.size, most = 0, tally = self.tally }
  -- spans page with the largest size the server allows: the fewer pages, the fewer chances
  -- for rows to shift between them (a busy second of up to 100 orders is one request)
  self.span_ctx = { size = opts.span_size, s_eff = opts.span_size, most = 0, tally = self.tally }
  self.wi = 0
  self:next_window()
  return self
end

--- A plain table to resume from (see klikit.http.cursor_state).
function Walk:state() return saved.capture(self) end

--- Rebuilds a time_cursor walk from state(); raises request_invalid on a malformed one.
function M.resume(session, path, state)
  local opts = saved.options(state)
  local self = M.new(session, path, opts)
  saved.restore(self, state)
  if self.span_lo ~= false and state.span then
    self:start_span(state.span.lo, saved.set(state.span.skip), nil, state.span.probe)
  end
  return self
end

function Walk:next_window()
  self.wi = self.wi + 1
  local w = self.windows[self.wi]
  self.window = w
  self.upper, self.upper_wire = w and w.to, w and w.to_wire
  self.recent, self.unparsed, self.span = {}, {}, nil
end

function Walk:error(code, pg, message, details)
  return self.session:fail(page_mod.walk_error(code, self.path, pg.meta, message, details), "GET", self.path)
end

-- Reads every row's created_at (false when absent or unreadable) and checks the invariants
-- for a page of [lo, hi): newest first, nothing outside the range.
-- -> times, oldest readable time (or nil) | nil, err
function Walk:check(pg, lo, hi)
  local times, oldest = {}, nil
  for i = 1, pg.n do
    local stamp = pg.rows[i][self.field]
    local t = util.parse_time(stamp)
    times[i] = t or false
    if t then
      -- newer than a row above it by a second or more (rounding may blur less)
      if oldest and t >= oldest + M.SLACK then
        return nil, self:error("walk_unsorted", pg, string.format("the server listed row %s (%s %s) after an "
          .. "older one: rows must come newest first", tostring(pg.ids[i]), self.field, stamp),
          { id = pg.ids[i], [self.field] = stamp })
      end
      if (hi and t >= hi + M.SLACK) or (lo and t < lo - M.SLACK) then
        return nil, self:error("walk_out_of_range", pg, string.format("row %s (%s %s) lies outside the range "
          .. "asked for [%s, %s): the server ignored it", tostring(pg.ids[i]), self.field, stamp,
          wire(lo) or "-", wire(hi) or "-"), { id = pg.ids[i], [self.field] = stamp })
      end
      if not oldest or t < oldest then oldest = t end
    end
  end
  return times, oldest
end

-- Starts walking [lo, upper) by page number (lo nil: the rest of the window). A probe
-- (the rest of a window whose page had no readable created_at) stops at the first page
-- of its first pass that has one, T: a span [T - 1, upper) replaces it (see span_step).
function Walk:start_span(lo, skip, pg, probe)
  local w = self.window
  local q = {}
  for k, v in pairs(self.query) do q[k] = v end
  local from, to = self.range[1], self.range[2]
  q[from] = lo and wire(lo, lo == w.from and w.from_wire or nil)
  q[to] = wire(self.upper, self.upper_wire)
  local upper, span = self.upper, nil
  span = passes.new {
    session = self.session, path = self.path, query = q, keys = self.keys, ctx = self.span_ctx, skip = skip,
    projection = self.projection,
    what = "rows in [" .. (q[from] or "-") .. ", " .. (q[to] or "-") .. ")",
    check = function(p)
      local times, x = self:check(p, lo, upper)
      if not times then return x end
      for i = 1, p.n do self.span_times[p.ids[i]] = times[i] or nil end
      if probe and x and span.pass == 1 then self.narrow = x end
    end,
  }
  self.span, self.span_lo, self.probe, self.span_times = span, lo, probe, {}
  -- the page just fetched is the span's first page when it was asked with the span's size
  if pg and self.ctx.size == self.span_ctx.size then return span:step(pg) end
  return {}, false
end

-- Rows already yielded that may come back: a row printed at t (true time within SLACK of
-- it) can reappear only while the cursor is above t - SLACK.
function Walk:remember(id, t)
  if t then self.recent[id] = t else self.unparsed[id] = true end
end

function Walk:move_cursor(upper)
  self.upper, self.upper_wire = upper, nil
  for id, t in pairs(self.recent) do
    if t >= upper + M.SLACK then self.recent[id] = nil end
  end
end

-- What a span must not yield again: every row that may come back.
function Walk:skip_set(ids)
  local skip = {}
  for id in pairs(self.recent) do skip[id] = true end
  for id in pairs(self.unparsed) do skip[id] = true end
  for id in pairs(ids or {}) do skip[id] = true end
  return skip
end

function Walk:finish_span()
  local span = self.span
  if self.span_lo == nil or self.span_lo == self.window.from then return self:next_window() end
  for id in pairs(span.union) do self:remember(id, self.span_times[id]) end
  self.span = nil
  self:move_cursor(self.span_lo)
end

function Walk:span_step()
  local span = self.span
  local items, finished = span:step()
  if not items then return nil, finished end
  local t = self.narrow
  self.narrow = nil
  if t and not finished then
    local w = self.window
    local lo = math.floor(t) - 1
    if not w.from or lo > w.from then
      for id in pairs(span.union) do self:remember(id, self.span_times[id]) end
      self:start_span(lo, self:skip_set(span.skip))
      return items, false
    end
  end
  if finished then self:finish_span() end
  return items, self.window == nil
end

--- One request. -> items to yield (maybe none), done | nil, err
function Walk:step()
  local w = self.window
  if not w then return {}, true end
  if self.span then return self:span_step() end
  local q = {}
  for k, v in pairs(self.query) do q[k] = v end
  q[self.range[1]], q[self.range[2]] = wire(w.from, w.from_wire), wire(self.upper, self.upper_wire)
  q.page, q.size = 1, self.ctx.size
  local pg, err = page_mod.fetch(self.session, self.path, q, self.keys, self.projection)
  self.tally.requests = self.tally.requests + 1
  if not pg then return nil, err end
  local times
  times, err = self:check(pg, w.from, self.upper)
  if not times then return nil, err end

  local ctx, n = self.ctx, pg.n
  -- rows left below this page, as the server counts them (a parallel walk splits on it)
  self.left, self.last_full = pg.total and math.max(0, pg.total - n) or nil, n >= ctx.s_eff
  if pg.size and pg.size < ctx.s_eff then ctx.s_eff = pg.size end
  local more = pg.total ~= nil and pg.total > n
  if n > 0 and n < ctx.s_eff and more then ctx.s_eff = n end -- a clamp the server did not echo

  local items, oldest, ids = {}, nil, {}
  for i = 1, n do
    local id, t = pg.ids[i], times[i] or nil
    if not self.recent[id] and not self.unparsed[id] then items[#items + 1] = pg.rows[i] end
    if t and (not oldest or t < oldest) then oldest = t end
    self:remember(id, t)
    ids[id] = true
  end
  -- A short page ends the window: short against the most rows a page of this server ever
  -- held, since a server may clamp the page size and echo the size asked for (or none). A
  -- first page that is short costs one request more: the one that finds nothing below it.
  local short = n < ctx.s_eff and not more and n < ctx.most
  if n > ctx.most then ctx.most = n end
  if n == 0 or short then
    self:next_window()
    return items, self.window == nil
  end

  local second = oldest and math.floor(oldest)
  if second and (self.upper == nil or second + 1 < self.upper) then
    self:move_cursor(second + 1)
    return items, false
  end
  -- The cursor cannot move: walk [second, upper) (or the rest of the window) alone.
  local skip = self:skip_set(ids)
  if second then
    local lo = math.min(second, self.upper - 1)
    if w.from and lo < w.from then lo = w.from end
    local more_items, ferr = self:start_span(lo, skip)
    if not more_items then return nil, ferr end
    return items, false
  end
  -- no readable created_at on a full page: this page is the first of the window's probe
  local first, finished = self:start_span(w.from, skip, pg, true)
  if not first then return nil, finished end
  if finished then self:finish_span() end
  return items, self.window == nil
end

return M
