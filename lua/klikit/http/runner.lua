--- Runs the slices of a parallel walk at once: tasks that a consumer drives until what it
-- waits for is there.
--   runner:spawn(fn)   a task
--   runner:wait(pred)  runs the tasks until pred() holds (true) or no task is left (pred())
--   runner:sleep(s)    inside a task: lets the others run meanwhile
--   runner:notify()    inside a task: progress the consumer may be waiting for
--   runner:stop()      tasks end at their next sleep or notify; nothing is resumed after
-- Two kinds. Inside nginx, light threads (ngx.thread) over cosockets. Elsewhere,
-- coroutines of a klikit.transport.multi driver: a request that klikit.transport.curl
-- makes from one goes through the driver's curl multi, so K requests are in flight at
-- once (another transport's requests block: the tasks then take turns, correct but not
-- faster), and the default sleep (retries, the rate limit) lets the other tasks run.
local multi = require("klikit.transport.multi")

local M = {}

--- The driver whose task the running code is, or nil (its sleep lets the other tasks run).
M.current = multi.current

local Co = {}
Co.__index = Co

--- A runner of coroutines over a klikit.transport.multi driver (plain Lua).
function M.coroutines()
  -- abandons: a stopped task is never resumed (a light thread runs to its next yield)
  return setmetatable({ driver = multi.new {}, abandons = true }, Co)
end

function Co:spawn(fn) self.driver:spawn(fn) end
function Co:sleep(seconds) self.driver:sleep(seconds) end
function Co:notify() self.driver:sleep(0) end -- a turn for the others (and the consumer's check)

function Co:wait(pred)
  self.driver:run(pred)
  return pred()
end

function Co:stop()
  self.driver:stop()
  self.driver:close()
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
