-- The other subcommands of bin/klikit through main(argv, io) against the sandbox: order,
-- set-status, brands, branches, webhook verify, export-klar (dry run and real, to the
-- sandbox's fake Klar) and sandbox.
local sandbox = require "support.sandbox"
local cli = require "support.cli"
local core = require "klikit.core"

local function id_text(v) return type(v) == "number" and string.format("%d", v) or v end

local function record_with_status(status)
  for _, r in ipairs(sandbox.records()) do
    if r.status == status then return r end
  end
end

describe("klikit order", function()
  before_each(function() sandbox.reset { data = true } end)

  it("writes the order as the API sends it, or its fields", function()
    local r = sandbox.records()[5]
    local id = string.format("%d", r.id)
    local code, out = cli.run { "order", id, "--format", "jsonl" }
    assert.equal(0, code)
    local want = assert(sandbox.client():order(id))
    assert.same(want, cli.jsonl(out)[1])
    code, out = cli.run { "order", id, "--format", "jsonl", "--fields", "id,status,order_status_histories.status" }
    assert.equal(0, code)
    local histories = {}
    for k, h in ipairs(want.order_status_histories) do histories[k] = { status = h.status } end
    assert.same({ id = want.id, status = want.status, order_status_histories = histories }, cli.jsonl(out)[1])
    code, out = cli.run { "order", id, "--format", "csv" }
    assert.equal(0, code)
    assert.equal(id, cli.csv(out)[2][1])
  end)

  it("exits 1 for an unknown order, with the code and request_id", function()
    local code, out, err = cli.run { "order", "999" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("^klikit: resource_not_found: .*request_id %x+"), err)
    code, out, err = cli.run { "order", "1;drop" }
    assert.equal(2, code, err)
    assert.equal("", out)
  end)
end)

describe("klikit set-status", function()
  before_each(function() sandbox.reset { data = true } end)

  it("moves an order and writes { id, status, updated_at }", function()
    local id = string.format("%d", record_with_status(1).id)
    local code, out, err = cli.run { "set-status", id, "accepted", "--format", "jsonl" }
    assert.equal(0, code, err)
    local res = cli.jsonl(out)[1]
    assert.equal(id, id_text(res.id))
    assert.equal("accepted", res.status)
    assert.equal(2, assert(sandbox.client():order(id)).status)
  end)

  it("needs --reason for cancelled and rejected (refused before sending: exit 2), and sends it", function()
    local id = string.format("%d", record_with_status(1).id)
    for _, status in ipairs { "cancelled", "rejected" } do
      local code, out, err = cli.run { "set-status", id, status }
      assert.equal(2, code, err)
      assert.equal("", out)
      assert.truthy(err:find("needs a reason_code", 1, true), err)
    end
    for _, r in ipairs(sandbox.requests()) do assert.not_equal("PATCH", r.method) end
    local code, out = cli.run { "set-status", id, "cancelled", "--reason", "out_of_items", "--format", "csv" }
    assert.equal(0, code)
    assert.same({ id, "cancelled" }, { cli.csv(out)[2][1], cli.csv(out)[2][2] })
    local sent = sandbox.requests()[1]
    assert.same({ status = "cancelled", reason_code = "out_of_items" }, require("cjson").decode(sent.body))
    -- an illegal move: 1, with klikit's code and request_id
    local err
    code, out, err = cli.run { "set-status", id, "accepted" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("^klikit: state_invalid_transition: .*request_id %x+"), err)
    code, out, err = cli.run { "set-status", id, "eaten" }
    assert.equal("", out)
    assert.equal(2, code)
    assert.truthy(err:find("status must be one of accepted", 1, true), err)
  end)

  it("replays with the same --idempotency-key instead of applying twice", function()
    local id = string.format("%d", record_with_status(1).id)
    local argv = { "set-status", id, "accepted", "--idempotency-key", "cli-accept-" .. id, "--format", "jsonl" }
    local before = sandbox.stats().writes_applied
    local c1, o1 = cli.run(argv)
    local c2, o2 = cli.run(argv)
    assert.equal(0, c1)
    assert.equal(0, c2)
    assert.same(cli.jsonl(o1), cli.jsonl(o2))
    assert.equal(before + 1, sandbox.stats().writes_applied)
  end)
end)

describe("klikit brands and branches", function()
  before_each(function() sandbox.reset { data = true } end)

  it("list what the client lists, in every format", function()
    local client = sandbox.client()
    for _, what in ipairs { "brands", "branches" } do
      local want = assert(assert(client[what](client)):all())
      local code, out = cli.run { what, "--format", "jsonl" }
      assert.equal(0, code)
      assert.same(want, cli.jsonl(out))
      code, out = cli.run { what, "--format", "csv" }
      assert.equal(0, code)
      local records = cli.csv(out)
      assert.same(require("klikit.cli.cmd." .. what).DEFAULT_FIELDS, records[1])
      assert.equal(#want + 1, #records)
      for i, row in ipairs(want) do assert.equal(id_text(row.id), records[i + 1][1]) end
      code, out = cli.run({ what, "--fields", "id,title" }, { tty = { stdout = true } })
      assert.equal(0, code)
      local header, rows = cli.table(out)
      assert.same({ "id", "title" }, header)
      assert.equal(want[1].title, rows[1][2])
    end
  end)
end)

describe("klikit webhook verify", function()
  local f = assert(io.open("spec/fixtures/webhook-test-vector.json", "rb"))
  local v = assert(core.decode_json(f:read("*a")))
  f:close()
  local sig = v.headers["x-klikit-signature"]
  local env = { KLIKIT_WEBHOOK_SECRET = v.secret }

  it("exits 0 for the docs' test vector, 1 for a tampered body or a wrong signature", function()
    local argv = { "webhook", "verify", "--secret-env", "KLIKIT_WEBHOOK_SECRET", "--signature", sig }
    local code, out, err = cli.run(argv, { env = env, stdin = v.raw_body })
    assert.equal(0, code, err)
    assert.equal("valid\n", out)
    code, out, err = cli.run(argv, { env = env, stdin = v.raw_body .. "\n" })
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("^klikit: webhook_signature_invalid: ", 1), err)
    assert.falsy(err:find(v.secret, 1, true))
    code = cli.run({ "webhook", "verify", "--secret-env", "KLIKIT_WEBHOOK_SECRET", "--signature", sig:upper() },
      { env = env, stdin = v.raw_body })
    assert.equal(1, code)
    code, out, err = cli.run({ "webhook", "verify", "--secret-env", "KLIKIT_WEBHOOK_SECRET", "--signature", sig,
      "--json" }, { env = { KLIKIT_WEBHOOK_SECRET = "another" }, stdin = v.raw_body })
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("webhook_signature_invalid", cli.json_error(err).code)
  end)

  it("exits 2 without the variable or the signature, and never takes the secret itself", function()
    local cases = {
      { { "webhook", "verify", "--secret-env", "NOPE_NOT_SET", "--signature", sig }, "NOPE_NOT_SET is not set" },
      { { "webhook", "verify", "--secret-env", "KLIKIT_WEBHOOK_SECRET" }, "--signature HEX is required" },
      { { "webhook", "verify", "--signature", sig }, "--secret-env VAR is required" },
      { { "webhook", "verify", "--secret", v.secret, "--signature", sig }, "credentials are never taken" },
      { { "webhook", "sign" }, "the only webhook action is verify" },
    }
    for _, c in ipairs(cases) do
      local code, _, err = cli.run(c[1], { env = env, stdin = v.raw_body })
      assert.equal(2, code, err)
      assert.truthy(err:find(c[2], 1, true), err)
      assert.falsy(err:find(v.secret, 1, true))
    end
  end)
end)

describe("klikit export-klar", function()
  local tmp
  setup(function()
    tmp = os.tmpname()
    os.remove(tmp)
    assert(os.execute("mkdir -p " .. tmp) ~= false)
  end)
  teardown(function() os.execute("rm -rf '" .. tmp .. "'") end)
  before_each(function()
    sandbox.reset { data = true }
    sandbox.klar_mode {}
  end)

  local RANGE = { "--from", "2025-11-01T00:00:00Z", "--to", "2026-11-01T00:00:00Z" }
  local function export(state, ...)
    local argv = { "export-klar", "--state", tmp .. "/" .. state }
    for _, a in ipairs(RANGE) do argv[#argv + 1] = a end
    for _, a in ipairs { ... } do argv[#argv + 1] = a end
    return cli.run(argv)
  end

  it("--dry-run maps every order and has Klar validate it; nothing stored, no state file", function()
    local code, out, err = export("dry.state", "--dry-run", "--format", "jsonl")
    assert.equal(0, code, err)
    local s = cli.jsonl(out)[1]
    assert.is_true(s.dry_run)
    assert.same({ 1200, 1200, 1200, 1200 }, { s.walked, s.mapped, s.sent, s.valid })
    assert.equal(0, sandbox.klar_report().count)
    assert.is_nil(io.open(tmp .. "/dry.state", "rb"))
    local validated = 0
    for _, r in ipairs(sandbox.requests()) do
      if r.path:find("/orders/validate$") then validated = validated + 1 end
      assert.falsy(r.path:find("/orders/json$"), r.path)
    end
    assert.equal(5, validated)
    -- Klar finding fault: reported, exit 3
    local victim = string.format("%d", sandbox.records()[3].id)
    sandbox.klar_mode { reject = { [victim] = "no thanks" } }
    code, out = export("dry.state", "--dry-run")
    assert.equal(3, code)
    assert.truthy(out:find("Klar would accept 1199 of 1200", 1, true), out)
    assert.truthy(out:find("rejected " .. victim .. ": ", 1, true), out)
  end)

  it("exports every order exactly once; rejected orders make exit 3 and are listed", function()
    local code, out, err = export("real.state")
    assert.equal(0, code, err)
    assert.truthy(out:find("walked 1200 orders, sent 1200, Klar accepted 1200 in 5 batches", 1, true), out)
    local report = sandbox.klar_report()
    assert.equal(1200, report.count)
    for _, n in pairs(report.uploads) do assert.equal(1, n) end
    -- the next run: only the lookback, and a rejection
    local victim
    for _, r in ipairs(sandbox.records()) do
      if r.created >= require("klikit.util").parse_time("2026-10-31T00:00:00Z") then victim = r end
    end
    local id = string.format("%d", victim.id)
    sandbox.klar_mode { reject = { [id] = "not today" } }
    code, out = cli.run { "export-klar", "--state", tmp .. "/real.state", "--to", "2026-11-02T00:00:00Z",
      "--lookback", "1d", "--format", "jsonl" }
    assert.equal(3, code)
    local s = cli.jsonl(out)[1]
    assert.truthy(s.rejected[id])
    assert.is_true(s.walked > 0 and s.walked < 100)
    assert.truthy(require("cjson").decode(io.open(tmp .. "/real.state"):read("*a")).rejected[id])
  end)

  it("exits 2 without a state file, a first --from or KLAR_TOKEN; 1 when another export holds the lock", function()
    local code, _, err = cli.run { "export-klar" }
    assert.equal(2, code)
    assert.truthy(err:find("--state FILE is required", 1, true))
    code, _, err = cli.run { "export-klar", "--state", tmp .. "/first.state" }
    assert.equal(2, code)
    assert.truthy(err:find("from is required for the first run", 1, true), err)
    code, _, err = cli.run({ "export-klar", "--state", tmp .. "/first.state", "--from", "2026-10-01T00:00:00Z" },
      { env = { KLAR_TOKEN = false } })
    assert.equal(2, code)
    assert.truthy(err:find("set KLAR_TOKEN", 1, true), err)
    code, _, err = cli.run { "export-klar", "--state", tmp .. "/first.state", "--lookback", "1y" }
    assert.equal(2, code)
    assert.truthy(err:find("--lookback must be", 1, true), err)
    local lock = assert(require("klikit.klar.export_state").lock(assert(core.realpath(tmp .. "/locked.state"))))
    code, _, err = cli.run { "export-klar", "--state", tmp .. "/locked.state", "--from", "2026-10-01T00:00:00Z" }
    lock:unlock()
    assert.equal(1, code)
    assert.truthy(err:find("^klikit: export_locked: "), err)
  end)

  it("shows Klar's progress line on a terminal", function()
    local code, _, err = cli.run({ "export-klar", "--state", tmp .. "/tty.state", "--from", "2026-09-01T00:00:00Z",
      "--to", "2026-11-01T00:00:00Z" }, { tty = { stderr = true } })
    assert.equal(0, code)
    assert.truthy(err:find("\r\27%[Kklar export: %d+ walked, %d+ sent, %d+ accepted, 0 rejected, 0 unmappable"), err)
    assert.equal("\n", err:sub(-1))
  end)
end)

describe("klikit sandbox", function()
  it("starts and stops a sandbox from the source tree #subprocess", function()
    local code, out, err = cli.run { "sandbox", "start" }
    assert.equal(0, code, err)
    local dir = out:match("KLIKIT_SANDBOX_DIR=([^\n]+)")
    local url = out:match("KLIKIT_BASE_URL=([^\n]+)")
    assert.truthy(dir and url, out)
    local ok, ran = pcall(function()
      local c, o = cli.run({ "brands", "--format", "jsonl" }, { env = { KLIKIT_BASE_URL = url } })
      return c == 0 and #cli.jsonl(o) > 0
    end)
    code = cli.run({ "sandbox", "stop" }, { env = { KLIKIT_SANDBOX_DIR = dir } })
    assert.is_true(ok and ran)
    assert.equal(0, code)
    assert.is_nil(io.open(dir .. "/nginx.conf", "rb"))
  end)

  it("says so, with exit 2, when there is no sandbox to run", function()
    local _
    local code, out, err = cli.run({ "sandbox", "start" }, { env = { KLIKIT_SANDBOXCTL = "/nonexistent/sandboxctl" } })
    assert.equal(2, code)
    assert.equal("", out)
    assert.truthy(err:find("does not exist", 1, true), err)
    code, _, err = cli.run { "sandbox", "explode" }
    assert.equal(2, code)
    assert.truthy(err:find("run, start and stop", 1, true), err)
    code, _, err = cli.run({ "sandbox", "stop" }, { env = { KLIKIT_SANDBOX_DIR = false } })
    assert.equal(2, code)
    assert.truthy(err:find("KLIKIT_SANDBOX_DIR", 1, true), err)
  end)
end)
