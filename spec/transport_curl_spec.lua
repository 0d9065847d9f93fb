-- The shared transport contract (spec/transport/contract.lua) run against the libcurl
-- transport.
local curl = require "klikit.transport.curl"

require("transport.contract").run("curl", function(opts) return curl.new(opts) end, {
  describe = describe, it = it, setup = setup, teardown = teardown, before_each = before_each,
  after_each = after_each, assert = assert })
