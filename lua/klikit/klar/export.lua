--- klar.export{ source, sink, state_file, from, to, lookback, mapping, filters, on_progress }
-- -> summary | nil, err (err.summary: what was done before the failure).
--
-- One run walks the klikit orders of [start, to) (newest first, exactly once), maps them,
-- and uploads them in batches. After every batch Klar answered, the state file records
-- the walk's position after that batch, with the orders Klar rejected and those that
-- could not be mapped; a killed run resumes from there, so at most the batch in flight is
-- sent again. A run that finishes moves the checkpoint to its `to`; the next run starts
-- at checkpoint - lookback (so late cancellations are sent again: Klar upserts by id),
-- and first retries the orders rejected or unmappable before (fetched by id).
local errors = require("klikit.errors")
local util = require("klikit.util")
local mapping = require("klikit.klar.mapping")
local mapping_options = require("klikit.klar.mapping_options")
local state_file = require("klikit.klar.export_state")
local text = require("klikit.klar.lines").text
local core = require("klikit.core")

local M = {}
local invalid = errors.invalid

M.LOOKBACK = 7 * 86400
local KEYS = { source = true, sink = true, state_file = true, from = true, to = true, lookback = true,
  mapping = true, filters = true, on_progress = true }
local FILTERS = { status = true, provider_id = true, branch_id = true }

