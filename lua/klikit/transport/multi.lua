--- Concurrent requests in plain Lua, without nginx. Tasks are coroutines; a request made
-- inside a task through a driver-aware transport yields to the driver, which runs it with
-- the other tasks' requests on one libcurl multi (klikit.core.new_multi) and resumes the
-- task with the answer when it is there.
--
--   local multi = require("klikit.transport.multi")
--   local driver = multi.new {}
--   local t = driver:transport(require("klikit.transport.curl").new {})  -- or a klikit.core transport
--   local client = klikit.new { transport = t, sleep = function(s) return driver:sleep(s) end, ... }
--   driver:spawn(function(id) return client:order(id) end, 71280866)
--   local results = driver:run()   -- every task to its end; results[i] = { n = , ... } of task i
--
-- t:request(req) answers as klikit.transport.curl does. Each concurrent request of one
-- klikit.transport.curl transport gets its own easy handle with the same settings
-- (connections are shared in the multi); a bare klikit.core transport has one handle, so
-- its requests take turns. driver:sleep(s) lets the other tasks run meanwhile.
--
-- Outside the driver's tasks (the main thread, or a coroutine a task made for itself),
-- t:request blocks and driver:sleep sleeps: both work anywhere and overlap only in tasks.
-- A task's own coroutine.yield (outside a coroutine of its own) is passed to whoever
-- resumed run() when run() itself runs in a coroutine, else it is an error.
-- An error in a task stops the others (their transfers are removed, to-be-closed variables
-- closed on 5.4) and run() raises it: a string with the task's traceback appended; any
-- other value as it is (the traceback is then in driver.traceback).
-- Lua 5.1 (not LuaJIT) cannot yield across pcall, a metamethod or a `for ... in` iterator:
-- there, requests inside a task must not be made from one of those.
local core = require("klikit.core")
local curl = require("klikit.transport.curl")

local M = {}

local unpack = rawget(table, "unpack") or rawget(_G, "unpack") -- 5.2+, or 5.1 and LuaJIT
local close_coroutine = rawget(coroutine, "close") -- 5.4
local function pack(...) return { n = select("#", ...), ... } end

-- The first value of every yield of the driver's protocol: no other code can produce it,
-- so any other yield is foreign.
local MARK = setmetatable({}, { __tostring = function() return "klikit.transport.multi" end })
local RAISE = {} -- resume value of a request that raised: the error follows

local MAX_WAIT = 1 -- seconds one perform may wait (the loop goes round again)

local Driver = {}
Driver.__index = Driver
local Wrapper = {}
Wrapper.__index = Wrapper

local function fail(msg) error("klikit.transport.multi: " .. msg, 3) end

local driver_of = setmetatable({}, { __mode = "k" }) -- a task's coroutine -> its driver

local function current(self)
  local co = coroutine.running()
  return co and self.by_co[co]
end

--- The driver whose task is running, or nil: klikit.transport.curl and the default sleep
--- ask, so a client's requests and waits in a task overlap with the other tasks'.
function M.current()
  local co = coroutine.running()
  return co and driver_of[co] or nil
end

--- driver = multi.new{}: one libcurl multi; any number of runs, one at a time.
function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then fail("new takes a table of options") end
  return setmetatable({ multi = core.new_multi(), by_co = {}, tasks = {}, ready = {}, timers = {},
    inflight = {}, wrappers = setmetatable({}, { __mode = "k" }), wrapped = setmetatable({}, { __mode = "kv" }),
    live = 0 }, Driver)
end

