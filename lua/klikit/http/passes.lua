--- Page-number passes over one fixed query, repeated until the server's answers prove
-- that every row was seen.
--
-- Paging by number is only exact while the list holds still. klikit does not say how it
-- orders rows that tie (quirk 46 and the same-second case), and rows come and go while a
-- client pages. So a pass (page 1, 2, ... to a short page) is trusted only when it proves
-- itself:
--   A. no row came twice, the total held still, and the pass saw that many distinct rows
--      (or, from the second pass on, it ended on a short page, found nothing new, and saw
--      as many rows, ending at the same count, as the pass before: rows deleted during a
--      pass shift the rest up a page, so a clean pass alone can still have skipped some);
--   B. or, from the second pass on, a pass found nothing new, ended at the count the pass
--      before ended at, and the rows seen in the passes after the count last changed
--      number at least the count: the short page's count when every page before it was
--      full ((pages before it) * page size + its rows), else the total if it held still.
--      More rows than the count disprove it (a stale total) until it changes: since it
--      last changed, or ever on a list never seen to change;
--   C. or, without a total, three clean passes running that ended on a copy of their last
--      page (past the end, a server may repeat it), from page 3 on, got the very same pages
--      in the same order and every row ever seen. A copy of page 1 as page 2 could also be
--      a server ignoring `page`: one probe with another page size tells them apart.
-- A short page is not the end while the total says there are rows this pass has not seen,
-- and it is short only against the most rows a page held (a server may clamp the page size
-- and echo the size asked for, or none). Otherwise another pass runs, yielding only rows not yielded before. After
-- MAX_PASSES passes, or more requests than the first pass's pages allow, the walk fails
-- with `walk_incomplete`: it never claims to be complete when it cannot know.
local prefetch = require("klikit.http.prefetch")
local page_mod = require("klikit.http.page")

local M = {}
M.MAX_PASSES = 25
M.MAX_PAGES = 100000 -- per pass, when the server gives no total to bound it
M.LAG = 5 -- rows a total may lag behind: a repeated page counts as the end only past it

local Passes = {}
Passes.__index = Passes

--- opts: session, path, query (without page/size), keys (list keys), ctx ({ size asked,
--- s_eff: the page size the server said it used, most: the most rows a page held,
--- tally: { requests = counter } }), first_page, skip (ids never to yield), check =
--- function(page) -> nil | err (range checks for time spans), what (for messages).
function M.new(opts)
  local self = setmetatable(opts, Passes)
  self.first_page = self.first_page or 1
  self.skip = self.skip or {}
  self.union, self.union_n, self.since, self.since_n = {}, 0, {}, 0
  self.pass, self.requests = 0, 0
  self:start_pass()
  return self
end

function Passes:start_pass()
  self.prev_pass_n, self.prev_counted = self.pass_n, self.counted
  self.pass = self.pass + 1
  self.page = self.first_page
  self.pass_ids, self.pass_n, self.pass_new, self.dup, self.trail = {}, 0, 0, false, {}
  self.last_sig, self.copy, self.full = nil, false, true
  self.total_max, self.total_min, self.counted, self.candidate = nil, nil, nil, nil
  self.prefetched = nil -- pages fetched ahead belong to the pass that fetched them
end

function Passes:fail(pg, message, details)
  return nil, self.session:fail(page_mod.walk_error("walk_incomplete", self.path, pg.meta, (self.what or self.path)
    .. ": " .. message, details), "GET", self.path)
end

-- Rule C's evidence: the same clean pass ending on a copy, three times running.
function Passes:same_pages()
  local trail = table.concat(self.trail, " ")
  self.same = self.prev_trail == trail and (self.same or 1) + 1 or 1
  self.prev_trail = trail
  return self.same >= 3
end

