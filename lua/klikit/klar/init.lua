--- klikit.klar: Klar's order-import API, and the klikit -> Klar export.
--   local klar = require("klikit.klar")
--   local kc = klar.new{ token = ..., version = "12.2022" }       -- the Klar client
--   local k, err = klar.from_klikit(order, opts)                  -- one order, mapped
--   local summary, err = klar.export{ source = client, sink = kc, state_file = "klar.state",
--                                     from = "2026-01-01T00:00:00Z" }
local client = require("klikit.klar.client")
local mapping = require("klikit.klar.mapping")
local export = require("klikit.klar.export")
local progress = require("klikit.klar.progress")

return {
  new = client.new,
  from_klikit = mapping.from_klikit,
  export = export.export,
  --- An on_progress for klar.export that keeps one line up to date on stderr when it is
  --- a terminal (and does nothing otherwise).
  terminal_progress = progress.terminal,
  BASE_URL = client.BASE_URL,
  VERSION = client.VERSION,
  MAX_BATCH = client.MAX_BATCH,
}