local function check(opts)
  if type(opts) ~= "table" then invalid("klar.export expects a table of options, got " .. type(opts)) end
  util.check_keys("klar.export", opts, KEYS)
  local src, sink = opts.source, opts.sink
  if type(src) ~= "table" or type(src.orders) ~= "function" or type(src.order) ~= "function" then
    invalid("klar.export: source must be a klikit client (klikit.new{...})")
  end
  if type(sink) ~= "table" or type(sink.send_batch) ~= "function" then
    invalid("klar.export: sink must be a Klar client (klar.new{...})")
  end
  if type(opts.state_file) ~= "string" or opts.state_file == "" or opts.state_file:find("%z") then
    invalid("klar.export: state_file must be a path (where the checkpoint is kept between runs)")
  end
  local _, from_t = util.check_time("from", opts.from)
  local _, to_t = util.check_time("to", opts.to)
  local lookback = opts.lookback == nil and M.LOOKBACK or opts.lookback
  if type(lookback) ~= "number" or lookback ~= lookback or lookback < 0 or lookback > 90 * 86400 then
    invalid("klar.export: lookback is a number of seconds in 0..7776000 (90 days), got " .. tostring(opts.lookback))
  end
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    invalid("klar.export: on_progress must be a function")
  end
  local filters = util.check_keys("klar.export: filters", opts.filters, FILTERS)
  return { source = src, sink = sink, path = opts.state_file, from = from_t and math.floor(from_t),
    to = to_t and math.ceil(to_t), lookback = math.floor(lookback), filters = filters,
    settings = mapping_options.check(opts.mapping), on_progress = opts.on_progress }
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function sorted_keys(...)
  local out, seen = {}, {}
  for i = 1, select("#", ...) do
    for id in pairs(select(i, ...)) do
      if not seen[id] then seen[id], out[#out + 1] = true, id end
    end
  end
  table.sort(out)
  return out
end

local Run = {}
Run.__index = Run

-- Hands the progress to on_progress: counts so far and orders walked per second.
function Run:progress(phase)
  if not self.c.on_progress then return end
  local s, elapsed = self.summary, core.monotonic() - self.t0
  self.c.on_progress { phase = phase, walked = s.walked, mapped = s.mapped, sent = s.sent, accepted = s.accepted,
    rejected = count(s.rejected), unmappable = count(s.unmappable), batches = s.batches, elapsed = elapsed,
    rate = elapsed > 0 and s.walked / elapsed or 0 }
end

function Run:save()
  if self.state.run then self.state.run.retry = sorted_keys(self.retry) end
  return state_file.write(self.c.path, self.state)
end

-- Maps one order into the batch, or records why it cannot be mapped.
function Run:take(order)
  local id = text(order.id) or "?"
  local k, err = mapping.from_klikit(order, self.c.settings)
  if k then
    self.summary.mapped = self.summary.mapped + 1
    self.batch[#self.batch + 1] = k
    return
  end
  self.state.unmappable[id], self.summary.unmappable[id] = err.message, err.message
  self.state.rejected[id], self.retry[id] = nil, nil
end

-- Maps the order into the batch, and uploads the batch once it is full.
function Run:add(order, pager, phase)
  self:take(order)
  if #self.batch < (self.c.sink.batch_size or 250) then return true end
  return self:flush(pager, phase)
end

-- Uploads the batch; records Klar's verdict, then the walk position, in the state file.
function Run:flush(pager, phase)
  local batch = self.batch
  if #batch > 0 then
    local judged, err = self.c.sink:send_batch(batch, "json")
    if not judged then return nil, err end
    local s = self.summary
    s.batches, s.sent, s.accepted = s.batches + 1, s.sent + #batch, s.accepted + judged.accepted
    for _, k in ipairs(batch) do
      local failed = judged.failed[k.id]
      self.state.rejected[k.id], self.state.unmappable[k.id], self.retry[k.id] = failed, nil, nil
      if failed then s.rejected[k.id] = failed end
    end
    self.batch = {}
  end
  if pager then self.state.run.walk = pager:state() end
  local ok, werr = self:save()
  if not ok then return nil, werr end
  self:progress(phase)
  return true
end

function Run:walk(pager)
  while true do
    local order, err = pager:next()
    if err then return nil, err end
    if order == nil then break end
    self.summary.walked = self.summary.walked + 1
    self.retry[text(order.id) or "?"] = nil -- sent by this walk: no retry by id
    local ok, ferr = self:add(order, pager, "walk")
    if not ok then return nil, ferr end
  end
  return self:flush(pager, "walk")
end

-- Errors of the source that stop the run (klikit or the network is down, the credential
-- is refused); any other error when fetching one order stays with that order.
local SYSTEMIC = { auth_missing = true, auth_invalid_credential = true, auth_revoked = true, client_closed = true,
  deadline_exceeded = true }

-- Orders rejected or unmappable before (and not walked again): fetched by id and sent.
function Run:retry_old()
  for _, id in ipairs(sorted_keys(self.retry)) do
    local order, err = self.c.source:order(id)
    if err and err.status == 404 then -- gone from klikit: nothing left to send
      self.state.rejected[id], self.state.unmappable[id], self.retry[id] = nil, nil, nil
      self.summary.vanished[#self.summary.vanished + 1] = id
    elseif err and (err.retryable or SYSTEMIC[err.code]) then
      return nil, err
    elseif err then -- this order only: it stays pending, with why, and the run goes on
      local why = "cannot be fetched again: " .. tostring(err.code) .. ": " .. tostring(err.message)
      self.summary.retry_failed[id], self.retry[id] = why, nil
      if self.state.unmappable[id] then self.state.unmappable[id] = why else self.state.rejected[id] = { why } end
    else
      self.summary.retried = self.summary.retried + 1
      local ok, ferr = self:add(order, nil, "retry")
      if not ok then return nil, ferr end
    end
  end
  return self:flush(nil, "retry")
end

-- The pager of the run in the state: resumed from its saved position, or started.
function Run:pager()
  local run, c = self.state.run, self.c
  if run.walk then
    local pager, err = c.source:orders { resume = run.walk }
    if err and err.code == "request_invalid" then
      return nil, state_file.error(c.path, "its walk position cannot be resumed: " .. tostring(err.message))
    end
    return pager, err
  end
  local params = { from = util.format_time(run.from), to = util.format_time(run.to) }
  for k, v in pairs(c.filters or {}) do params[k] = v end
  return c.source:orders(params)
end

function Run:go()
  local st, c, s = self.state, self.c, self.summary
  if st.run then
    s.resumed = true
  else
    local from = st.checkpoint and (st.checkpoint - c.lookback) or c.from
    if st.checkpoint and c.from and c.from > from then from = c.from end
    if not from then
      invalid("klar.export: from is required for the first run (" .. c.path .. " has no checkpoint yet)")
    end
    local now = os.time()
    local to = c.to or now
    -- the checkpoint never passes the present: orders created later than now (by this
    -- machine's clock) are the next run's, however far `to` reaches
    st.run = { from = from, to = math.max(from, to), phase = from < to and "walk" or "retry",
      checkpoint = math.max(from, math.min(to, now)) }
    self.retry = {}
    for _, id in ipairs(sorted_keys(st.rejected, st.unmappable)) do self.retry[id] = true end
    local ok, err = self:save()
    if not ok then return nil, err end
  end
  s.from, s.to = st.run.from, st.run.to
  if st.run.phase == "walk" then
    local pager, err = self:pager()
    if not pager then return nil, err end
    local ok, werr = self:walk(pager)
    if not ok then return nil, werr end
    st.run.phase, st.run.walk = "retry", nil
    ok, werr = self:save()
    if not ok then return nil, werr end
  end
  local ok, err = self:retry_old()
  if not ok then return nil, err end
  st.checkpoint = math.max(st.checkpoint or 0, st.run.checkpoint or st.run.to)
  st.run = nil
  ok, err = self:save()
  if not ok then return nil, err end
  s.checkpoint = st.checkpoint
  self:progress("done")
  return s
end

local function run(c)
  local st, err = state_file.read(c.path)
  if not st then return nil, err end
  local self = setmetatable({ c = c, state = st, batch = {}, retry = {}, t0 = core.monotonic(),
    summary = { walked = 0, mapped = 0, sent = 0, accepted = 0, rejected = {}, unmappable = {}, batches = 0,
      retried = 0, vanished = {}, retry_failed = {}, checkpoint = st.checkpoint, resumed = false } }, Run)
  for _, id in ipairs(st.run and st.run.retry or {}) do self.retry[id] = true end
  local summary, rerr = self:go()
  if summary then return summary end
  rerr.summary = self.summary
  return nil, rerr
end

---@param opts klikit.ExportOptions
---@return klikit.ExportSummary? summary
---@return klikit.Error? err
function M.export(opts)
  local c = check(opts)
  -- one file, one lock, whatever name (symlink) it is reached by; the rename then
  -- replaces the file itself, not the link
  local real, why = core.realpath(c.path)
  if not real then return nil, state_file.error(c.path, why) end
  c.path = real
  local lock, err = state_file.lock(c.path)
  if not lock then return nil, err end
  local ok, summary, rerr = pcall(run, c)
  lock:unlock()
  if not ok then error(summary, 0) end
  return summary, rerr
end

return M