--- Registers fn(...) as a task of the next (or the current) run; returns its number.
function Driver:spawn(fn, ...)
  if type(fn) ~= "function" then fail("spawn takes a function") end
  local task = { co = coroutine.create(fn), index = #self.tasks + 1 }
  self.tasks[task.index] = task
  self.by_co[task.co] = task
  driver_of[task.co] = self
  self.live = self.live + 1
  self.ready[#self.ready + 1] = { task = task, values = pack(...) }
  return task.index
end

--- Sleeps `seconds`: inside a task the other tasks run meanwhile, elsewhere it blocks.
function Driver:sleep(seconds)
  if type(seconds) ~= "number" or not (seconds >= 0 and seconds <= 86400) then
    fail("sleep takes a number of seconds from 0 to 86400")
  end
  if current(self) then
    coroutine.yield(MARK, "sleep", seconds)
  else
    core.sleep(seconds)
  end
end

-- Handles ------------------------------------------------------------------------------

-- A free handle of the wrapper (made when the transport can make more), or nil. Once
-- closed, the closed handle (its request raises, as on the transport itself).
local function free_handle(w)
  if w.closed then return w.base_handle end
  for _, h in ipairs(w.handles) do
    if not w.busy[h] then return h end
  end
  if w.base_handle ~= w.base then -- a klikit.transport.curl: one more with its settings
    local h = w.base:new_handle()
    w.handles[#w.handles + 1] = h
    return h
  end
end

local function schedule(self, task, values)
  self.ready[#self.ready + 1] = { task = task, values = values }
end

-- Starts a task's request on a free handle, or queues it until one is free.
local function start(self, task, w, req)
  local h = free_handle(w)
  if not h then
    w.waiting[#w.waiting + 1] = { task = task, req = req }
    return
  end
  local ok, why = pcall(self.multi.add, self.multi, h, req)
  if not ok then return schedule(self, task, pack(RAISE, why)) end -- raised in the task, as request raises
  w.busy[h] = true
  self.inflight[h] = { task = task, wrapper = w }
end

local function deliver(self, done)
  local rec = self.inflight[done.transport]
  if not rec then return end
  self.inflight[done.transport] = nil
  local w = rec.wrapper
  w.busy[done.transport] = nil
  if done.resp then schedule(self, rec.task, pack(done.resp)) else schedule(self, rec.task, pack(nil, done.err)) end
  local nxt = table.remove(w.waiting, 1)
  if nxt then start(self, nxt.task, w, nxt.req) end
end

-- The loop -----------------------------------------------------------------------------

local function traceback(task)
  return debug.traceback(task.co, "in task " .. task.index .. " of the driver:", 0)
end

-- Resumes a task once and acts on what it yields. Returns nil, or "failed", err, trace,
-- or "yield", values (a foreign yield to pass on).
local function step(self, task, values)
  local r = pack(coroutine.resume(task.co, unpack(values, 1, values.n)))
  if not r[1] then return "failed", r[2], traceback(task) end
  if coroutine.status(task.co) == "dead" then
    task.results = pack(unpack(r, 2, r.n))
    self.by_co[task.co] = nil
    self.live = self.live - 1
    return nil
  end
  if r[2] ~= MARK then return "yield", pack(unpack(r, 2, r.n)) end
  if r[3] == "request" then
    start(self, task, r[4], r[5])
  elseif r[3] == "sleep" then
    self.timers[#self.timers + 1] = { at = core.monotonic() + r[4], task = task }
  end
  return nil
end

-- Moves the sleepers that are due to the ready queue (earliest first); returns the time
-- of the next one, or nil.
local function wake(self)
  local now, nxt, due, keep = core.monotonic(), nil, {}, {}
  for _, t in ipairs(self.timers) do
    if t.at <= now then due[#due + 1] = t else keep[#keep + 1] = t end
    if t.at > now and (not nxt or t.at < nxt) then nxt = t.at end
  end
  table.sort(due, function(a, b) return a.at < b.at end)
  for _, t in ipairs(due) do schedule(self, t.task, pack()) end
  self.timers = keep
  return nxt
end

-- Runs until every task ended ("done"), one failed ("failed", err, trace), one yielded
-- foreign values ("yield", task, values), or stop_when(), checked after each step, holds
-- ("until": the tasks stay where they are, for a later run).
local function loop(self, stop_when)
  while self.live > 0 do
    while #self.ready > 0 do
      local item = table.remove(self.ready, 1)
      local what, a, b = step(self, item.task, item.values)
      if what == "failed" then return what, item.task, a, b end
      if what == "yield" then return what, item.task, a end
      if stop_when and stop_when() then return "until" end
    end
    local nxt = wake(self)
    if #self.ready == 0 and self.live > 0 then
      local wait = nxt and math.max(0, nxt - core.monotonic()) or MAX_WAIT
      if self.multi:pending() > 0 then
        for _, done in ipairs(self.multi:perform(math.min(wait, MAX_WAIT))) do deliver(self, done) end
      elseif nxt then
        core.sleep(wait)
      else
        error("klikit.transport.multi: " .. self.live .. " tasks wait for nothing", 0)
      end
      wake(self)
    end
  end
  return "done"
end

-- Ends a run: in-flight transfers removed, waiting requests and sleepers dropped, tasks
-- left suspended closed (5.4 closes their to-be-closed variables).
local function stop(self)
  for h, rec in pairs(self.inflight) do
    pcall(self.multi.remove, self.multi, h)
    rec.wrapper.busy[h] = nil
  end
  for w in pairs(self.wrappers) do w.waiting = {} end
  local tasks = self.tasks
  self.inflight, self.ready, self.timers, self.by_co, self.tasks, self.live = {}, {}, {}, {}, {}, 0
  self.running = false
  if close_coroutine then
    for _, task in ipairs(tasks) do
      if coroutine.status(task.co) == "suspended" then pcall(close_coroutine, task.co) end
    end
  end
  return tasks
end

--- Runs every task to its end; returns the results of each, in spawn order:
--- results[i] = { n = count, values... }. Raises a task's error after stopping the others.
--- With `stop_when` (a function), returns as soon as it holds, leaving the tasks
--- suspended for the next run (or stop); results are then only returned at the end.
function Driver:run(stop_when)
  if self.running then fail("run is already running") end
  if stop_when and stop_when() then return nil end
  self.running = true
  self.traceback = nil
  while true do
    local ok, what, task, a, b = pcall(loop, self, stop_when)
    if not ok then
      stop(self)
      error(what, 0)
    end
    if what == "until" then
      self.running = false
      return nil
    end
    if what == "done" then break end
    if what == "failed" then
      stop(self)
      self.traceback = b
      if type(a) == "string" then error(a .. "\n" .. b, 0) end
      error(a, 0)
    end
    -- a foreign yield: passed to whoever resumed run(), its answer back to the task
    local co, main = coroutine.running()
    if not co or main then
      stop(self)
      error("klikit.transport.multi: task " .. task.index .. " yielded values of its own (coroutine.yield "
        .. "in a task; yield in a coroutine of the task's own instead)\n" .. traceback(task), 0)
    end
    table.insert(self.ready, 1, { task = task, values = pack(coroutine.yield(unpack(a, 1, a.n))) })
  end
  local results = {}
  for i, task in ipairs(stop(self)) do results[i] = task.results end
  return results
end

--- Drops every task where it stands (their transfers removed); a run of its own may
--- call it from a task's caller only, not from a task.
function Driver:stop()
  if current(self) then fail("stop from inside a task") end
  stop(self)
end

--- Frees the libcurl multi now instead of at garbage collection (not during a run).
function Driver:close()
  if self.running then fail("close during run") end
  self.multi:close()
end

-- Driver-aware transports ----------------------------------------------------------------

--- A transport whose requests yield to the driver inside its tasks and block elsewhere.
--- base: a klikit.transport.curl transport, or a klikit.core transport (the same object
--- for the same base: its handles are counted once).
function Driver:transport(base)
  if base ~= nil and self.wrapped[base] then return self.wrapped[base] end
  local h
  if type(base) == "table" and type(base.handle) == "userdata" and type(base.new_handle) == "function" then
    h = base.handle
  elseif type(base) == "userdata" and tostring(base):find("^klikit%.core%.transport") then
    h = base
  else
    fail("transport takes a klikit.transport.curl transport or a klikit.core transport")
  end
  local w = setmetatable({ driver = self, base = base, base_handle = h, handles = { h }, busy = {},
    waiting = {} }, Wrapper)
  self.wrappers[w] = true
  self.wrapped[base] = w
  return w
end

--- The transport contract's request: resp | nil, { code, message, curl_code, trace }.
function Wrapper:request(req)
  if type(req) ~= "table" then return curl.call(self.base_handle, req) end -- raises as it does
  if current(self.driver) then
    local r = pack(coroutine.yield(MARK, "request", self, req))
    if r[1] == RAISE then error(r[2], 0) end
    return unpack(r, 1, r.n)
  end
  local h = free_handle(self)
  if not h then
    fail("this transport's only handle is in a transfer of the driver; call it from a task of the driver "
      .. "(or wrap a klikit.transport.curl transport, which makes more)")
  end
  return curl.call(h, req)
end

--- Closes every handle; a request in flight, or waiting for a handle, ends with
--- network_error.
function Wrapper:close()
  self.closed = true
  for i = #self.handles, 1, -1 do
    local h = self.handles[i]
    if h == self.base_handle and type(self.base) == "table" then self.base:close() else h:close() end
  end
  local waiting = self.waiting
  self.waiting = {}
  for _, item in ipairs(waiting) do
    schedule(self.driver, item.task, pack(nil, { code = "network_error",
      message = "the transport was closed while its request waited for a handle" }))
  end
end

function Wrapper:__tostring()
  return "klikit.transport.multi (" .. #self.handles .. " handles over " .. tostring(self.base) .. ")"
end

return M
