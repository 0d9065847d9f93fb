--- Retry policy: what is retried, how long to wait, and when to give up.
-- Retried: 429, 500, 502, 503, 504, network errors, timeouts and a 2xx whose body did not
-- decode (a cut body); never 4xx validation, auth or state errors. Waits grow
-- exponentially with full jitter; Retry-After (seconds or HTTP-date) is honoured up to
-- max_retry_after, and a longer one ends the call with err.retry_after set.
local util = require("klikit.util")
local errors = require("klikit.errors")

local M = {}

M.DEFAULTS = {
  max_attempts = 5,      -- attempts in all, the first included
  base_delay = 0.5,      -- seconds before the first retry (before jitter)
  max_delay = 30,        -- cap on one wait
  max_retry_after = 60,  -- a longer Retry-After is returned, not slept through
  deadline = nil,        -- seconds for the whole call, all attempts and waits included
}

-- The option names (DEFAULTS cannot list deadline: its default is nil).
M.MAX_WAIT = 86400 -- a day: the longest wait between attempts (what klikit.core.sleep takes)

local KEYS = { max_attempts = true, base_delay = true, max_delay = true, max_retry_after = true,
  deadline = true }

M.STATUSES = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }

--- Whether a failed attempt may be retried: no answer, a cut body, or an HTTP status in
--- `statuses` (klikit's default: 429, 500, 502, 503, 504).
function M.should_retry(err, statuses)
  if err.code == "network_error" or err.code == "timeout" or err.code == "decode_failed" then return true end
  return err.status ~= nil and (statuses or M.STATUSES)[err.status] == true
end

--- Checks and merges policy tables (later ones win); raises request_invalid.
function M.policy(...)
  local out = {}
  for k, v in pairs(M.DEFAULTS) do out[k] = v end
  for i = 1, select("#", ...) do
    local p = select(i, ...)
    if p ~= nil then
      util.check_keys("retry", p, KEYS)
      for k, v in pairs(p) do out[k] = v end
    end
  end
  util.check_int("retry.max_attempts", out.max_attempts, 1, 100)
  for _, k in ipairs { "base_delay", "max_delay", "max_retry_after" } do
    if type(out[k]) ~= "number" or not (out[k] >= 0 and out[k] <= M.MAX_WAIT) then -- luacheck: ignore 581 (NaN)
      errors.invalid("retry." .. k .. " must be a number of seconds from 0 to 86400")
    end
  end
  local deadline = out.deadline
  if deadline ~= nil and (type(deadline) ~= "number" or not (deadline > 0 and deadline < math.huge)) then
    errors.invalid("retry.deadline must be a finite number of seconds > 0")
  end
  return out
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
  Oct = 10, Nov = 11, Dec = 12 }

--- Retry-After as seconds from `now` (Unix seconds): delta-seconds or an IMF-fixdate.
function M.parse_retry_after(value, now)
  if type(value) ~= "string" then return nil end
  local secs = value:match("^%s*(%d+)%s*$")
  if secs then return tonumber(secs) end
  local d, mon, y, h, mi, s = value:match("^%s*%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT%s*$")
  if not d or not MONTHS[mon] then return nil end
  local at = util.parse_time(string.format("%s-%02d-%sT%s:%s:%sZ", y, MONTHS[mon], d, h, mi, s))
  if not at then return nil end
  return math.max(0, at - now)
end

--- Seconds to wait before attempt `attempt + 1`: Retry-After if given, else
--- random(0, min(max_delay, base_delay * 2^(attempt-1))).
function M.delay(policy, attempt, err, random)
  if err.retry_after then return math.min(err.retry_after, policy.max_retry_after) end
  local ceiling = math.min(policy.max_delay, policy.base_delay * 2 ^ (attempt - 1))
  return ceiling * random()
end

return M
