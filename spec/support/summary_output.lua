-- busted output: the usual terminal output, then the plain closing line CI reads:
-- "N passed, N failed" (errors count as failed), plus ", N skipped" when any are pending.
return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.utfTerminal")(options)
  busted.subscribe({ "suite", "end" }, function()
    local failed = #handler.failures + #handler.errors
    local line = string.format("%d passed, %d failed", #handler.successes, failed)
    if #handler.pendings > 0 then line = line .. string.format(", %d skipped", #handler.pendings) end
    io.write("\n", line, "\n")
    io.flush()
    return nil, true
  end, { priority = 1000 })
  return handler
end
