--- Client-side token bucket: keeps a busy script under a per-credential request rate
-- instead of bouncing off klikit's 429s. Burst: ten seconds' worth of requests, at least 1.
local M = {}
local Bucket = {}
Bucket.__index = Bucket

function M.new(per_minute, clock)
  local rate = per_minute / 60
  local capacity = math.max(1, rate * 10)
  return setmetatable({ rate = rate, capacity = capacity, tokens = capacity, at = clock(), clock = clock },
    Bucket)
end

--- Seconds to wait before the next request may go (0 when a token is free); takes the token.
function Bucket:take()
  local now = self.clock()
  self.tokens = math.min(self.capacity, self.tokens + (now - self.at) * self.rate)
  self.at = now
  self.tokens = self.tokens - 1
  if self.tokens >= 0 then return 0 end
  return -self.tokens / self.rate
end

--- Gives back the token of a request that was not sent after all.
function Bucket:refund()
  self.tokens = math.min(self.capacity, self.tokens + 1)
end

return M
