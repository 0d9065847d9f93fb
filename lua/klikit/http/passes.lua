--- Page-number passes over one fixed query, repeated until the server's answers prove
-- that every row was seen.
--
-- Paging by number is only exact while the list holds still. klikit does not say how it
-- orders rows that tie (quirk 46 and the same-second case), and rows come and go while a
-- client pages. So one pass (page 1, 2, ... to a short page) is trusted only when it
-- proves itself:
--   A. no row came twice, the total held still, and the pass saw that many distinct rows
--      (or, from the second pass on, it ended on a short page and found nothing new);
--   B. or, from the second pass on, a pass found nothing new and all passes together saw
--      at least as many distinct rows as the total says, or as the short page counts
--      ((pages before it) * page size + its rows);
--   C. or, without a total, three clean passes running that ended on a copy of their last
--      page (servers that answer past the end with the last page again) got the very same
--      pages in the same order, and every row ever seen.
-- Otherwise another pass runs, yielding only rows not yielded before. After MAX_PASSES the
-- walk fails with `walk_incomplete`: it never claims to be complete when it cannot know.
-- Used for page-number pagers (branches) and, by the orders walk, for a span of time that
-- holds more orders than one page (a busy second) or whose times it cannot read.
local page_mod = require("klikit.http.page")

local M = {}
M.MAX_PASSES = 25
M.MAX_PAGES = 100000 -- per pass, when the server gives no total to bound it
M.LAG = 5 -- rows a total may lag behind: a repeated page counts as the end only past it

local Passes = {}
Passes.__index = Passes

--- opts: session, path, query (without page/size), keys (list keys), ctx ({ size asked,
--- s_eff: the page size the server is known to use, most: the most rows a page held,
--- tally: { requests = counter } }), first_page, skip (ids never to
--- yield), check = function(page) -> nil | err (range checks for time spans), what (for
--- messages).
function M.new(opts)
  local self = setmetatable(opts, Passes)
  self.first_page = self.first_page or 1
  self.skip = self.skip or {}
  self.union, self.union_n = {}, 0
  self.pass = 0
  self:start_pass()
  return self
end

function Passes:start_pass()
  self.pass = self.pass + 1
  self.page = self.first_page
  self.pass_ids, self.pass_n, self.pass_new, self.dup, self.trail = {}, 0, 0, false, {}
  self.last_sig, self.copy = nil, false
  self.total_max, self.total_min, self.counted = nil, nil, nil
end

-- Did the pass just ended prove the rows complete? (rules A, B, C above)
function Passes:converged(ended_by)
  local total = self.total_max
  local steady = total == nil or self.total_min == total
  local clean = not self.dup and steady
  if clean and total ~= nil and self.pass_n >= total then return "A" end
  -- a second clean pass that saw nothing new: the set holds still (even if a total lies)
  if ended_by == "short" and clean and self.pass >= 2 and self.pass_new == 0 then return "A'" end
  if self.pass >= 2 and self.pass_new == 0 then
    -- the short page counts the rows ((pages before it) * size + its rows): it holds
    -- even when a total lags or runs ahead
    local count = self.counted or total
    if count and self.union_n >= count then return "B" end
    -- a stable server without a total that repeats its last page past the end: clean
    -- passes that saw every row ever seen, ending on a copy of their last page, the very
    -- same three times running (rows shuffled between requests would not do that)
    if total == nil and ended_by == "repeat" and clean and self.copy and self.pass_n == self.union_n then
      local trail = table.concat(self.trail, " ")
      self.same = self.prev_trail == trail and (self.same or 1) + 1 or 1
      self.prev_trail = trail
      if self.same >= 3 then return "C" end
      return false
    end
  end
  self.prev_trail, self.same = nil, nil
  return false
end