-- Did the pass just ended prove the rows complete? (rules A, B, C above) -> rule | false
function Passes:converged(ended_by)
  local total = self.total_max
  local clean = not self.dup and (total == nil or self.total_min == total)
  if clean and total ~= nil and self.pass_n >= total then return "A" end
  -- (a pass over a list that lost rows as it went may skip rows without a duplicate: it
  -- counts only when it saw as many rows as the pass before, and ended at the same count)
  if ended_by == "short" and clean and self.pass >= 2 and self.pass_new == 0 and self.pass_n == self.prev_pass_n
    and self.counted == self.prev_counted then
    return "A"
  end
  -- the count: the rows' positions (the short page's), else the total if it held still
  local still = total == nil or self.total_min == total
  local count = self.counted or (still and total) or nil
  if not still or (self.last_count ~= nil and count ~= self.last_count) then self.moved = true end
  local changed = count ~= self.last_count
  if changed then -- rows came or went: count afresh, from the next pass on (this one ran
    -- over a list that changed under it, and may hold rows already gone)
    self.since, self.since_n, self.last_count, self.disproven = {}, 0, count, false
  end
  -- more distinct rows than the count while it held still, or (on a list never seen to
  -- change) ever: it is not a count of these rows (a stale total) and proves nothing
  if count and (self.since_n > count or (not self.moved and self.union_n > count)) then self.disproven = true end
  if self.pass >= 2 and not changed and self.pass_new == 0 and count and not self.disproven
    and self.since_n >= count then
    return "B"
  end
  if total == nil and ended_by == "repeat" and clean and self.copy and self.pass_n == self.union_n then
    if self.copy_page > self.first_page + 1 then return self:same_pages() and "C" end
    self.probe = true -- page 2 was page 1 again: one page, or `page` ignored?
  end
  return false
end

