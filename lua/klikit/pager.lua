--- Paginating iterator over a page/size endpoint.
--
--   for order in client:orders{...} do ... end      -- raises the error object on failure
--   local pager = client:orders{...}
--   repeat local order, err = pager:next() ... until not order   -- nil, err on failure
--
-- Only the current page is held, so memory stays flat over any number of pages. A walk
-- that fails never looks finished: `for` raises, `next` returns nil, err, and
-- `pager.err` keeps the error.
local errors = require "klikit.errors"

local M = {}
local Pager = {}
Pager.__index = Pager

--- spec: { path, query, extract = function(data) -> items, paging | nil, why,
---         page = first page, size = page size or nil, paged = false for one-shot lists,
---         error = an error to report first,
---         fetch = function(pager) -> true | nil, err: replaces page-number paging (it sets
---                 pager.items and pager.done; see klikit.orders) }
-- `paging` is {page, size, total} when the endpoint pages, nil when it answers at once.
function M.new(client, spec)
  return setmetatable({
    client = client, path = spec.path, query = spec.query or {}, extract = spec.extract,
    page = spec.page or 1, size = spec.size, err = spec.error, paged = spec.paged ~= false,
    items = {}, index = 1, done = false,
    pages = 0, yielded = 0, total = nil, fetch_page = spec.fetch, state = spec.state,
  }, Pager)
end

local function fail(self, err)
  self.err = err
  self.items, self.index = {}, 1
  return nil, err
end

-- Fetches the next page into self.items; returns true, or nil, err.
function Pager:fetch()
  if self.fetch_page then
    local ok, err = self.fetch_page(self)
    if ok then self.index = 1 end
    return ok, err
  end
  local query = {}
  for k, v in pairs(self.query) do query[k] = v end
  if self.paged then query.page, query.size = self.page, self.size end
  local data, err, meta = self.client:request("GET", self.path, { query = query })
  if err then return nil, err end
  local items, paging, why = self.extract(data)
  if type(items) ~= "table" then
    return nil, errors.new {
      code = "decode_failed", status = meta.status, request_id = meta.request_id,
      method = "GET", path = self.path,
      message = "page " .. self.page .. " of " .. self.path .. " has an unexpected shape: " .. (why or "?"),
    }
  end
  self.items, self.index = items, 1
  self.pages = self.pages + 1
  self.last_request_id = meta.request_id
  if not paging then
    self.done = true
    return true
  end
  local size = tonumber(paging.size) or self.size or #items
  self.total = tonumber(paging.total) or self.total
  -- Stop on an empty page (safety net), or when this page reaches the total.
  if #items == 0 or size < 1 then
    self.done = true
  elseif self.total then
    self.done = self.page * size >= self.total
  else
    self.done = #items < size
  end
  self.page = self.page + 1
  return true
end

--- Returns the next item; nil when the walk is complete; nil, err when it failed.
function Pager:next()
  if self.err then return nil, self.err end
  while self.index > #self.items do
    if self.done then return nil end
    local ok, err = self:fetch()
    if not ok then return fail(self, err) end
  end
  local item = self.items[self.index]
  self.items[self.index] = nil -- drop references as we go
  self.index = self.index + 1
  self.yielded = self.yielded + 1
  return item
end

--- After a failure, clears the error so the walk goes on from the page that failed
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
  local list = {}
  while true do
    local item, err = self:next()
    if err then return nil, err end
    if item == nil then return list end
    list[#list + 1] = item
  end
end

function Pager:__tostring()
  local state = self.err and ("failed: " .. self.err.code) or (self.done and "last page fetched" or "walking")
  return string.format("klikit.pager(%s, %d pages, %d yielded, %s)", self.path, self.pages, self.yielded, state)
end

return M
