--- The page_number pager style: page 1, 2, ... of a list, with the proof of
-- completeness of klikit.http.passes, and its state as a value.
local passes = require("klikit.http.passes")
local errors = require("klikit.errors")

local M = {}

--- opts: query, keys (list keys), page (first page), size (nil: the server's default),
--- skip (ids already yielded), concurrency (pages fetched at once once the total is known).
function M.new(session, path, opts)
  local tally = { requests = 0 }
  local walk = passes.new { session = session, path = path, query = opts.query or {}, keys = opts.keys,
    first_page = opts.page, skip = opts.skip, concurrency = opts.concurrency,
    ctx = { size = opts.size, s_eff = opts.size or math.huge, most = 0, tally = tally } }
  walk.tally = tally
  --- The list, its page size and every id yielded so far: the next walk starts a fresh
  --- pass and skips them.
  function walk.state(self)
    local skip = {}
    for id in pairs(self.union) do skip[#skip + 1] = id end
    for id in pairs(self.skip) do if not self.union[id] then skip[#skip + 1] = id end end
    return { style = "page_number", query = self.query, keys = self.keys, page = self.first_page,
      size = self.ctx.size, skip = skip }
  end
  return walk
end

--- Rebuilds a page_number walk from state(); raises request_invalid on a malformed one.
function M.resume(session, path, state)
  local ok = type(state.query) == "table" and type(state.keys) == "table" and type(state.skip) == "table"
    and (state.page == nil or type(state.page) == "number") and (state.size == nil or type(state.size) == "number")
  if not ok then errors.invalid("resume: not a page_number pager state") end
  local skip = {}
  for _, id in ipairs(state.skip) do skip[id] = true end
  return M.new(session, path, { query = state.query, keys = state.keys, page = state.page, size = state.size,
    skip = skip })
end

return M
