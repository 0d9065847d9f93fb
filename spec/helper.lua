-- Loaded once by busted before any spec (see .busted): puts the freshly built C module
-- on package.cpath and arranges for the sandbox (started lazily by the first spec that
-- needs it) to be stopped when the suite ends.
local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
package.cpath = build .. "/?.so;" .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;sandbox/lua/?.lua;spec/?.lua;" .. package.path

local sandbox = require "support.sandbox"
local busted = require "busted"
busted.subscribe({ "suite", "end" }, function()
  local openresty = package.loaded["support.openresty"]
  if openresty then openresty.stop_shared() end
  sandbox.stop()
  return nil, true
end)
