--- The live progress line of long commands, on stderr when it is a terminal (and not
-- --quiet): items, pages, rate, elapsed time, and an ETA when the total is known. Drawn
-- by klikit.klar.progress's throttled line (at most five redraws a second); off a
-- terminal nothing is written, so logs and pipes stay clean.
local core = require("klikit.core")
local klar_progress = require("klikit.klar.progress")

local M = {}

--- Whether the command shows progress: stderr is a terminal and --quiet was not given.
function M.enabled(ctx)
  return not ctx.quiet and ctx.isatty(ctx.err) == true
end

local function thousands(n)
  local s = string.format("%d", n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end
M.thousands = thousands

local function clock(seconds)
  seconds = math.floor(seconds + 0.5)
  local h, m, s = math.floor(seconds / 3600), math.floor(seconds / 60) % 60, seconds % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, s) end
  return string.format("%d:%02d", m, s)
end
M.clock = clock

--- A walk's line: `label` ("orders"), `total` (a count, or nil: no ETA). Returns an object:
---   p:tick(items, pages)   after every item (redraws when due)
---   p:finish(items, pages) the last line (when anything was drawn), ended
---   p:clear()              erases the line before rows go to the same terminal
function M.walk(ctx, label, total)
  local on = M.enabled(ctx)
  local line = klar_progress.line(ctx.err, on)
  local t0 = core.monotonic()
  local self = { on = on, total = total }
  local function text(items, pages)
    local elapsed = core.monotonic() - t0
    local rate = elapsed > 0 and items / elapsed or 0
    local parts = { string.format("%s: %s%s, %s page%s, %s/s, %s elapsed", label, thousands(items),
      total and (" of " .. thousands(total)) or "", thousands(pages), pages == 1 and "" or "s",
      thousands(math.floor(rate + 0.5)), clock(elapsed)) }
    if total and elapsed >= 1 and rate > 0 and total > items then
      parts[#parts + 1] = "ETA " .. clock((total - items) / rate)
    end
    return table.concat(parts, ", ")
  end
  function self.tick(_, items, pages)
    if on and line:due() then line:draw(text(items, pages)) end
  end
  function self.finish(_, items, pages)
    if on then line:draw(text(items, pages), true) end
  end
  function self.clear()
    line:clear()
  end
  return self
end

--- The Klar export's on_progress (klar.terminal_progress), on stderr when enabled.
function M.export(ctx)
  return require("klikit.klar").terminal_progress(ctx.err, M.enabled(ctx))
end

return M
