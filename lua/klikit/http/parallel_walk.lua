--- The time_cursor walk over K slices at once (client:orders{ ..., concurrency = K }).
--
-- The range is cut into slices of time that do not overlap, each walked by its own
-- time_cursor walk (so each keeps the exactly-once guarantees of klikit.http.time_cursor),
-- and rows are still yielded newest first: the slice being yielded is drained as it comes;
-- at most K slices run, the oldest first, each at most BUFFER_PAGES pages ahead of the
-- consumer. Memory: at most K x BUFFER_PAGES pages held (800 orders a slice at size 100).
--
-- Slices are sized by count, not by time. The walk starts as one slice; its first page's
-- data.total says how many rows lie below it, which fixes the part size: the range in
-- K x m parts, m the fewest that keeps a part within BUFFER_PAGES. A slice with more rows
-- left than that gives the older part of its range away, cut at whole seconds at least
-- MARGIN s below its cursor (no row it yielded can lie there), in parts of equal time; a
-- part that turns out busier gives away in turn after its first page. Each part's last
-- page is mostly short, so a walk costs about K x m / 2 requests more than one slice.
-- Rows whose time could not be read may lie anywhere: every part made from a slice skips
-- the ones that slice saw. A server without data.total is walked as one slice. A slice
-- splits only after a full page, and slices never outnumber 2K + 4 x (rows seen / size):
-- a total that lies cannot make the walk cut its range without end.
--
-- Every slice shares the session (one rate limiter, one Retry-After pause) and what the
-- walk learned of the server (page size clamps, the fullest page). A failure in any slice
-- fails the walk with that slice's error; pager:resume() carries on. pager:state() is an
-- ordinary time_cursor state: the slice being yielded as of its last page handed out,
-- then the whole range below it.
local page_mod = require("klikit.http.page")
local time_cursor = require("klikit.http.time_cursor")

local M = {}
M.BUFFER_PAGES = 8 -- pages a slice ahead of the one being yielded may hold
M.MIN_SECONDS = 4  -- the narrowest part given away
M.MARGIN = 3       -- seconds between a donor's cursor and the range it gives away

local Walk = {}
Walk.__index = Walk

-- first: the walk's state before its first page (what a resume starts from)
local function new_slice(walk, skip)
  return { walk = walk, queue = {}, head = 1, tail = 0, skip = skip or {}, first = walk:state() }
end

--- head: a time_cursor walk (fresh or resumed); k: slices at once; new_runner() -> a
--- klikit.http.runner.
function M.new(head, k, new_runner)
  local self = setmetatable({ head = head, k = k, new_runner = new_runner, runner = new_runner(),
    projection = head.projection,
    tally = head.tally, ci = 1, gen = 0, rows = 0, slices = { new_slice(head) } }, Walk)
  self.last_state = self.slices[1].first
  return self
end

