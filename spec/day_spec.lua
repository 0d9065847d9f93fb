-- klikit.day: the [from, to) of a day in the business's time zone.
local klikit = require "klikit"

describe("klikit.day", function()
  it("gives the instants of the local midnights, as RFC 3339 UTC", function()
    assert.same({ "2026-11-27T17:00:00Z", "2026-11-28T17:00:00Z" }, { klikit.day("2026-11-28", "+07:00") })
    assert.same({ "2026-11-28T05:30:00Z", "2026-11-29T05:30:00Z" }, { klikit.day("2026-11-28", "-05:30") })
    assert.same({ "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z" }, { klikit.day("2026-03-01", "+00:00") })
    assert.same({ "2024-02-28T16:00:00Z", "2024-02-29T16:00:00Z" }, { klikit.day("2024-02-29", "+08:00") })
  end)

  it("knows today and yesterday from a given now", function()
    local now = 1795924800 -- 2026-11-29T00:00:00Z: already the 29th in Jakarta, still the 28th in New York
    assert.same({ "2026-11-28T17:00:00Z", "2026-11-29T17:00:00Z" }, { klikit.day("today", "+07:00", now) })
    assert.same({ "2026-11-27T17:00:00Z", "2026-11-28T17:00:00Z" }, { klikit.day("yesterday", "+07:00", now) })
    assert.same({ "2026-11-28T05:00:00Z", "2026-11-29T05:00:00Z" }, { klikit.day("today", "-05:00", now) })
  end)

  it("refuses what is not a date or an offset with request_invalid", function()
    for _, bad in ipairs { { "2026-02-30", "+07:00" }, { "28-11-2026", "+07:00" }, { "2026-11-28", "7" },
      { "2026-11-28", "+15:00" }, { "2026-11-28", nil }, { nil, "+07:00" }, { "tomorrow", "+07:00" } } do
      local ok, err = pcall(klikit.day, bad[1], bad[2])
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
  end)
end)
