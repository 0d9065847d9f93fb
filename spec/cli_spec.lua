-- bin/klikit through require("klikit.cli").main(argv, io) against the sandbox: `orders` and
-- `count` in every format checked against the sandbox's truth, exit codes, errors on
-- stderr (one line, or one JSON object), usage errors, and the progress line (fake
-- terminals here; a real pseudo-terminal at the end).
local sandbox = require "support.sandbox"
local walk = require "support.walk"
local cli = require "support.cli"
local core = require "klikit.core"

-- June 2026 in +07:00
local FROM, TO = "2026-05-31T17:00:00Z", "2026-06-30T17:00:00Z"
local JUNE = { "--from", "2026-06-01", "--to", "2026-07-01", "--tz", "+07:00" }

local function args(...)
  local list = {}
  for _, part in ipairs { ... } do
    for _, a in ipairs(type(part) == "table" and part or { part }) do list[#list + 1] = a end
  end
  return list
end

-- The sandbox's orders, as a client decodes them, by id.
local orders_by_id
local function sandbox_orders()
  if orders_by_id then return orders_by_id end
  local records, data = sandbox.records()
  local sj = require "klikit_sandbox.json"
  orders_by_id = {}
  for _, r in ipairs(records) do
    local o = core.decode_json(sj.encode(data.order(r)))
    orders_by_id[string.format("%d", o.id)] = o
  end
  return orders_by_id
end

local function id_text(v) return type(v) == "number" and string.format("%d", v) or v end

local function truth_ids()
  local ids = {}
  for i, id in ipairs(walk.truth { from = FROM, to = TO }) do ids[i] = id_text(id) end
  assert.is_true(#ids > 50)
  return ids
end

describe("klikit orders", function()
  before_each(function() sandbox.reset { data = true } end)

  it("writes every order of the range once, newest first, as JSON lines", function()
    local code, out, err = cli.run(args("orders", JUNE, "--format", "jsonl"))
    assert.equal(0, code, err)
    assert.equal("", err)
    local rows, want = cli.jsonl(out), truth_ids()
    local got = {}
    for i, o in ipairs(rows) do got[i] = id_text(o.id) end
    assert.same(want, got)
    -- whole orders, as the API sends them (integers stay integers; null stays null)
    local o = sandbox_orders()[got[1]]
    assert.equal(o.final_price, rows[1].final_price)
    assert.equal(o.created_at, rows[1].created_at)
    assert.same(o.brands, rows[1].brands)
    assert.falsy(out:find("%.0[,}]"), "an integer written as a float")
  end)

  it("projects with --fields: only those fields (and lists followed into their elements)", function()
    local code, out = cli.run(args("orders", JUNE, "--format", "jsonl", "--fields", "id,final_price,brands.title"))
    assert.equal(0, code)
    for _, row in ipairs(cli.jsonl(out)) do
      local o = sandbox_orders()[id_text(row.id)]
      assert.same({ id = o.id, final_price = o.final_price, brands = { { title = o.brands[1].title } } }, row)
    end
  end)

  it("writes RFC 4180 CSV: a header of the fields, one record per order, lists joined with ;", function()
    local code, out = cli.run(args("orders", JUNE, "--format", "csv", "--fields",
      "id,created_at,status,brands.title,cart_v2.name,final_price"))
    assert.equal(0, code)
    local records = cli.csv(out)
    assert.same({ "id", "created_at", "status", "brands.title", "cart_v2.name", "final_price" }, records[1])
    local want = truth_ids()
    assert.equal(#want + 1, #records)
    for i, id in ipairs(want) do
      local o, rec = sandbox_orders()[id], records[i + 1]
      local names = {}
      for k, line in ipairs(o.cart_v2) do names[k] = line.name end
      assert.same({ id, o.created_at, string.format("%d", o.status), o.brands[1].title, table.concat(names, ";"),
        string.format("%d", o.final_price) }, rec)
    end
  end)

  it("csv and table default to the documented columns", function()
    local code, out = cli.run(args("orders", JUNE, "--format", "csv"))
    assert.equal(0, code)
    assert.same(require("klikit.cli.cmd.orders").DEFAULT_FIELDS, cli.csv(out)[1])
  end)

  it("writes an aligned table for a terminal, widths bounded", function()
    local code, out = cli.run(args("orders", JUNE, "--fields", "id,created_at,brands.title,cart_v2.name,final_price"),
      { tty = { stdout = true } }) -- a terminal on stdout: table by default
    assert.equal(0, code)
    local header, rows = cli.table(out)
    assert.same({ "id", "created_at", "brands.title", "cart_v2.name", "final_price" }, header)
    local want = truth_ids()
    assert.equal(#want, #rows)
    local cut = 0
    for i, id in ipairs(want) do
      local o = sandbox_orders()[id]
      assert.equal(id, rows[i][1])
      assert.equal(o.created_at, rows[i][2])
      assert.equal(string.format("%d", o.final_price), rows[i][5])
      if rows[i][4]:find("…", 1, true) then cut = cut + 1 end
    end
    assert.is_true(cut > 0, "long cart lists are cut")
    for line in out:gmatch("([^\n]*)\n") do
      local _, chars = line:gsub("[^\128-\191]", "")
      assert.is_true(chars <= 5 * 40 + 4 * 2, line)
    end
  end)

  it("takes --day, Unix seconds and RFC 3339 for the same range, and the filters", function()
    local _, a = cli.run(args("orders", "--day", "2026-06-15", "--tz", "+07:00", "--format", "jsonl", "--fields", "id"))
    local _, b = cli.run(args("orders", "--from", "1781456400", "--to", "1781542800", "--format", "jsonl",
      "--fields", "id"))
    local _, c = cli.run(args("orders", "--from", "2026-06-15T00:00:00+07:00", "--to", "2026-06-16T00:00:00+07:00",
      "--format", "jsonl", "--fields", "id"))
    assert.is_true(#cli.jsonl(a) > 0)
    assert.equal(a, b)
    assert.equal(a, c)
    local code, out = cli.run(args("orders", JUNE, "--status", "cancelled", "--provider", "gofood", "--format", "jsonl",
      "--fields", "id,status,provider_id"))
    assert.equal(0, code)
    local want = walk.truth { from = FROM, to = TO, status = 3, provider_id = 9 }
    local rows = cli.jsonl(out)
    assert.equal(#want, #rows)
    for i, row in ipairs(rows) do
      assert.equal(id_text(want[i]), id_text(row.id))
      assert.equal(3, row.status)
      assert.equal(9, row.provider_id)
    end
  end)

  it("walks in parallel with --concurrency: the same output", function()
    local _, one = cli.run(args("orders", "--from", "2025-11-01T00:00:00Z", "--format", "jsonl", "--fields", "id"))
    local code, four = cli.run(args("orders", "--from", "2025-11-01T00:00:00Z", "--format", "jsonl", "--fields", "id",
      "--concurrency", "4"))
    assert.equal(0, code)
    assert.equal(1200, #cli.jsonl(one))
    assert.equal(one, four)
  end)
end)

describe("klikit count", function()
  before_each(function() sandbox.reset { data = true } end)

  -- orders, cancelled, revenue (minor units) by key(order) from the sandbox's data
  local function expected(key)
    local groups = {}
    for _, id in ipairs(truth_ids()) do
      local o = sandbox_orders()[id]
      local k = key(o)
      local g = groups[k] or { orders = 0, cancelled = 0, minor = 0 }
      groups[k] = g
      g.orders = g.orders + 1
      if o.status == 3 then g.cancelled = g.cancelled + 1 else g.minor = g.minor + o.final_price end
    end
    return groups
  end

  local function major(minor) return string.format("%d.%02d", math.floor(minor / 100), minor % 100) end

  it("totals orders and revenue (major units, cancelled orders left out)", function()
    local code, out, err = cli.run(args("count", JUNE, "--format", "jsonl"))
    assert.equal(0, code, err)
    local rows = cli.jsonl(out)
    local g = expected(function() return "all" end).all
    assert.same({ { currency = "IDR", orders = g.orders, cancelled = g.cancelled, revenue = major(g.minor),
      revenue_minor = g.minor } }, rows)
    -- without a terminal nothing is counted ahead: the walk alone
    for _, r in ipairs(sandbox.requests()) do assert.not_equal("/orders/count", r.path) end
  end)

  it("groups by brand, and by day in --tz", function()
    local code, out = cli.run(args("count", JUNE, "--by", "brand", "--format", "jsonl"))
    assert.equal(0, code)
    local want = expected(function(o) return string.format("%d", o.brands[1].id) end)
    local rows, n = cli.jsonl(out), 0
    for _, row in ipairs(rows) do
      local g = want[row.brand_id]
      assert.truthy(g, row.brand_id)
      assert.same({ g.orders, g.cancelled, major(g.minor), "IDR" }, { row.orders, row.cancelled, row.revenue,
        row.currency })
      n = n + 1
    end
    assert.equal(5, n)
    code, out = cli.run(args("count", JUNE, "--by", "day", "--format", "csv"))
    assert.equal(0, code)
    local util = require "klikit.util"
    want = expected(function(o) return os.date("!%Y-%m-%d", util.parse_time(o.created_at) + 7 * 3600) end)
    local records = cli.csv(out)
    assert.same({ "day", "currency", "orders", "cancelled", "revenue", "revenue_minor" }, records[1])
    local days = 0
    for i = 2, #records do
      local r = records[i]
      local g = want[r[1]]
      assert.truthy(g, r[1])
      assert.same({ tostring(g.orders), tostring(g.cancelled), major(g.minor) }, { r[3], r[4], r[5] })
      assert.equal("2026-06", r[1]:sub(1, 7))
      days = days + 1
    end
    local all = 0
    for _ in pairs(want) do all = all + 1 end
    assert.equal(all, days)
  end)

  it("groups by branch (with titles), provider and status", function()
    local code, out = cli.run(args("count", JUNE, "--by", "branch", "--format", "jsonl"))
    assert.equal(0, code)
    local want = expected(function(o) return string.format("%d", o.branch_id) end)
    for _, row in ipairs(cli.jsonl(out)) do
      assert.equal(want[row.branch_id].orders, row.orders)
      assert.falsy(row.branch:find("^branch "), "a title from GET /branches")
    end
    code, out = cli.run(args("count", JUNE, "--by", "provider", "--format", "jsonl"))
    assert.equal(0, code)
    want = expected(function(o) return string.format("%d", o.provider_id) end)
    for _, row in ipairs(cli.jsonl(out)) do
      assert.equal(want[row.provider_id].orders, row.orders)
      assert.equal(require("klikit").enums.PROVIDERS[tonumber(row.provider_id)], row.provider)
    end
    code, out = cli.run(args("count", JUNE, "--by", "status", "--format", "jsonl"))
    assert.equal(0, code)
    want = expected(function(o) return string.format("%d", o.status) end)
    for _, row in ipairs(cli.jsonl(out)) do assert.equal(want[row.status].orders, row.orders) end
  end)

  it("asks for the fields it sums only (a projection)", function()
    local code = cli.run(args("count", JUNE, "--by", "brand", "--format", "jsonl"))
    assert.equal(0, code)
    -- the projection lives in the client; the requests are the plain walk's
    local n = walk.order_requests()
    assert.is_true(n >= 1 and n <= 3, n)
  end)
end)

describe("klikit exit codes and errors", function()
  before_each(function() sandbox.reset { data = true } end)

  it("1 for an API error, one line on stderr with the code and request_id", function()
    local code, out, err = cli.run(args("orders", JUNE), { env = { KLIKIT_PARTNER_KEY = sandbox.revoked.partner_key,
      KLIKIT_SECRET_KEY = sandbox.revoked.secret_key } })
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("^klikit: auth_revoked: .*%[HTTP 403, request_id %x+, GET /orders%]\n$"), err)
    assert.falsy(err:find(sandbox.revoked.secret_key, 1, true))
  end)

  it("--json: the error as one JSON object {code, status, message, request_id}", function()
    local code, _, err = cli.run(args("orders", JUNE, "--json"), { env = {
      KLIKIT_PARTNER_KEY = sandbox.revoked.partner_key, KLIKIT_SECRET_KEY = sandbox.revoked.secret_key } })
    assert.equal(1, code)
    local e = cli.json_error(err)
    assert.equal("auth_revoked", e.code)
    assert.equal(403, e.status)
    assert.truthy(e.request_id:find("^%x+$"))
    assert.equal("string", type(e.message))
    assert.equal(1, select(2, err:gsub("\n", "")))
    -- usage errors too, with status and request_id null
    code, _, err = cli.run { "--json", "orders", "--bogus" }
    assert.equal(2, code)
    e = cli.json_error(err)
    assert.equal("usage", e.code)
    assert.equal(require("cjson").null, e.status)
    assert.equal(require("cjson").null, e.request_id)
  end)

  it("3 when the walk fails after writing orders: they stay on stdout, the error names how many", function()
    -- the second request of this walk (its cursor, `to`), found by walking once
    assert.equal(0, (cli.run(args("orders", "--from", "2025-11-01T00:00:00Z", "--format", "jsonl", "--fields", "id"))))
    local second
    for _, r in ipairs(sandbox.requests()) do
      if r.path == "/orders" then
        if second == false then second = r.query:match("to=[^&]*") break end
        second = false
      end
    end
    assert.truthy(second)
    sandbox.reset {}
    sandbox.faults { { kind = "error", status = 403, code = "FORBIDDEN_SCOPE", message = "not for you",
      path = "/orders", match_query = second } }
    local code, out, err = cli.run(args("orders", "--from", "2025-11-01T00:00:00Z", "--format", "jsonl", "--fields",
      "id"))
    assert.equal(3, code)
    local rows = cli.jsonl(out)
    assert.equal(100, #rows)
    local line = "^klikit: auth_forbidden: not for you %[HTTP 403, request_id %x+, GET /orders%] %(written 100%)\n$"
    assert.truthy(err:find(line), err)
    -- before any output, the same failure is exit 1 and stdout stays empty (csv: not even a header)
    sandbox.faults { { kind = "error", status = 403, code = "FORBIDDEN_SCOPE", path = "/orders" } }
    code, out = cli.run(args("orders", "--from", "2025-11-01T00:00:00Z", "--format", "csv"))
    assert.equal(1, code)
    assert.equal("", out)
  end)

  it("2 for usage errors: unknown options, missing values, bad values, no range, no command", function()
    local cases = {
      { { "orders", "--from", "2026-06-01T00:00:00Z", "--bogus" }, "unknown option %-%-bogus" },
      { { "orders", "--from" }, "%-%-from needs a value" },
      { { "orders", "--from", "--to", "x" }, "%-%-from needs a value" },
      { { "orders", "--from", "yesterday-ish" }, "%-%-from must be RFC 3339" },
      { { "orders", "--from", "2026-06-01" }, "give the business's UTC offset with %-%-tz" },
      { { "orders", "--day", "today" }, "%-%-tz" },
      { { "orders", "--day", "today", "--tz", "+7" }, "%-%-tz must be a UTC offset" },
      { { "orders", "--day", "today", "--tz", "+07:00", "--from", "2026-06-01T00:00:00Z" }, "one or the other" },
      { { "orders", "--to", "2026-06-01T00:00:00Z" }, "give a range" },
      { { "orders", "--from", "2026-06-02T00:00:00Z", "--to", "2026-06-01T00:00:00Z" }, "earlier than" },
      { { "orders", "--from", "2026-06-01T00:00:00Z", "--format", "xml" }, "jsonl, csv, table" },
      { { "orders", "--from", "2026-06-01T00:00:00Z", "--status", "lost" }, "status must be one of" },
      { { "orders", "--from", "2026-06-01T00:00:00Z", "--provider", "pigeon" }, "grabfood" },
      { { "orders", "--from", "2026-06-01T00:00:00Z", "--concurrency", "99" }, "concurrency must be" },
      { { "orders", "--from", "2026-06-01T00:00:00Z", "--fields", "a..b" }, "not a dotted path" },
      { { "orders", "--from", "2026-06-01T00:00:00Z", "extra" }, "unexpected argument extra" },
      { { "count", "--from", "2026-06-01T00:00:00Z", "--by", "week" }, "day, brand, branch, provider, status" },
      { { "order" }, "missing ID" },
      { { "frobnicate" }, "unknown command frobnicate" },
      { { "--quiet", "--frob" }, "unknown option %-%-frob" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = cli.run(c[1])
      assert.equal(2, code, table.concat(c[1], " ") .. ": " .. err)
      assert.equal("", out, table.concat(c[1], " "))
      assert.truthy(err:find(c[2]), table.concat(c[1], " ") .. ": " .. err)
      assert.equal(1, select(2, err:gsub("\n", "")), err)
    end
    local code, out, err = cli.run {}
    assert.equal(2, code)
    assert.equal("", out)
    assert.truthy(err:find("Commands:", 1, true))
    -- nothing reached the API
    for _, r in ipairs(sandbox.requests()) do assert.not_equal("/orders", r.path) end
  end)

  it("refuses credentials and base URLs as options, with a hint and without echoing them", function()
    local secret = "sk_live_do_not_echo_me"
    for _, argv in ipairs {
      { "orders", "--day", "today", "--tz", "+07:00", "--partner-key", "pk_live_x" },
      { "orders", "--day", "today", "--tz", "+07:00", "--secret-key=" .. secret },
      { "count", "--secret", secret },
      { "export-klar", "--state", "x", "--token", secret },
      { "--password=" .. secret, "orders" },
    } do
      local code, out, err = cli.run(argv)
      assert.equal(2, code, err)
      assert.equal("", out)
      assert.truthy(err:find("credentials are never taken as arguments", 1, true), err)
      assert.truthy(err:find("KLIKIT_SECRET_KEY", 1, true), err)
      assert.falsy(err:find(secret, 1, true), err)
    end
    local code, _, err = cli.run { "orders", "--day", "today", "--tz", "+07:00", "--base-url", "http://evil" }
    assert.equal(2, code)
    assert.truthy(err:find("set KLIKIT_BASE_URL", 1, true), err)
    -- and without them in the environment, a usage error naming the variables
    code, _, err = cli.run({ "brands" }, { env = { KLIKIT_PARTNER_KEY = false } })
    assert.equal(2, code)
    assert.truthy(err:find("set KLIKIT_PARTNER_KEY and KLIKIT_SECRET_KEY", 1, true), err)
  end)

  it("--help on every command and `klikit help`", function()
    for _, name in ipairs(require("klikit.cli").COMMANDS) do
      local code, out, err = cli.run { name, "--help" }
      assert.equal(0, code, name .. ": " .. err)
      assert.truthy(out:find("^usage: klikit " .. name:gsub("%-", "%%-")), out)
      assert.truthy(out:find("--json", 1, true))
      local code2, out2 = cli.run { "help", name }
      assert.equal(0, code2)
      assert.equal(out, out2)
    end
    local code, out = cli.run { "help" }
    assert.equal(0, code)
    for _, name in ipairs(require("klikit.cli").COMMANDS) do assert.truthy(out:find("\n  " .. name .. " ", 1, true)) end
    assert.truthy(out:find("Exit codes: 0 ok, 1 API error, 2 usage, 3 partial", 1, true))
  end)
end)

describe("klikit progress line", function()
  before_each(function() sandbox.reset { data = true } end)

  it("appears on stderr when it is a terminal (items, pages, rate, elapsed, of the count); stdout stays clean",
    function()
      local code, out, err = cli.run(args("orders", "--from", "2025-11-01T00:00:00Z", "--format", "jsonl", "--fields",
        "id"), { tty = { stderr = true } })
      assert.equal(0, code)
      assert.equal(1200, #cli.jsonl(out))
      assert.falsy(out:find("\27", 1, true))
      assert.truthy(err:find("\r\27[K", 1, true), err)
      assert.truthy(err:find("orders: 1,200 of 1,200, %d+ pages, [%d,]+/s, %d+:%d%d elapsed\n$"), err)
      -- the count behind "of 1,200" was asked first
      local counted = false
      for _, r in ipairs(sandbox.requests()) do counted = counted or r.path == "/orders/count" end
      assert.is_true(counted)
    end)

  it("does not appear off a terminal, nor with --quiet", function()
    local _, _, err = cli.run(args("orders", JUNE, "--format", "jsonl"))
    assert.equal("", err)
    _, _, err = cli.run(args("orders", JUNE, "--format", "jsonl", "--quiet"), { tty = { stderr = true } })
    assert.equal("", err)
    _, _, err = cli.run(args("count", JUNE, "-q"), { tty = { stderr = true } })
    assert.equal("", err)
  end)

  it("is erased before rows when stdout is the same terminal", function()
    local code, out, err = cli.run(args("orders", JUNE, "--format", "jsonl", "--fields", "id"),
      { tty = { stderr = true, stdout = true } })
    assert.equal(0, code)
    assert.equal(#truth_ids(), #cli.jsonl(out))
    assert.truthy(err:find("\r\27[K", 1, true))
  end)

  it("appears under a real pseudo-terminal (script(1)) and not through a pipe #subprocess", function()
    if os.execute("command -v script >/dev/null 2>&1") ~= true and os.execute("command -v script >/dev/null 2>&1") ~= 0
    then
      print("\nskipped: script(1) from util-linux is not installed, so no pseudo-terminal can be made")
      return
    end
    local lua = require "support.interpreter"
    local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
    local out_file = os.tmpname()
    local env = string.format("KLIKIT_BUILD=%s KLIKIT_PARTNER_KEY=%s KLIKIT_SECRET_KEY=%s KLIKIT_BASE_URL=%s", build,
      sandbox.partner_key, sandbox.secret_key, sandbox.base_url)
    local command = string.format("%s bin/klikit orders --from 2025-11-01T00:00:00Z --format jsonl --fields id > %s",
      lua.command, out_file)
    local function run(cmd)
      local p = assert(io.popen(cmd))
      local text = p:read("*a")
      p:close()
      return text
    end
    -- stderr is the pseudo-terminal, stdout a file
    local tty = run(env .. " script -qfec '" .. command .. "' /dev/null")
    local f = assert(io.open(out_file, "rb"))
    local written = f:read("*a")
    f:close()
    assert.equal(1200, #cli.jsonl(written))
    assert.truthy(tty:find("\27[K", 1, true), tty)
    assert.truthy(tty:find("orders: 1,200 of 1,200", 1, true), tty)
    -- through a pipe: nothing on stderr
    local piped = run(env .. " " .. command .. " 2>&1")
    os.remove(out_file)
    assert.equal("", piped)
  end)
end)
