--- Iterator over the rows of a list endpoint, whatever walks it underneath.
--
--   for order in client:orders{...} do ... end      -- raises the error object on failure
--   local pager = client:orders{...}
--   repeat local order, err = pager:next() ... until not order   -- nil, err on failure
--
-- A walk is any object with `step() -> items, done | nil, err` (one request per step) and
-- a `tally.requests` counter: the orders time cursor (klikit.cursor), page-number passes
-- (klikit.passes) or a single request. Only the current page is held, so memory stays
-- flat. A walk that fails never looks finished: `for` raises, `next` returns nil, err,
-- and `pager.err` keeps the error.
local passes = require "klikit.passes"

local M = {}
local Pager = {}
Pager.__index = Pager

--- client, path, walk (nil when `err` is given: a pager that fails at once).
function M.new(client, path, walk, err)
  return setmetatable({ client = client, path = path, walk = walk, err = err,
    items = {}, count = 0, index = 1, done = false, pages = 0, yielded = 0 }, Pager)
end

--- Page-number paging with proof of completeness (see klikit.passes).
-- opts: query, keys (list keys), page (first page), size (nil: the server's default).
function M.page_number(client, path, opts)
  local size = opts.size
  local tally = { requests = 0 }
  local walk = passes.new { client = client, path = path, query = opts.query or {}, keys = opts.keys,
    first_page = opts.page, ctx = { size = size, s_eff = size or math.huge, most = 0, tally = tally } }
  walk.tally = tally
  return M.new(client, path, walk)
end

--- One request whose rows come from extract(data, meta) -> list | nil, err.
function M.single(client, path, extract)
  local walk = { tally = { requests = 0 } }
  function walk.step()
    local data, err, meta = client:request("GET", path)
    walk.tally.requests = walk.tally.requests + 1
    if err then return nil, err end
    local list, why = extract(data, meta)
    if not list then return nil, why end
    return list, true
  end
  return M.new(client, path, walk)
end

local function fail(self, err)
  self.err = err
  self.items, self.count, self.index = {}, 0, 1
  return nil, err
end

--- Returns the next item; nil when the walk is complete; nil, err when it failed.
function Pager:next()
  if self.err then return nil, self.err end
  while self.index > self.count do
    if self.done then return nil end
    local items, done = self.walk:step()
    self.pages = self.walk.tally.requests
    if not items then return fail(self, done) end
    -- a fresh list: its length is fixed here, before entries are cleared below
    self.items, self.count, self.index, self.done = items, #items, 1, done
  end
  local item = self.items[self.index]
  self.items[self.index] = nil -- drop references as we go
  self.index = self.index + 1
  self.yielded = self.yielded + 1
  return item
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
