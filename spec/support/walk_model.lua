-- The random scenarios of spec/walk_model_spec.lua (also used to replay one seed).
local data = require "klikit_sandbox.data"
local util = require "klikit.util"

local M = {}
local BASE = data.parse_time("2026-01-01T00:00:00Z")

local function pick(r, list) return list[r(#list)] end

-- One scenario, drawn from seed `seed`.
function M.scenario(seed)
  local r = data.prng(seed * 7919)
  local span = pick(r, { 3600, 6 * 3600, 86400, 30 * 86400, 200 * 86400 })
  local set = { seed = seed, orders = 20 + r(260), from = util.format_time(BASE),
    to = util.format_time(BASE + span), open = r(100), ms = r(2) == 1 }
  if r(10) <= 7 then set.same_second = r(60) end
  if r(10) <= 3 then set.bursts = { { at = r(span) - 1, count = 5 + r(120) } } end
  local q = { ties = pick(r, { "id", "random", "updated" }), rounding = pick(r, { "floor", "round", "ceil" }),
    time_format = pick(r, { "z", "z", "fraction", "offset", "mixed" }),
    missing = pick(r, { 0, 0, 0, 0.05, 0.3 }), total = pick(r, { "exact", "exact", "lag", "absent", "inflate" }),
    past_end = pick(r, { "empty", "last_page" }), list_key = pick(r, { "orders", "orders", "results", "bare" }),
    empty = pick(r, { "normal", "object", "204" }) }
  if r(10) <= 2 then
    -- a clamp the server does not echo can only be seen through an exact total
    q.max_size, q.echo_size = r(30), q.total ~= "exact" or r(2) == 1
  end
  -- a total too high and pages that never run out contradict each other: no walk can
  -- tell where such a server's rows end (walk_servers_spec covers each alone)
  if q.total == "inflate" then q.past_end = "empty" end
  -- nor can one that gives no total or size, repeats its last page past the end and
  -- shuffles ties on every request: such walks end in walk_incomplete, by design
  -- nor can one without a total that shuffles ties and clamps pages small: two rows of a
  -- second may look like one, page after page
  if (q.total == "absent" or q.list_key == "bare") and q.ties == "random" then
    q.past_end, q.max_size = "empty", nil
  end
  -- nor can one whose total stays below its rows while it shuffles ties: the rows seen
  -- disprove the total, and nothing else can prove a shuffled list complete (such walks
  -- end in walk_incomplete; walk_servers_spec checks that)
  if q.total == "lag" and q.ties == "random" then q.total = "exact" end
  local churn = { seed = seed, arrive = pick(r, { 0, 0, 1, 2 }), mode = pick(r, { "top", "inside" }),
    status = pick(r, { 0, 0, 0, 1 }), delete = pick(r, { 0, 0, 0, 1 }), limit = pick(r, { 5, 20, 60 }),
    from = set.from, to = set.to }
  if r(12) == 1 then -- a server whose times have no zone: nothing moves while it is walked
    q.time_format, churn = "nozone", { seed = seed }
  end
  local params = { size = pick(r, { 1, 2, 3, 5, 7, 10, 25, 50, 100 }) }
  local lo, hi = BASE, BASE + span
  if r(3) == 1 then
    local a, b = BASE + r(span) - 1, BASE + r(span) - 1
    if a > b then a, b = b, a end
    lo, hi = a, b + 1
    if set.ms and r(2) == 1 then lo, hi = lo + r(999) / 1000, hi + r(999) / 1000 end
  end
  params.from, params.to = lo, hi
  if r(2) == 1 then params.from, params.to = util.format_time(lo), util.format_time(hi) end
  if r(5) == 1 then params.status = pick(r, { 1, 2, 3, 4, 5 }) end
  if r(6) == 1 then params.branch_id = pick(r, { 5913, 1293, 6021, 6188 }) end
  return set, q, churn, params
end

return M
