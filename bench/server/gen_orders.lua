-- Pre-encodes the bench server's orders: exactly the orders the sandbox generates for the
-- same settings (klikit_sandbox.data), encoded once by the sandbox's own JSON encoder, so
-- the bench server answers byte for byte what the sandbox would, only without encoding
-- (or filtering) anything per request.
--
--   luajit bench/server/gen_orders.lua OUT SEED ORDERS FROM TO PART PARTS
--
-- Writes the records PART of PARTS (contiguous, newest first) to OUT, one a line:
-- created <TAB> status <TAB> provider_id <TAB> branch_id <TAB> order JSON
-- (JSON never holds a raw tab or newline). The parts are concatenated in order.
local here = arg[0]:match("^(.*)/bench/server/[^/]*$") or "."
package.path = here .. "/sandbox/lua/?.lua;" .. package.path

local data = require "klikit_sandbox.data"
local json = require "klikit_sandbox.json"

local out_path, seed, orders, from, to, part, parts = arg[1], tonumber(arg[2]), tonumber(arg[3]),
  arg[4], arg[5], tonumber(arg[6]) or 1, tonumber(arg[7]) or 1
assert(out_path and seed and orders and from and to, "usage: gen_orders.lua OUT SEED ORDERS FROM TO [PART PARTS]")

local records = data.generate { seed = seed, orders = orders, from = from, to = to }
local n = #records
local first = math.floor((part - 1) * n / parts) + 1
local last = math.floor(part * n / parts)

local out = assert(io.open(out_path, "wb"))
for i = first, last do
  local r = records[i]
  assert(r.created == math.floor(r.created), "whole-second creation times only")
  out:write(string.format("%d\t%d\t%d\t%d\t", r.created, r.status, r.provider_id, r.branch.id),
    json.encode(data.order(r)), "\n")
end
assert(out:close())