-- Decides what the page just fetched means for the pass: "more", "short" or "repeat".
-- A page that says nothing about paging (no size, no total) and has fewer rows than
-- asked may be a silent clamp, not the end: it is short only against the most rows a
-- page of this server ever held.
function Passes:page_end(pg, fresh_in_pass, copy)
  local ctx, n = self.ctx, pg.n
  if pg.size and pg.size < ctx.s_eff then ctx.s_eff = pg.size end -- the server clamps and says so
  if n > 0 and n < ctx.s_eff and self.page == self.first_page and pg.total and pg.total > n then
    ctx.s_eff = n -- a clamp the server did not echo: the total says there is more
  end
  local informed = pg.size ~= nil or pg.total ~= nil
  local most = ctx.most
  local short = n < ctx.s_eff and (informed or n < most)
  if n > most then ctx.most = n end
  if n == 0 or short then
    -- the short page counts the rows: (pages before it) * the page size the server used
    -- (the one it said, else the most rows its pages held) + its rows
    local size = informed and ctx.s_eff or math.min(ctx.s_eff, most)
    if size < math.huge and (informed or most > 0 or self.page == self.first_page) then
      self.counted = (self.page - self.first_page) * size + n
    end
    return "short"
  end
  -- a page of rows this pass already saw: the server answers past its end with an
  -- earlier page -- unless the total says the end is further on (it may lag by a couple,
  -- so only a copy of the page before counts at the total's own end)
  if fresh_in_pass == 0 then
    local past = self.total_max and (self.page - self.first_page) * ctx.s_eff - self.total_max
    if past == nil or past >= M.LAG or (copy and past >= 0) then return "repeat" end
  end
  return "more"
end

--- One request (or `given`, a first page the caller already fetched and checked with the
--- same query). -> items (rows to yield, maybe none), finished | nil, err
function Passes:step(given)
  local pg = given
  if not pg then
    local err
    local q = {}
    for k, v in pairs(self.query) do q[k] = v end
    q.page, q.size = self.page, self.ctx.size
    pg, err = page_mod.fetch(self.session, self.path, q, self.keys)
    self.ctx.tally.requests = self.ctx.tally.requests + 1
    if not pg then return nil, err end
    if self.check then
      err = self.check(pg)
      if err then return nil, err end
    end
  end
  if pg.total then
    self.total_max = math.max(self.total_max or pg.total, pg.total)
    self.total_min = math.min(self.total_min or pg.total, pg.total)
  end
  local items, fresh_in_pass, dups = {}, 0, false
  for i = 1, pg.n do
    local id = pg.ids[i]
    self.trail[#self.trail + 1] = tostring(id)
    if self.pass_ids[id] then
      dups = true
    else
      self.pass_ids[id] = true
      self.pass_n = self.pass_n + 1
      fresh_in_pass = fresh_in_pass + 1
      if not self.union[id] then
        self.union[id] = true
        self.union_n = self.union_n + 1
        self.pass_new = self.pass_new + 1
        if not self.skip[id] then items[#items + 1] = pg.rows[i] end
      end
    end
  end
  local sig = table.concat(pg.ids, " ", 1, pg.n)
  local copy = pg.n > 0 and sig == self.last_sig
  self.last_sig = sig
  local ended_by = self:page_end(pg, fresh_in_pass, copy)
  self.copy = ended_by == "repeat" and copy
  -- a page that only repeats earlier ones ends the pass; only repeats before it spoil it
  if dups and ended_by ~= "repeat" then self.dup = true end
  if ended_by == "more" then
    self.page = self.page + 1
    local limit = self.total_max and (math.ceil(self.total_max / self.ctx.s_eff) + 5) or M.MAX_PAGES
    if self.page - self.first_page >= limit then ended_by = "repeat" else return items, false end
  end
  if self:converged(ended_by) then return items, true end
  if self.pass >= M.MAX_PASSES then
    return nil, self.session:fail(page_mod.walk_error("walk_incomplete", self.path, pg.meta, string.format(
      "%s: after %d passes the server's pages still do not prove every row was seen (%d distinct rows, "
      .. "total %s); its order or its rows keep changing between requests", self.what or self.path,
      self.pass, self.union_n, tostring(self.total_max)),
      { passes = self.pass, distinct = self.union_n, total = self.total_max }), "GET", self.path)
  end
  self:start_pass()
  return items, false
end

--- The page_number pager style: one passes walk over a whole list. opts: query, keys,
--- page (first page), size (nil: the server's default), skip (ids already yielded).
function M.walk(session, path, opts)
  local tally = { requests = 0 }
  local walk = M.new { session = session, path = path, query = opts.query or {}, keys = opts.keys,
    first_page = opts.page, skip = opts.skip,
    ctx = { size = opts.size, s_eff = opts.size or math.huge, most = 0, tally = tally } }
  walk.tally = tally
  return walk
end

local function ids_of(...)
  local list = {}
  for i = 1, select("#", ...) do
    for id in pairs((select(i, ...))) do list[#list + 1] = id end
  end
  return list
end
M.ids_of = ids_of

--- A plain table to resume from: the list, its page size and every id yielded so far (the
--- next walk starts a fresh pass and skips them).
function Passes:state()
  return { style = "page_number", query = self.query, keys = self.keys, page = self.first_page,
    size = self.ctx.size, skip = ids_of(self.union, self.skip) }
end

--- Rebuilds a page_number walk from state(); raises request_invalid on a malformed one.
function M.resume(session, path, state)
  local ok = type(state.query) == "table" and type(state.keys) == "table" and type(state.skip) == "table"
    and (state.page == nil or type(state.page) == "number") and (state.size == nil or type(state.size) == "number")
  if not ok then require("klikit.errors").invalid("resume: not a page_number pager state") end
  local skip = {}
  for _, id in ipairs(state.skip) do skip[id] = true end
  return M.walk(session, path, { query = state.query, keys = state.keys, page = state.page, size = state.size,
    skip = skip })
end

return M
