--- A progress line for exports run by hand: orders walked, sent and accepted, and orders
-- per second, rewritten in place on stderr -- only when stderr is a terminal, so cron
-- mail and logs stay clean.
local core = require("klikit.core")

local M = {}

--- -> on_progress function. `stream` (default io.stderr) and `force` are for tests.
function M.terminal(stream, force)
  stream = stream or io.stderr
  local on = force or core.isatty(2)
  local last = 0
  return function(p)
    if not on then return end
    local now = core.monotonic()
    if p.phase ~= "done" and now - last < 0.2 then return end -- at most five redraws a second
    last = now
    stream:write(string.format(
      "\r\27[Kklar export: %d walked, %d sent, %d accepted, %d rejected, %d unmappable, %.0f orders/s",
      p.walked, p.sent, p.accepted, p.rejected, p.unmappable, p.rate))
    if p.phase == "done" then stream:write("\n") end
    stream:flush()
  end
end

return M
