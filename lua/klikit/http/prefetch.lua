--- Pages of a page-number list fetched K at once (client:branches{ concurrency = K }):
-- once a page's data.total says how many pages the list has, the pages after it are
-- fetched together, each by its own task (klikit.http.runner), and handed to the proof
-- engine (klikit.http.passes) one by one, in order, as if fetched then. The engine's
-- proof is unchanged: pages are observations it checks across passes whatever their order.
local page_mod = require("klikit.http.page")

local M = {}
M.AHEAD = 4 -- batches of at most K x AHEAD pages: a list that shrinks wastes little

--- Fetches pages first..last of `query` -> { [page] = { pg = ..., err = ... } }
function M.pages(session, path, query, keys, projection, first, last, k)
  local out, nxt = {}, first
  local function worker()
    while nxt <= last do
      local p = nxt
      nxt = p + 1
      local q = {}
      for key, v in pairs(query) do q[key] = v end
      q.page = p
      local pg, err = page_mod.fetch(session, path, q, keys, projection)
      out[p] = { pg = pg, err = err }
    end
  end
  local runner = require("klikit.http.runner").new()
  for _ = 1, math.min(k, last - first + 1) do runner:spawn(worker) end
  runner:wait(function() return false end)
  return out
end

--- The page `passes` is about to fetch, from its batch, fetching the next batch when the
--- server's total says there are pages ahead -> pg, err, true | nil (fetch it yourself)
function M.take(passes, q)
  local cache = passes.prefetched
  local hit = cache and cache[passes.page]
  if hit then
    cache[passes.page] = nil
    return hit.pg, hit.err, true
  end
  local per = math.max(1, math.min(passes.ctx.s_eff, passes.ctx.most))
  if not passes.total_max or passes.ctx.most == 0 then return nil end
  local last = passes.first_page + math.ceil(passes.total_max / per) - 1
  if last <= passes.page then return nil end
  last = math.min(last, passes.page + passes.concurrency * M.AHEAD - 1)
  passes.prefetched = M.pages(passes.session, passes.path, q, passes.keys, passes.projection, passes.page, last,
    passes.concurrency)
  local n = last - passes.page + 1
  passes.ctx.tally.requests, passes.requests = passes.ctx.tally.requests + n, passes.requests + n
  return M.take(passes, q)
end

return M