-- Decides what the page just fetched means for the pass: "more", "short" or "repeat".
function Passes:page_end(pg, fresh_in_pass, copy)
  local ctx, n = self.ctx, pg.n
  if pg.size and pg.size < ctx.s_eff then ctx.s_eff = pg.size end -- the server clamps and says so
  -- A page is short only against the most rows a page of this server held: an echoed
  -- size is believed when it admits a clamp, but a server may echo the size asked for and
  -- serve fewer (or leave size out).
  local most = ctx.most
  local used = most > 0 and math.min(ctx.s_eff, most) or nil
  local short = n == 0 or (n < ctx.s_eff and n < most)
  if n > most then ctx.most = n end
  local count = self.full and used and used < math.huge and (self.page - self.first_page) * used + n
  if short and n > 0 and pg.total and self.pass_n < pg.total then
    -- the total says there is more: page on. If the next page is empty after all, this
    -- page's count stands (a total may run ahead of the rows).
    self.candidate, self.candidate_page = count or nil, self.page
  elseif short then
    if n == 0 and not count and self.candidate then count = self.candidate end
    self.counted = count or nil
    return "short"
  end
  if n > 0 and self.candidate and self.page > self.candidate_page then
    self.candidate = nil -- rows after it: the total was right
  end
  if n < (used or ctx.s_eff) then self.full = false end
  -- a page of rows this pass already saw: the server answers past its end with an
  -- earlier page -- unless the total says the end is further on (it may lag by a couple,
  -- so only a copy of the page before counts at the total's own end)
  if fresh_in_pass == 0 then
    local past = self.total_max and (self.page - self.first_page) * (used or ctx.s_eff) - self.total_max
    if past == nil or past >= M.LAG or (copy and past >= 0) then return "repeat" end
  end
  return "more"
end

-- Page 2 was page 1 again, without a total: one page (answered past its end with itself),
-- or a server ignoring `page`? One more request tells: half the page size, from just past
-- page 1 (for a page of one row: page 1 of size 2). Past the end a server answers nothing
-- or its last rows; a server ignoring `page` answers its first row again.
function Passes:probe_step()
  local q = {}
  for k, v in pairs(self.query) do q[k] = v end
  local first = self.first_ids
  local s = #first
  local half = math.floor(s / 2)
  if half >= 1 then q.page, q.size = math.floor(s / half) + 1, half else q.page, q.size = 1, 2 end
  local pg, err = page_mod.fetch(self.session, self.path, q, self.keys, self.projection)
  self.ctx.tally.requests, self.requests = self.ctx.tally.requests + 1, self.requests + 1
  if not pg then return nil, err end
  local ignored
  if half >= 1 then ignored = pg.n > 0 and pg.ids[1] == first[1] else ignored = pg.n > 1 end
  if ignored then
    return self:fail(pg, "the server answers page 2 with page 1 again and gives no total: it ignores `page`, "
      .. "so its rows cannot be walked")
  end
  self.probe = false
  for i = 1, pg.n do
    if not self.pass_ids[pg.ids[i]] then -- more rows after all: page 2 was page 1 reordered
      self:start_pass()
      return {}, false
    end
  end
  return {}, true
end

-- The rows of a page: counted into the pass, the new ones returned to yield.
function Passes:take(pg)
  local items, fresh, dups = {}, 0, false
  for i = 1, pg.n do
    local id = pg.ids[i]
    self.trail[#self.trail + 1] = id
    if self.pass_ids[id] then
      dups = true
    else
      self.pass_ids[id], self.pass_n, fresh = true, self.pass_n + 1, fresh + 1
      if not self.since[id] then self.since[id], self.since_n = true, self.since_n + 1 end
      if not self.union[id] then
        self.union[id], self.union_n, self.pass_new = true, self.union_n + 1, self.pass_new + 1
        if not self.skip[id] then items[#items + 1] = pg.rows[i] end
      end
    end
  end
  return items, fresh, dups
end

-- More requests than the first pass's pages justify: rows arrive or move faster than the
-- passes can prove them (each pass would only grow).
local function pass_budget_spent(self)
  return self.budget ~= nil and self.requests > self.budget
end

--- One request (or `given`, a first page the caller already fetched and checked with the
--- same query). -> items (rows to yield, maybe none), finished | nil, err
function Passes:step(given)
  if self.probe then return self:probe_step() end
  local pg = given
  if not pg then
    local err
    local q = {}
    for k, v in pairs(self.query) do q[k] = v end
    q.page, q.size = self.page, self.ctx.size
    local ahead -- fetched with the pages after it (counted then)
    if self.concurrency then pg, err, ahead = prefetch.take(self, q) end
    if not ahead then
      pg, err = page_mod.fetch(self.session, self.path, q, self.keys, self.projection)
      self.ctx.tally.requests, self.requests = self.ctx.tally.requests + 1, self.requests + 1
    end
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
  local items, fresh, dups = self:take(pg)
  if self.page == self.first_page then self.first_ids = pg.ids end
  local sig = table.concat(pg.ids, " ", 1, pg.n)
  local copy = pg.n > 0 and sig == self.last_sig
  self.last_sig = sig
  local ended_by = self:page_end(pg, fresh, copy)
  self.copy, self.copy_page = ended_by == "repeat" and copy, self.page
  -- a page that only repeats earlier ones ends the pass; only repeats before it spoil it
  if dups and ended_by ~= "repeat" then self.dup = true end
  if pass_budget_spent(self) then
    local why = self.disproven and string.format("the server's total (%s) is below the %d distinct rows seen and "
      .. "its order changes between requests, so nothing can prove the rows complete", tostring(self.last_count),
      self.union_n) or "rows keep arriving or moving faster than the walk can page"
    return self:fail(pg, string.format("%d requests over %d passes did not prove every row was seen; %s",
      self.requests, self.pass, why), { requests = self.requests })
  end
  if ended_by == "more" then
    self.page = self.page + 1
    local per_page = math.max(1, math.min(self.ctx.s_eff, self.ctx.most))
    local limit = self.total_max and (math.ceil(self.total_max / per_page) + 5) or M.MAX_PAGES
    if self.page - self.first_page >= limit then ended_by = "repeat" else return items, false end
  end
  if self:converged(ended_by) then return items, true end
  if self.pass >= M.MAX_PASSES then
    return self:fail(pg, string.format("after %d passes the server's pages still do not prove every row was seen "
      .. "(%d distinct rows, total %s); its order or its rows keep changing between requests", self.pass,
      self.union_n, tostring(self.total_max)), { passes = self.pass, distinct = self.union_n, total = self.total_max })
  end
  if self.pass == 1 then self.budget = 8 * self.requests + 20 end
  if not self.probe then self:start_pass() end -- else the probe runs next, and starts the pass if need be
  return items, false
end

return M
