--- Runs the slices of a parallel walk at once: tasks that a consumer drives until what it
-- waits for is there.
--   runner:spawn(fn)   a task
--   runner:wait(pred)  runs the tasks until pred() holds (true) or no task is left (pred())
--   runner:sleep(s)    inside a task: lets the others run meanwhile
--   runner:notify()    inside a task: progress the consumer may be waiting for
--   runner:stop()      tasks end at their next sleep or notify; nothing is resumed after
-- Two kinds. Inside nginx, light threads (ngx.thread) over cosockets. Elsewhere,
-- coroutines; a request made from one goes through the curl-multi driver when the C core
-- has one (core.new_multi), so K requests are in flight at once, and blocks otherwise
-- (the tasks then take turns: correct, not faster). A task's session sleeps (retries,
-- the rate limit) yield to the runner through M.current().
local core = require("klikit.core")

local M = {}
local SLEEP, REQUEST = {}, {} -- what a task yields: private markers, never a user's value
local runner_of = setmetatable({}, { __mode = "k" }) -- coroutine -> its runner

--- The coroutine runner the running code is a task of, or nil.
function M.current()
  local co = coroutine.running()
  return co and runner_of[co] or nil
end

local Co = {}
Co.__index = Co

--- A coroutine runner (plain Lua).
function M.coroutines()
  -- abandons: a stopped task is never resumed (a light thread runs to its next yield)
  return setmetatable({ tasks = {}, born = {}, abandons = true,
    multi = core.new_multi and core.new_multi() or nil }, Co)
end

function Co:spawn(fn)
  local co = coroutine.create(fn)
  runner_of[co] = self
  self.born[#self.born + 1] = { co = co, wake = 0 }
end

function Co:sleep(seconds)
  if self.stopped then error(self.stopped, 0) end
  coroutine.yield(SLEEP, core.monotonic() + seconds)
end

function Co:notify()
  if self.stopped then error(self.stopped, 0) end
  coroutine.yield(SLEEP, 0)
end

--- Inside a task: `req` through the curl-multi driver on `transport` (a klikit.core
--- transport no other task uses) -> what transport:request returns.
function Co.request(_, transport, req)
  return coroutine.yield(REQUEST, transport, req)
end

-- Resumes task t with ...; keeps what it yielded. A task that raised stops every task.
function Co:resume(t, ...)
  local ok, what, a, b = coroutine.resume(t.co, ...)
  if not ok then
    if what == self.stopped then return end
    self:stop()
    error(what, 0)
  end
  if coroutine.status(t.co) == "dead" then return end
  if what == REQUEST then
    t.wake = math.huge
    self.multi:add(a, b)
    self.waiting[a] = t
  else
    t.wake = what == SLEEP and a or 0
  end
  return t
end

function Co:wait(pred)
  self.waiting = self.waiting or setmetatable({}, { __mode = "k" })
  while not pred() do
    for _, t in ipairs(self.born) do self.tasks[#self.tasks + 1] = t end
    self.born = {}
    local kept, now, soonest = {}, core.monotonic(), math.huge
    for _, t in ipairs(self.tasks) do
      if t.wake <= now then t = self:resume(t) end
      if t then
        kept[#kept + 1] = t
        if t.wake < soonest then soonest = t.wake end
      end
    end
    self.tasks = kept
    if #kept == 0 and #self.born == 0 then return pred() end
    if self.multi and self.multi:pending() > 0 then
      local wait = math.max(0, math.min(soonest - core.monotonic(), 0.05))
      for _, done in ipairs(self.multi:perform(wait)) do
        local t = self.waiting[done.transport]
        self.waiting[done.transport] = nil
        t.wake, t.result = 0, done
      end
      local still = {}
      for _, t in ipairs(self.tasks) do
        local r = t.result
        t.result = nil
        if r then t = self:resume(t, r.resp, r.err) end
        if t then still[#still + 1] = t end
      end
      self.tasks = still
    elseif #self.born == 0 and soonest > core.monotonic() and soonest < math.huge then
      core.sleep(soonest - core.monotonic())
    end
  end
  return true
end

function Co:stop()
  self.stopped = self.stopped or {}
  if self.multi then self.multi:close() end
  self.tasks, self.born = {}, {}
end

local Ngx = {}
Ngx.__index = Ngx

--- A runner of nginx light threads (cosockets do the waiting).
function M.ngx()
  return setmetatable({ alive = 0, sema = require("ngx.semaphore").new() }, Ngx)
end

function Ngx:spawn(fn)
  self.alive = self.alive + 1
  local th, err = ngx.thread.spawn(function()
    local ok, why = pcall(fn)
    self.alive = self.alive - 1
    if not ok and why ~= self.stopped then self.raised = self.raised or why end
    self.sema:post(1)
  end)
  if not th then
    self.alive = self.alive - 1
    error("klikit: cannot start a light thread: " .. tostring(err), 0)
  end
end

function Ngx:sleep(seconds)
  if self.stopped then error(self.stopped, 0) end
  ngx.sleep(seconds)
end

function Ngx:notify()
  if self.stopped then error(self.stopped, 0) end
  self.sema:post(1)
end

function Ngx:wait(pred)
  while not pred() do
    if self.raised then
      local why = self.raised
      self:stop()
      error(why, 0)
    end
    if self.alive == 0 then return pred() end
    self.sema:wait(1)
  end
  return true
end

function Ngx:stop()
  self.stopped = self.stopped or {}
end

--- The runner for where this code runs: light threads where nginx has cosockets, else
--- coroutines.
function M.new()
  if require("klikit.transport.ngx").available() then return M.ngx() end
  return M.coroutines()
end

return M