-- Seconds left to walk in walk w, or nil (in a span, or an open window: not cut).
local function time_left(w)
  if w.span or not w.window or not w.upper then return nil end
  local lo = w.windows[#w.windows].from
  return lo and math.max(0, w.upper - lo) or nil
end

-- The windows covering [lo, hi) of the windows `list` (newest first, contiguous): the
-- given wire strings kept where a bound is a window's own.
local function clip(list, lo, hi)
  local out = {}
  for _, win in ipairs(list) do
    local from, to = math.max(win.from, lo), win.to and math.min(win.to, hi) or hi
    if from < to then
      out[#out + 1] = { from = from, to = to, from_wire = from == win.from and win.from_wire or nil,
        to_wire = to == win.to and win.to_wire or nil }
    end
  end
  return out
end

-- Slice s gives the older part of its range away, cut into n parts of equal time.
function Walk:split(s, n)
  local w = s.walk
  -- slices stay within what the rows seen so far justify: a server whose total is inflated
  -- cannot make the walk cut its range into ever more parts (each costs a request)
  n = math.min(n, 2 * self.k + 4 * math.ceil(self.rows / w.ctx.size) - #self.slices)
  if n < 1 or not time_left(w) then return end
  local top = w.upper - M.MARGIN
  local bottom = w.windows[#w.windows].from
  n = math.min(n, math.floor((top - bottom) / M.MIN_SECONDS) - 1) -- parts of whole seconds, a few wide
  if n < 1 then return end
  local step = (top - bottom) / (n + 1)
  local rest = {}
  for i = w.wi, #w.windows do rest[#rest + 1] = w.windows[i] end
  local cuts = {}
  for i = 1, n do cuts[i] = math.floor(top - step * i) end
  cuts[n + 1] = bottom
  local parts = {}
  for i = 1, n do parts[i] = clip(rest, cuts[i + 1], cuts[i]) end
  -- the donor keeps [cuts[1], upper): its current window (the same table) and those above cuts[1]
  local kept = clip(rest, cuts[1], math.huge)
  local current = w.window
  if current.from < cuts[1] then current.from, current.from_wire = cuts[1], nil end
  kept[1] = current
  w.windows, w.wi = kept, 1
  local skip = {}
  for id in pairs(w.unparsed) do skip[id] = true end
  for id in pairs(s.skip) do skip[id] = true end
  local at = 0
  for i, slice in ipairs(self.slices) do if slice == s then at = i end end
  for _, part in ipairs(parts) do
    if #part > 0 then
      local walk = time_cursor.new(w.session, w.path, { query = w.query, keys = w.keys, field = w.field,
        range = w.range, size = w.ctx.size, span_size = w.span_ctx.size, windows = part, fields = w.fields })
      walk.ctx, walk.span_ctx, walk.tally = w.ctx, w.span_ctx, w.tally -- one server, one count
      at = at + 1
      table.insert(self.slices, at, new_slice(walk, skip))
    end
  end
  self:fill()
end

-- After a page of slice s: a slice with more rows left than its buffer holds gives the
-- older ones away in parts of about `per` pages. The first total fixes `per`: the range
-- in K x m parts (m the fewest that keeps a part within BUFFER_PAGES), so K parts run at
-- once and each part's short last page costs little.
function Walk:plan(s)
  local w = s.walk
  local all, here = time_left(w), w.upper and w.window.from and w.upper - w.window.from
  -- only a full page shows rows below it; data.total alone (which may lie) never does
  if not w.left or not w.last_full or not all or not here or here <= 0 then return end
  -- data.total counts the rows of the current window only: the windows below are
  -- assumed as dense
  local size = w.ctx.size
  local pages = math.ceil(w.left * all / here / size)
  if not self.per then
    local parts = self.k * math.ceil(pages / (self.k * M.BUFFER_PAGES))
    self.per = math.max(2, math.ceil(pages / parts))
  end
  if pages > M.BUFFER_PAGES and pages > self.per then self:split(s, math.ceil(pages / self.per) - 1) end
end

-- Starts the tasks of the oldest slices yet to run while fewer than K run.
function Walk:fill()
  local running = 0
  for i = self.ci, #self.slices do
    local s = self.slices[i]
    if s.started and not s.done then running = running + 1 end
  end
  for i = self.ci, #self.slices do
    if running >= self.k then return end
    local s = self.slices[i]
    if not s.started and not s.done then
      s.started, running = true, running + 1
      local gen = self.gen
      self.runner:spawn(function() self:run(s, gen) end)
    end
  end
end

-- The task of slice s: steps its walk, at most BUFFER_PAGES ahead unless it is the slice
-- being yielded.
function Walk:run(s, gen)
  local r = self.runner
  while s.busy do r:sleep(0.005) end -- a task of an earlier run finishing its request
  while not s.done and gen == self.gen and not self.failed do
    if s ~= self.slices[self.ci] and s.tail - s.head + 1 >= M.BUFFER_PAGES then
      r:sleep(0.002)
    else
      s.busy = true
      local items, done = s.walk:step()
      s.busy = false
      if not items then
        s.err, self.failed = done, self.failed or s
      else
        local kept = {}
        for _, item in ipairs(items) do
          local id = page_mod.id(item)
          if id == nil or not s.skip[id] then kept[#kept + 1] = item end
        end
        self.rows = self.rows + #items
        if not done and not s.walk.span then self:plan(s) end
        s.tail = s.tail + 1
        s.queue[s.tail] = { items = kept, state = s.walk:state() }
        s.done = done == true
        if s.done then self:fill() end
      end
      r:notify()
    end
  end
end

--- One page of the slice being yielded -> items, done | nil, err.
function Walk:step()
  if not self.started then
    self.started = true
    self:fill()
  end
  while true do
    if self.failed then
      local err = self.failed.err
      self:halt()
      return nil, err
    end
    local s = self.slices[self.ci]
    if not s then return {}, true end
    if s.head <= s.tail then
      local pg = s.queue[s.head]
      s.queue[s.head], s.head = nil, s.head + 1
      self.last_state = pg.state
      return pg.items, false
    end
    if s.done then
      self.ci = self.ci + 1
      local nxt = self.slices[self.ci]
      self.last_state = nxt and nxt.first or nil
    else
      self:fill()
      self.runner:wait(function() return s.head <= s.tail or s.done or self.failed ~= nil end)
    end
  end
end

-- After a failure: every task stops; a resume starts them again from where each slice is.
function Walk:halt()
  local old = self.runner
  old:stop()
  self.runner = self.new_runner()
  self.gen, self.started = self.gen + 1, false
  for _, s in ipairs(self.slices) do
    s.err, s.started = nil, false
    if old.abandons then s.busy = false end -- its task will never run again
  end
  self.failed = nil
end

--- A time_cursor state: the slice being yielded as of its last page handed out, then the
--- rest of the range below it (its skips in skip_more).
function Walk:state()
  local s = self.slices[self.ci]
  if not s or not self.last_state then return { style = "time_cursor", query = self.head.query,
    keys = self.head.keys, field = self.head.field, range = self.head.range, size = self.head.ctx.size,
    span_size = self.head.span_ctx.size, windows = {}, recent = {}, unparsed = {} } end
  local state = {}
  for k, v in pairs(self.last_state) do state[k] = v end
  local lo = s.walk.windows[#s.walk.windows] and s.walk.windows[#s.walk.windows].from
  local last = self.slices[#self.slices].walk
  local bottom = last.windows[#last.windows] or {}
  if lo then
    -- the cursor's window keeps its own upper bound; nothing below lo (given away since)
    local windows = clip(state.windows, lo, math.huge)
    if bottom.from and bottom.from < lo then
      for _, win in ipairs(time_cursor.windows(bottom.from, lo, nil, bottom.from_wire, nil)) do
        windows[#windows + 1] = win
      end
    end
    if #state.windows == 0 and windows[1] then -- the slice was done: the walk goes on below it
      state.upper, state.upper_wire, state.span = windows[1].to, windows[1].to_wire, nil
    end
    state.windows = windows
  end
  local skip = {}
  for i = self.ci, #self.slices do
    for id in pairs(self.slices[i].skip) do skip[#skip + 1] = id end
  end
  state.skip_more = skip
  return state
end

return M
