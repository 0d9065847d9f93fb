--- A progress line for exports run by hand: orders walked, sent and accepted, orders per
-- second and the time elapsed, rewritten in place on stderr -- only when stderr is a terminal, so cron
-- mail and logs stay clean. `line` is the throttled line underneath, which the
-- command-line tool's walks share.
local core = require("klikit.core")

local M = {}

M.INTERVAL = 0.2 -- at most five redraws a second

--- A line rewritten in place on `stream` (default io.stderr). `on`: true draws, false
--- never does, nil draws only when stderr (fd 2) is a terminal. Returns an object:
---   line:due()              true when a redraw is due (cheap: one clock read)
---   line:draw(text, final)  redraws (a final one always, and ends the line)
---   line:clear()            erases what is drawn (before other output to the terminal)
function M.line(stream, on)
  stream = stream or io.stderr
  if on == nil then on = core.isatty(2) end
  local self = { on = on, drawn = false }
  local last
  function self.due()
    return on and (last == nil or core.monotonic() - last >= M.INTERVAL)
  end
  function self.draw(_, text, final)
    if not on or (not final and not self:due()) then return end
    last = core.monotonic()
    stream:write("\r\27[K", text, final and "\n" or "")
    stream:flush()
    self.drawn = not final
  end
  function self.clear()
    if not self.drawn then return end
    stream:write("\r\27[K")
    stream:flush()
    self.drawn = false
  end
  return self
end

--- -> on_progress function. `stream` (default io.stderr); `force`: true draws even off a
--- terminal, false never draws, nil draws when stderr is a terminal.
function M.terminal(stream, force)
  local line = M.line(stream, force)
  return function(p)
    if not line.on or (p.phase ~= "done" and not line:due()) then return end
    local elapsed = math.floor((p.elapsed or 0) + 0.5)
    line:draw(string.format(
      "klar export: %d walked, %d sent, %d accepted, %d rejected, %d unmappable, %.0f orders/s, %d:%02d elapsed",
      p.walked, p.sent, p.accepted, p.rejected, p.unmappable, p.rate, math.floor(elapsed / 60), elapsed % 60),
      p.phase == "done")
  end
end

return M
