-- klikit.cli.output: the three formats on rows made to be awkward (quotes, commas, line
-- breaks, nulls, nested lists, control characters, long and multibyte values).
local output = require "klikit.cli.output"
local cli = require "support.cli"
local core = require "klikit.core"

local function write(format, fields, rows, opts)
  local buf = {}
  local stream = { write = function(_, ...) for _, s in ipairs { ... } do buf[#buf + 1] = s end end }
  local w = output.writer(format, fields, stream, opts)
  for _, r in ipairs(rows) do w:row(r) end
  w:finish()
  return table.concat(buf)
end

local ROWS = {
  { id = 1, name = 'say "hi", then\r\nleave', tags = { "a", "b" }, price = 1300000, ratio = 0.25,
    brands = { { id = 7, title = "Ayam; Geprek" }, { id = 8, title = "Bakso" } }, info = { city = "Bali" },
    list = { 1, core.null, 3 }, ok = true },
  { id = 2, name = "plain", tags = {}, price = 0 },
}

describe("klikit.cli.output", function()
  it("csv: RFC 4180 quoting, CRLF records, lists joined with ;, objects as JSON, null and missing empty", function()
    local text = write("csv", { "id", "name", "tags", "brands.title", "brands.id", "info", "list", "missing",
      "ok", "ratio", "price" }, ROWS)
    local records = cli.csv(text)
    assert.same({ "id", "name", "tags", "brands.title", "brands.id", "info", "list", "missing", "ok", "ratio",
      "price" }, records[1])
    assert.same({ "1", 'say "hi", then\r\nleave', "a;b", "Ayam; Geprek;Bakso", "7;8", '{"city":"Bali"}', "1;;3", "",
      "true", "0.25", "1300000" }, records[2])
    assert.same({ "2", "plain", "", "", "", "", "", "", "", "", "0" }, records[3])
    assert.truthy(text:find('"say ""hi"", then\r\nleave"', 1, true))
    -- no rows: the header alone
    assert.equal("id,name\r\n", write("csv", { "id", "name" }, {}))
  end)

  it("jsonl: one object a line, JSON null kept, projected on request", function()
    local lines = cli.jsonl(write("jsonl", nil, ROWS))
    assert.equal(2, #lines)
    assert.equal(require("cjson").null, lines[1].list[2])
    assert.equal(1300000, lines[1].price)
    local text = write("jsonl", { "id", "brands.title", "info.city" }, ROWS, { project = true })
    assert.same({ { id = 1, brands = { { title = "Ayam; Geprek" }, { title = "Bakso" } }, info = { city = "Bali" } },
      { id = 2 } }, cli.jsonl(text))
    assert.falsy(text:find("1300000", 1, true))
  end)

  it("table: aligned, widths bounded, long values cut with …, control characters escaped", function()
    local long = string.rep("é", 60)
    local text = write("table", { "id", "name", "long" }, { { id = 1, name = "a\27[31mred", long = long },
      { id = 22, name = "b" } })
    local header, rows = cli.table(text)
    assert.same({ "id", "name", "long" }, header)
    assert.equal("1", rows[1][1])
    assert.falsy(text:find("\27", 1, true), "no raw escape reaches the terminal")
    assert.truthy(rows[1][2]:find("\\", 1, true))
    assert.equal(string.rep("é", output.MAX_WIDTH - 1) .. "…", rows[1][3])
    assert.equal("22", rows[2][1])
    -- after the sample, rows keep the widths fixed from it
    local many = {}
    for i = 1, output.SAMPLE + 5 do many[i] = { id = i, v = i == output.SAMPLE + 3 and string.rep("x", 50) or "y" } end
    header, rows = cli.table(write("table", { "id", "v" }, many))
    assert.same({ "id", "v" }, header)
    assert.equal(output.SAMPLE + 5, #rows)
    assert.equal("…", rows[output.SAMPLE + 3][2]) -- column v kept the sample's width (1)
  end)

  it("writes every number exactly (lua-cjson alone keeps 14 digits), and leaves the row as it was", function()
    local json_line = require "klikit.cli.json_line"
    local row = { lat = -8.124293388269452, big = 123456789012345, max = 2 ^ 53, small = 0.1,
      sum = 0.1 + 0.2, n = 71280866, nested = { { x = 1 / 3 } }, s = "1e5" }
    local text = assert(json_line.encode(row))
    local back = core.decode_json(text)
    for _, k in ipairs { "lat", "big", "max", "small", "sum", "n" } do assert.equal(row[k], back[k], k) end
    assert.equal(row.nested[1].x, back.nested[1].x)
    assert.equal("1e5", back.s)
    assert.truthy(text:find('"big":123456789012345', 1, true), text)
    assert.truthy(text:find('"small":0.1', 1, true), text)
    assert.equal(-8.124293388269452, row.lat)
    assert.equal(0.1 + 0.2, row.sum)
    assert.equal("-8.124293388269452", output.field_text(row, "lat"))
    assert.equal("123456789012345", output.field_text(row, "big"))
  end)

  it("field paths follow lists into their elements", function()
    local order = { cart_v2 = { { name = "A", modifier_groups = { { name = "M1" }, { name = "M2" } } },
      { name = "B", modifier_groups = {} } } }
    assert.equal("A;B", output.field_text(order, "cart_v2.name"))
    assert.equal("M1;M2", output.field_text(order, "cart_v2.modifier_groups.name"))
    assert.equal("", output.field_text(order, "nothing.here"))
    assert.same({ "id", "a.b" }, output.split_fields(" id , a.b ,"))
  end)
end)
