-- `klikit orders --format jsonl` runs in constant memory: the command, as a subprocess,
-- walks 10,000 and then 50,000 sandbox orders (and 100,000 in `make test-long`, tag
-- #long: the sandbox serves ~25-45 ms a page, so 100,000 orders take ~45 s) into
-- /dev/null, and reports its peak RSS (VmHWM, printed with KLIKIT_CLI_RSS=1). The larger
-- walk may use at most 1.2x the memory of the smaller. #rss: valgrind's and ASan's heaps
-- make RSS meaningless, so their runs skip it.
local sandbox = require "support.sandbox"
local lua = require "support.interpreter"

local FROM, TO = "2025-11-01T00:00:00Z", "2026-11-01T00:00:00Z"

-- The peak RSS (kB) of one walk of `n` orders by the command, and its wall time.
local function peak_rss(n)
  sandbox.regenerate { orders = n }
  local err_file = os.tmpname()
  local command = string.format("KLIKIT_BUILD=%s KLIKIT_CLI_RSS=1 KLIKIT_PARTNER_KEY=%s KLIKIT_SECRET_KEY=%s "
    .. "KLIKIT_BASE_URL=%s %s bin/klikit orders --from %s --to %s --format jsonl >/dev/null 2>%s; echo $?",
    os.getenv("KLIKIT_BUILD") or "build/5.4", sandbox.partner_key, sandbox.secret_key, sandbox.base_url,
    lua.command, FROM, TO, err_file)
  local t0 = os.time()
  local p = assert(io.popen(command))
  local status = p:read("*a")
  p:close()
  local f = assert(io.open(err_file, "rb"))
  local err = f:read("*a")
  f:close()
  os.remove(err_file)
  assert.equal("0", status:match("%d+"), err)
  local kb = tonumber(err:match("peak RSS (%d+) kB"))
  assert.truthy(kb, err)
  return kb, os.time() - t0
end

local function check(small, large)
  local a, ta = peak_rss(small)
  local b, tb = peak_rss(large)
  print(string.format("\nklikit orders --format jsonl > /dev/null: peak RSS %d kB at %d orders (%d s), %d kB at %d"
    .. " orders (%d s): %.2fx", a, small, ta, b, large, tb, b / a))
  assert.is_true(b <= 1.2 * a, string.format("%d kB at %d orders > 1.2 x %d kB at %d", b, large, a, small))
end

describe("klikit orders memory", function()
  after_each(function() sandbox.reset { data = true } end)

  it("stays flat from 10,000 to 50,000 orders #rss #subprocess #long", function()
    check(10000, 50000)
  end)

  it("stays flat from 10,000 to 100,000 orders #rss #subprocess #long", function()
    check(10000, 100000)
  end)
end)
