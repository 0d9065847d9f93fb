--- Iterator over the rows of a list endpoint, in one of three named styles:
--   single       one request (GET /brands)
--   page_number  page 1, 2, ... with proof of completeness (klikit.http.page_number)
--   time_cursor  a time cursor over windows, exactly once (klikit.http.time_cursor)
--
--   for order in assert(client:orders{...}) do ... end   -- raises the error object on failure
--   local pager = assert(client:orders{...})
--   repeat local order, err = pager:next() ... until not order   -- nil, err on failure
--
-- Only the current page is held, so memory stays flat. A walk that fails never looks
-- finished: `for` raises, `next` returns nil, err, and `pager.err` keeps the error.
-- `pager:state()` is a plain table (numbers, strings, booleans, lists) that a later pager
-- of the same style resumes from, yielding nothing twice.
local page = require("klikit.http.page")
local page_number = require("klikit.http.page_number")
local time_cursor = require("klikit.http.time_cursor")

local M = {}
local Pager = {}
Pager.__index = Pager

-- The style modules that can rebuild a walk from its state.
local RESUMABLE = { page_number = page_number, time_cursor = time_cursor }

--- session, path, walk: an object with step() -> items, done | nil, err (one request a
--- step), tally.requests, and state() for resumable styles.
function M.new(session, path, walk)
  -- strip: fields a projected walk read for itself that the caller did not ask for
  return setmetatable({ session = session, path = path, walk = walk, items = {}, ids = {}, count = 0,
    index = 1, done = false, pages = 0, yielded = 0, skip = {},
    strip = walk.projection and #walk.projection.strip > 0 and walk.projection.strip or nil }, Pager)
end

--- One request whose rows come from extract(data, meta) -> list | nil, err.
function M.single(session, path, extract)
  local walk = { tally = { requests = 0 } }
  function walk.step()
    local data, err, meta = session:request("GET", path)
    walk.tally.requests = walk.tally.requests + 1
    if err then return nil, err end
    local list, why = extract(data, meta)
    if not list then return nil, why end
    return list, true
  end
  return M.new(session, path, walk)
end

--- Page-number paging. opts: query, keys (list keys), page (first page), size (nil: the
--- server's default).
function M.page_number(session, path, opts)
  return M.new(session, path, page_number.new(session, path, opts))
end

--- concurrency: nil or an integer 1..32 (raises request_invalid otherwise).
function M.check_concurrency(k)
  if k ~= nil and not (type(k) == "number" and k == math.floor(k) and k >= 1 and k <= M.MAX_CONCURRENCY) then
    require("klikit.errors").invalid("concurrency must be an integer from 1 to " .. M.MAX_CONCURRENCY
      .. ", got " .. tostring(k))
  end
  return k
end
M.MAX_CONCURRENCY = 32

-- A time_cursor walk, over `concurrency` slices at once when more than one.
local function cursor_walk(walk, concurrency)
  if not concurrency or concurrency < 2 then return walk end
  local runner = require("klikit.http.runner")
  return require("klikit.http.parallel_walk").new(walk, concurrency, runner.new)
end

--- The time cursor. opts: see klikit.http.time_cursor.new, plus concurrency.
function M.time_cursor(session, path, opts)
  return M.new(session, path, cursor_walk(time_cursor.new(session, path, opts), opts.concurrency))
end

--- A pager that continues from `state` (from pager:state()). Raises request_invalid on a
--- table that is not such a state.
function M.resume(session, path, state, concurrency)
  local style = type(state) == "table" and type(state.walk) == "table" and RESUMABLE[state.walk.style]
  if not style or type(state.skip) ~= "table" or (state.walk.skip_more ~= nil and type(state.walk.skip_more) ~= "table")
  then
    require("klikit.errors").invalid("resume: not a pager state (take it from pager:state())")
  end
  local walk = style.resume(session, path, state.walk)
  if style == time_cursor then walk = cursor_walk(walk, concurrency) end
  local pager = M.new(session, path, walk)
  for _, id in ipairs(state.skip) do pager.skip[id] = true end
  -- rows a parallel walk's later slices must skip (their time unreadable where first seen)
  for _, id in ipairs(state.walk.skip_more or {}) do pager.skip[tostring(id)] = true end
  pager.yielded = tonumber(state.yielded) or 0
  return pager
end

local function fail(self, err)
  self.err = err
  self.items, self.ids, self.count, self.index = {}, {}, 0, 1
  return nil, err
end

-- The next page into self.items (or the end, or the failure), then the next item.
local function refill(self)
  if self.err then return nil, self.err end
  while self.index > self.count do
    if self.done then return nil end
    local before = self.walk.state and self.walk:state()
    local items, done = self.walk:step()
    self.pages = self.walk.tally.requests
    if not items then return fail(self, done) end
    -- a fresh list (its length is fixed here, before entries are cleared below), less the
    -- rows a resumed pager had already yielded from this page
    local kept, ids = {}, {}
    for _, item in ipairs(items) do
      local id = page.id(item)
      if id == nil or not self.skip[id] then
        kept[#kept + 1], ids[#kept + 1] = item, id
      end
    end
    self.items, self.ids, self.count, self.index, self.done = kept, ids, #kept, 1, done
    self.before = before
  end
  return self:next()
end

--- Returns the next item; nil when the walk is complete; nil, err when it failed.
function Pager:next()
  local i = self.index
  if i > self.count then return refill(self) end
  local item = self.items[i]
  self.items[i] = nil -- drop references as we go
  self.index, self.yielded = i + 1, self.yielded + 1
  local strip = self.strip
  if strip and type(item) == "table" then
    for k = 1, #strip do item[strip[k]] = nil end
  end
  return item
end

--- A plain table to resume this walk from: client:orders{ resume = state }. Taken between
--- pages it is the walk's state; taken mid-page it is the state before that page plus the
--- ids already yielded from it. nil for the single style (nothing to resume).
function Pager:state()
  if not self.walk.state then return nil end
  if self.index > self.count then return { walk = self.walk:state(), skip = {}, yielded = self.yielded } end
  local skip = {}
  for id in pairs(self.skip) do skip[#skip + 1] = id end
  for i = 1, self.index - 1 do skip[#skip + 1] = self.ids[i] end
  return { walk = self.before, skip = skip, yielded = self.yielded }
end

--- After a failure, clears the error so the walk goes on from the request that failed
-- (its cursor never moved): nothing already yielded is yielded again.
function Pager:resume()
  self.err = nil
  return self
end

--- `for x in pager do`: a failure raises the error object (its tostring names the code,
-- HTTP status and request_id; pcall hands back the table itself).
function Pager:__call()
  local item, err = self:next()
  if err then error(err, 0) end
  return item
end

--- Collects every remaining item into a list: list | nil, err.
function Pager:all()
  local list, n = {}, 0
  while true do
    local item, err = self:next()
    if err then return nil, err end
    if item == nil then return list end
    n = n + 1
    list[n] = item
  end
end

function Pager:__tostring()
  local state = self.err and ("failed: " .. self.err.code) or (self.done and "last page fetched" or "walking")
  return string.format("klikit.pager(%s, %d pages, %d yielded, %s)", self.path, self.pages, self.yielded, state)
end

return M
