-- Decode microbenchmark: one 100-order page decoded by klikit.core.decode_envelope, by
-- cjson.decode and, when this build has core.compile_fields, by decode_envelope with a
-- projection. Interleaved: each round times every decoder once (order rotated), `reps`
-- decodes each; the minimum per decode over the rounds is the claim (the least disturbed
-- run), the median is printed beside it.
local core = require "klikit.core"
local cjson = require "cjson"
local report = require "report"

local M = {}

-- Whether `fn` decodes `body` to orders that are projected (an id, and no cart).
local function projected(fn)
  local ok, good, data = pcall(fn)
  local first = ok and good == true and type(data) == "table" and type(data.orders) == "table" and data.orders[1]
  return type(first) == "table" and first.id ~= nil and first.cart == nil
end

-- The decoders of this build: { name, fn } list, and why projection is missing (if it is).
-- The projection's calling convention is not settled: the compiled fields are tried as the
-- fourth argument (after max_values) and as the third, and kept where the rows come back
-- projected.
local function decoders(body, fields)
  local list = {
    { name = "klikit.core.decode_envelope(200, body)", fn = function() return core.decode_envelope(200, body) end },
    { name = "cjson.decode(body)", fn = function() return cjson.decode(body) end },
  }
  if type(core.compile_fields) ~= "function" then return list, "core.compile_fields not in this build" end
  local ok, compiled = pcall(core.compile_fields, fields)
  if not ok then return list, "core.compile_fields failed: " .. tostring(compiled) end
  local tries = {
    { "decode_envelope(200, body, 500000, compiled)", function() return core.decode_envelope(200, body, 500000,
      compiled) end },
    { "decode_envelope(200, body, compiled)", function() return core.decode_envelope(200, body, compiled) end },
  }
  for _, t in ipairs(tries) do
    if projected(t[2]) then
      list[#list + 1] = { name = t[1] .. " of compile_fields{" .. table.concat(fields, ",") .. "}", fn = t[2] }
      return list
    end
  end
  return list, "core.compile_fields exists, but neither decode_envelope(200, body, 500000, compiled) nor "
    .. "decode_envelope(200, body, compiled) returned projected rows"
end

--- Times the decoders on `body` over `rounds` rounds of `reps` decodes; prints a table.
function M.run(body, rounds, reps, fields)
  local list, missing = decoders(body, fields)
  local times = {}
  for i = 1, #list do times[i] = {} end
  for r = 1, rounds do
    for k = 0, #list - 1 do
      local i = (r + k - 1) % #list + 1
      local fn = list[i].fn
      collectgarbage()
      local started = os.clock()
      for _ = 1, reps do fn() end
      times[i][r] = (os.clock() - started) / reps
    end
  end
  local best = {}
  for i in ipairs(list) do
    best[i] = math.huge
    for _, t in ipairs(times[i]) do best[i] = math.min(best[i], t) end
  end
  print(string.format("A %s-byte page of 100 orders, %d interleaved rounds of %d decodes each (CPU time):",
    report.thousands(#body), rounds, reps))
  print("")
  print("| decoder | min per page | median per page | MB/s (min) | ×cjson (min) |")
  print("|---|---:|---:|---:|---:|")
  for i, d in ipairs(list) do
    print(string.format("| %s | %.2f ms | %.2f ms | %.0f | %.2f |", d.name, best[i] * 1000,
      report.median(times[i]) * 1000, #body / best[i] / 1e6, best[i] / best[2]))
  end
  if missing then print("| decode_envelope with a projection | n/a (" .. missing .. ") | | | |") end
  return best
end

return M
