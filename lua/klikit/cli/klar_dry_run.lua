--- `klikit export-klar --dry-run`: what the next export would send, checked by Klar and
-- stored nowhere. It reads the state file (never writes or locks it), walks the range the
-- next run would walk (the unfinished run's from its saved position; else from the
-- checkpoint less the lookback, or --from), maps every order, and sends the mapped orders
-- in batches to Klar's validate endpoint (POST /<version>/orders/validate, which stores
-- nothing). Orders left pending by earlier runs (rejected, unmappable) are counted, not
-- fetched. Memory: one page and one batch.
local core = require("klikit.core")
local util = require("klikit.util")
local state_file = require("klikit.klar.export_state")
local mapping = require("klikit.klar.mapping")
local mapping_options = require("klikit.klar.mapping_options")
local fail = require("klikit.cli.fail")

local M = {}

local function count(t)
  local n = 0
  for _ in pairs(t or {}) do n = n + 1 end
  return n
end

-- The pager the next run would walk (or false: nothing to walk, or nil, err), and the
-- range it covers.
local function pager_of(c, st)
  local run = st.run
  if run and run.phase == "walk" and run.walk then
    local pager, err = c.source:orders { resume = run.walk }
    return pager, err, run.from, run.to, true
  end
  if run then return false, nil, run.from, run.to, true end -- its walk is done: only retries remain
  local from = st.checkpoint and (st.checkpoint - c.lookback) or c.from
  if st.checkpoint and c.from and c.from > from then from = c.from end
  if not from then
    fail.usage("--from is required for the first run (" .. c.path .. " has no checkpoint yet)")
  end
  local to = c.to or os.time()
  if to <= from then return false, nil, from, to, false end
  local params = { from = util.format_time(from), to = util.format_time(to) }
  for k, v in pairs(c.filters or {}) do params[k] = v end
  local pager, err = c.source:orders(params)
  return pager, err, from, to, false
end

--- c: { source, sink, path, from, to (Unix seconds or nil), lookback, filters, mapping, on_progress }
--- -> summary | nil, err (err.summary: what was done before it).
function M.run(c)
  c.settings = mapping_options.check(c.mapping)
  local st, err = state_file.read(c.path)
  if not st then return nil, err end
  local s = { dry_run = true, walked = 0, mapped = 0, sent = 0, valid = 0, batches = 0, invalid = {},
    unmappable = {}, pending = count(st.rejected) + count(st.unmappable), checkpoint = st.checkpoint }
  local pager, perr, from, to, resumed = pager_of(c, st)
  s.from, s.to, s.resumed = from, to, resumed
  if pager == nil then
    perr.summary = s
    return nil, perr
  end
  local batch, t0 = {}, core.monotonic()
  -- what klar.export hands its on_progress (klar.terminal_progress draws it)
  local function progress(phase)
    if not c.on_progress then return end
    local elapsed = core.monotonic() - t0
    c.on_progress { phase = phase, walked = s.walked, mapped = s.mapped, sent = s.sent, accepted = s.valid,
      rejected = count(s.invalid), unmappable = count(s.unmappable), batches = s.batches, elapsed = elapsed,
      rate = elapsed > 0 and s.walked / elapsed or 0 }
  end
  local function flush()
    if #batch == 0 then return true end
    local judged, berr = c.sink:send_batch(batch, "validate")
    if not judged then return nil, berr end
    s.batches, s.sent, s.valid = s.batches + 1, s.sent + #batch, s.valid + judged.accepted
    for id, messages in pairs(judged.failed) do s.invalid[id] = messages end
    batch = {}
    progress("walk")
    return true
  end
  while pager do
    local order, werr = pager:next()
    if werr then err = werr break end
    if order == nil then break end
    s.walked = s.walked + 1
    local k, why = mapping.from_klikit(order, c.settings)
    if k then
      s.mapped = s.mapped + 1
      batch[#batch + 1] = k
      if #batch >= (c.sink.batch_size or 250) then
        local ok, ferr = flush()
        if not ok then err = ferr break end
      end
    else
      s.unmappable[type(order.id) == "number" and string.format("%d", order.id) or tostring(order.id)] = why.message
    end
  end
  if not err then
    local ok, ferr = flush()
    if not ok then err = ferr end
  end
  progress("done")
  if err then
    err.summary = s
    return nil, err
  end
  return s
end

return M
