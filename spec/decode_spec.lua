-- The single-pass decoder (core.decode_json, core.decode_envelope) against the path it
-- replaced (core._decode_json_reference, core._decode_envelope_reference: the value and
-- depth guard, lua-cjson, the normalisation pass). Every result must be the same: values,
-- integer subtypes, signed zeros, nulls, error kinds and messages (lua-cjson's own words).
-- Inputs: the captured and synthesized klikit payloads (and cuts of them), every sandbox
-- page, the fuzz seeds, and DOCS generated documents. Then strictness, limits, nulls, and
-- projections (core.compile_fields) against the full decode restricted to their paths.
--
-- KLIKIT_DECODE_DOCS: how many generated documents (default 20000; fewer under valgrind).
-- KLIKIT_EXAMPLES: the klikit example payloads (default /work/shared/reference/klikit-examples).
local core = require "klikit.core"
local sandbox = require "support.sandbox"
local prng = require("klikit_sandbox.data").prng

local DOCS = tonumber(os.getenv("KLIKIT_DECODE_DOCS")) or (os.getenv("KLIKIT_UNDER_VALGRIND") and 400) or 20000
local EXAMPLES = os.getenv("KLIKIT_EXAMPLES") or "/work/shared/reference/klikit-examples"

local model = require "support.decode_model"
local differs, projection_differs = model.differs, model.projection_differs

local function same_as_reference(body, max_values, status)
  local d = differs(body, max_values, status)
  if d then error(string.format("%s\nbody (%d bytes): %q", d, #body, body:sub(1, 300)), 2) end
end

local ORDER_FIELDS = {
  { "id", "created_at", "final_price", "status", "brands.title" },
  { "id", "created_at", "brands", "cart_v2.name", "cart_v2.modifier_groups.name", "cart.brand.title",
    "delivery_info.coordinates.latitude", "order_status_histories", "no_such_field", "id.not_an_object" },
  { "cart_v2", "cart_v2.price", "fulfillments.receiver.coordinates", "fulfillments.sender.first_name" },
}

-- Inputs ---------------------------------------------------------------------------------
local read = require("support.files").read

local function files_under(dir)
  local p = io.popen("find '" .. dir .. "' -type f 2>/dev/null | sort")
  local list = {}
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

-- A seed of the envelope fuzzer: "NNN\n<body>" gives the status.
local function seed_case(raw)
  local status, body = raw:match("^(%d%d%d)\n(.*)$")
  if status then return body, tonumber(status) end
  return raw, 200
end

local function fetch_pages(quirks)
  sandbox.quirks(quirks)
  local auth = { Authorization = "Basic " .. core.base64(sandbox.partner_key .. ":" .. sandbox.secret_key) }
  local pages, page = {}, 1
  while true do
    local resp = sandbox.http("GET", "/v1/partner/orders?size=100&page=" .. page, nil, auth)
    assert.equal(200, resp.status)
    local ok, data = core.decode_envelope(resp.status, resp.body)
    assert.is_true(ok)
    local rows = data and (data.orders or data.results or (data[1] and data)) or {}
    if #rows == 0 then break end
    pages[#pages + 1] = resp.body
    page = page + 1
  end
  sandbox.quirks {}
  return pages
end

-- A seeded generator of JSON texts: numbers at the edges, strings with every escape (and
-- lone surrogates), literals, duplicate keys, empty and deep containers, odd whitespace;
-- some texts broken on purpose (cut, a byte changed, garbage after).
local function generator(seed)
  local rnd = prng(seed)
  local function chance(p) return rnd(10000) <= p * 10000 end
  local function pick(t) return t[rnd(#t)] end
  local NUMBERS = { "0", "-0", "1", "-1", "1.0", "-1.0", "1e2", "1E2", "1e+2", "1e-2", "1.5", "-1.5", "0.1",
    "1e308", "-1e308", "1.7976931348623157e308", "1e309", "-1e309", "5e-324", "1e-400", "-1e-400",
    "9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740992", "-9007199254740993",
    "9007199254740992.0", "9007199254740994", "18446744073709551616", "-9223372036854775808",
    "123456789012345", "1234567890123456", "999999999999999", "-999999999999999", "1000000000000000",
    "0.0", "-0.0", "0e0", "0E-5", "1.", "-.5", "1.e3", "71280866", "2.5e15", "4503599627370496.5", "1e15", "1e16",
    "12345678901234567890123", "0.30000000000000004", "-8.114293388269452",
    -- refused by lua-cjson, and so here
    "01", "-01", "00", "+1", ".5", "1e", "1e+", "-", "0x1F", "-0x1", "0X1", "NaN", "Infinity", "-Infinity",
    "inf", "-inf", "-nan", "1.5.3", "--1", "- 1", "-.", "." }
  local CHUNKS = { "a", "id", "name", "\195\169", "\240\159\152\128", "\226\130\172", "x y", "klikit", "\1",
    "\t", "\127", "\255", "\n", " ", "0", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041",
    "\\u00e9", "\\u00E9", "\\u0000", "\\u20AC", "\\uD83D\\uDE00", "\\udbff\\udfff", "\\uFFFF", "\\u001f",
    "\\u0800", "\\u07ff" }
  local BAD_CHUNKS = { "\\ud800", "\\udc00", "\\uD800\\u0041", "\\uD800x", "\\uD800\\uD800", "\\x", "\\U0041",
    "\\u12", "\\u12G4", "\\'", "\\0", "\\", "\0" }
  local KEYS = { "id", "name", "a", "b", "ab", "a\\u0062", "items", "data", "orders", "results", "x", "\195\169",
    "created_at", "", "x_1", "\\u0069d" }
  local WS = { " ", "\n", "\t", "\r", "  \n  ", "\r\n" }

  local function ws() return chance(0.1) and pick(WS) or "" end
  local function number()
    if chance(0.4) then return pick(NUMBERS) end
    local s = (chance(0.3) and "-" or "") .. (chance(0.2) and "0" or tostring(rnd(1000000)))
    if chance(0.1) then
      local digits = {}
      for i = 1, rnd(25) do digits[i] = tostring(rnd(10) - 1) end
      s = (chance(0.3) and "-" or "") .. tostring(rnd(9)) .. table.concat(digits)
    end
    if chance(0.3) then s = s .. "." .. tostring(rnd(1000) - 1) end
    if chance(0.2) then s = s .. pick { "e", "E" } .. pick { "", "+", "-" } .. tostring(rnd(400) - 1) end
    return s
  end
  local function str()
    local parts = { '"' }
    for _ = 1, rnd(6) - 1 do
      if chance(0.01) then parts[#parts + 1] = pick(BAD_CHUNKS)
      elseif chance(0.1) then parts[#parts + 1] = string.format("\\u%04x", rnd(65536) - 1)
      else parts[#parts + 1] = pick(CHUNKS) end
    end
    parts[#parts + 1] = '"'
    return table.concat(parts)
  end
  local value
  local function container(depth, open)
    local parts = {}
    for i = 1, (chance(0.15) and 0 or rnd(6)) do
      local v = value(depth + 1)
      if open == "{" then v = '"' .. pick(KEYS) .. '"' .. ws() .. ":" .. ws() .. v end
      parts[i] = ws() .. v .. ws()
    end
    return open .. table.concat(parts, ",") .. (open == "{" and "}" or "]")
  end
  function value(depth)
    local r = depth > 5 and rnd(60) or rnd(100)
    if r <= 15 then return number()
    elseif r <= 35 then return str()
    elseif r <= 45 then return pick { "true", "false", "null", "null", "null" }
    elseif r <= 46 then return pick { "tru", "nul", "True", "nulll", "falsey", "undefined" }
    elseif r <= 75 then return container(depth, "{")
    else return container(depth, "[") end
  end
  local function deep()
    local n = 190 + rnd(20)
    if chance(0.5) then return string.rep("[", n) .. value(6) .. string.rep("]", n) end
    return string.rep('{"a":', n) .. value(6) .. string.rep("}", n)
  end
  local GARBAGE = { ",", "]", "}", ":", '"', "\\", "x", "\0", " ", "0", "-", ".", "{", "[", "\0x", "\f" }
  local function broken(s)
    local r = rnd(5)
    if #s == 0 or r == 1 then return s .. pick(GARBAGE) end
    local at = rnd(#s)
    if r == 2 then return s:sub(1, at - 1) end
    if r == 3 then return s:sub(1, at - 1) .. pick(GARBAGE) .. s:sub(at + 1) end
    if r == 4 then return s:sub(1, at - 1) .. pick(GARBAGE) .. s:sub(at) end
    return s:sub(1, at - 1) .. s:sub(at + 1)
  end
  return {
    rnd = rnd, chance = chance, pick = pick, value = value, container = container,
    document = function()
      local s = chance(0.01) and deep() or (ws() .. value(0) .. ws())
      if chance(0.25) then s = broken(s) end
      return s
    end,
    -- an envelope whose rows sit where klikit.http.page looks for them
    envelope = function()
      local rows = {}
      for i = 1, rnd(5) - 1 do rows[i] = chance(0.9) and container(1, "{") or value(1) end
      local list = "[" .. table.concat(rows, ",") .. "]"
      local data = pick { '{"orders":' .. list .. ',"total":' .. #rows .. ',"page":null}', '{"results":' .. list .. "}",
        list, '{"orders":{"id":1}}', "null", '{"orders":' .. list .. ',"results":' .. list .. "}" }
      local s = '{"request_id":"r' .. rnd(99) .. '",' .. (chance(0.1) and '"data":1,' or "") .. '"data":' .. data .. "}"
      if chance(0.15) then s = broken(s) end
      return s
    end,
  }
end

describe("klikit.core decoding: the single-pass decoder against the old path", function()
  local seen = {}
  local function count(what)
    seen[#seen + 1] = string.format("%d %s", model.counts.bodies - (seen.total or 0), what)
    seen.total = model.counts.bodies
  end
  teardown(function()
    print(string.format("\n  decoder vs old path: %d bodies (%s)", model.counts.bodies, table.concat(seen, ", ")))
  end)

  it("decodes every captured and synthesized klikit payload, and cuts of them, as the old path", function()
    local files = files_under(EXAMPLES)
    if #files == 0 then return pending("no example payloads at " .. EXAMPLES) end
    local n = 0
    for _, path in ipairs(files) do
      local body = assert(read(path))
      local status = tonumber(path:match("/(%d%d%d)%.[^/]*$")) or 200
      for _, s in ipairs { status, 200, 404, 502 } do
        same_as_reference(body, nil, s)
        n = n + 1
      end
      local step = math.max(1, math.floor(#body / 60))
      for cut = 0, #body, step do
        same_as_reference(body:sub(1, cut), nil, status)
        same_as_reference(body:sub(1, cut) .. "}", nil, status)
        n = n + 2
      end
      for _, list in ipairs(ORDER_FIELDS) do
        local d = projection_differs(body, list)
        assert(d == nil, path .. ": " .. tostring(d))
      end
    end
    assert.is_true(#files >= 40 and n > 3000, n)
    count("payloads and cuts")
  end)

  it("decodes every sandbox page as the old path, with rows under orders, results or data", function()
    local pages = 0
    for _, key in ipairs { "orders", "results", "bare" } do
      for _, body in ipairs(fetch_pages { list_key = key, id_format = key == "results" and "string" or "number" }) do
        same_as_reference(body)
        same_as_reference(body, 20000) -- over max_values part way
        same_as_reference(body:sub(1, #body - 7))
        pages = pages + 1
      end
    end
    assert.equal(36, pages) -- 1,200 orders, 12 pages of 100, three shapes
    count("from sandbox pages")
  end)

  it("decodes the fuzz seeds, and any corpus the fuzzers grew, as the old path", function()
    local n = 0
    for _, dir in ipairs { "fuzz/seeds/envelope", "build/fuzz/corpus/envelope", "build/fuzz/corpus/decode" } do
      for _, path in ipairs(files_under(dir)) do
        local raw = read(path) -- nil when a running fuzzer has just reduced it away
        if raw then
          local body, status = seed_case(raw)
          same_as_reference(body, nil, status)
          same_as_reference(body, 40, status)
          n = n + 1
        end
      end
    end
    assert.is_true(n >= 50, n)
    count("from fuzz seeds and corpora")
  end)

  it("decodes " .. DOCS .. " generated documents as the old path (values, subtypes, errors)", function()
    local g = generator(20260601)
    local stats = { ok = 0, decode_failed = 0, too_large = 0 }
    for i = 1, DOCS do
      local doc = g.document()
      local max_values = g.chance(0.2) and g.rnd(60) or nil
      local status = g.pick { 200, 200, 201, 400, 404, 502 }
      local d = differs(doc, max_values, status)
        or (g.chance(0.3) and differs('{"request_id":"r","data":' .. doc .. "}", max_values, status))
      if d then error(string.format("document %d: %s\n%q", i, d, doc:sub(1, 400))) end
      local v, kind = core.decode_json(doc, max_values)
      stats[v ~= nil and "ok" or kind or "ok"] = stats[v ~= nil and "ok" or kind or "ok"] + 1
    end
    -- the generator reaches every outcome often
    assert.is_true(stats.ok > DOCS / 4 and stats.decode_failed > DOCS / 10 and stats.too_large > DOCS / 20)
    count(string.format("generated: %d decoded, %d decode_failed, %d too_large", stats.ok, stats.decode_failed,
      stats.too_large))
  end)
end)

describe("klikit.core decoding: containers and strings at the edges", function()
  it("decodes wide and deeply nested containers, late duplicates, long escaped strings as the old path", function()
    local levels, arrays = {}, {}
    for i = 1, 199 do
      local members = {}
      for j = 1, 31 do members[j] = '"k' .. j .. '":' .. j end
      levels[i] = "{" .. table.concat(members, ",") .. ',"n":'
      arrays[i] = "[" .. string.rep("1,", 63)
    end
    same_as_reference(table.concat(levels) .. "1" .. string.rep("}", 199)) -- every level gathered
    same_as_reference(table.concat(arrays) .. "1" .. string.rep("]", 199))
    local members = { '"a":1' }
    for j = 2, 39 do members[j] = '"k' .. j .. '":' .. j end
    for _, last in ipairs { '"a":2', '"a":null' } do -- past the pairs gathered on the stack
      members[40] = last
      same_as_reference("{" .. table.concat(members, ",") .. "}")
    end
    assert.is_nil(core.decode_json("{" .. table.concat(members, ",") .. "}").a)
    local long = {}
    for i = 1, 20000 do long[i] = (i % 7 == 0) and "\\u00e9\\n" or "abcdefgh" end
    long = table.concat(long)
    same_as_reference('["' .. long .. '"]')
    same_as_reference('{"' .. long .. '":1}')
    local d = projection_differs('{"data":[{"' .. long .. '":1,"a":2}]}', { "a" })
    assert(d == nil, d)
    local wide = {}
    for i = 1, 5000 do wide[i] = '"k' .. i .. '":[' .. i .. "," .. (i / 3) .. ',null,"x"]' end
    same_as_reference("{" .. table.concat(wide, ",") .. "}")
    same_as_reference("{" .. table.concat(wide, ",") .. "}", 7777)
  end)
end)

describe("klikit.core decoding: strictness", function()
  local refused = {
    ["[1] x"] = "Expected the end but found invalid token at character 5",
    ["[01]"] = "Expected value but found invalid number at character 2",
    ["[+1]"] = "Expected value but found invalid token at character 2",
    ["[.5]"] = "Expected value but found invalid token at character 2",
    ["[1.5.3]"] = "Expected comma or array end but found invalid token at character 5",
    ["[NaN]"] = "Expected value but found invalid token at character 2",
    ["[-Infinity]"] = "Expected value but found invalid number at character 2",
    ["[0x10]"] = "Expected value but found invalid number at character 2",
    ['["\\x"]'] = "Expected value but found invalid escape code at character 3",
    ['["\\ud800"]'] = "Expected value but found invalid unicode escape code at character 3",
    ['{"a":"\\udc00"}'] = "Expected value but found invalid unicode escape code at character 7",
    ['{"a" 1}'] = "Expected colon but found T_NUMBER at character 6",
    ['{"a":1,}'] = "Expected object key string but found T_OBJ_END at character 8",
    ["[1,]"] = "Expected value but found T_ARR_END at character 4",
    ['"abc'] = "Expected value but found unexpected end of string at character 5",
    [""] = "Expected value but found T_END at character 1",
    ["\239\187\191{}"] = "Expected value but found invalid token at character 1", -- a BOM
    ["\f[]"] = "Expected value but found invalid token at character 1",
    ["a\0"] = "JSON parser does not support UTF-16 or UTF-32",
  }

  it("refuses what lua-cjson refuses, with its message", function()
    for body, why in pairs(refused) do
      local v, kind, message = core.decode_json(body)
      assert.is_nil(v, body)
      assert.equal("decode_failed", kind)
      assert.equal("the body is not valid JSON (" .. why .. ")", message)
      same_as_reference(body)
    end
  end)

  it("accepts what lua-cjson accepts: raw control bytes in strings, 1. and -.5, a NUL ending the text", function()
    assert.equal("a\nb\1c", core.decode_json('"a\nb\1c"'))
    assert.same({ 1, -0.5, 1000 }, core.decode_json("[1.,-.5,1.e3]"))
    assert.same({ a = 1 }, core.decode_json('{"a":1}\0 anything'))
    assert.equal("\0\195\169\240\159\152\128", core.decode_json('"\\u0000\\u00e9\\ud83d\\ude00"'))
    for _, body in ipairs { '"a\nb\1c"', "[1.,-.5,1.e3]", '{"a":1}\0 anything', '"\\u0000\\u00e9\\ud83d\\ude00"' } do
      same_as_reference(body)
    end
  end)
end)

describe("klikit.core decoding: numbers and nulls", function()
  it("makes integral numbers within 2^53 integers on 5.3+, as the old path", function()
    local v = core.decode_json("[1, 1.0, 1e2, -0, 9007199254740992, 9007199254740993, -9007199254740992,"
      .. " 1.5, 1e308, 9007199254740994, 1e-400, 123456789012345678]")
    assert.equal(1, v[1]); assert.equal(100, v[3]); assert.equal(1.5, v[8]); assert.equal(1e308, v[9])
    if math.type then
      for i, t in ipairs { "integer", "integer", "integer", "integer", "integer", "integer", "integer", "float",
        "float", "float", "integer", "float" } do
        assert.equal(t, math.type(v[i]), "element " .. i)
      end
      assert.equal(0, v[4]); assert.equal(1 / 0, 1 / v[4] * 1.0) -- -0 is the integer 0
    else
      assert.equal(-1 / 0, 1 / v[4]) -- a double keeps its sign
    end
    same_as_reference("[1, 1.0, 1e2, -0, 9007199254740992, 9007199254740993, 1.5, 1e308, 1e-400, -0.0]")
  end)

  it("leaves null members out (a later null clears an earlier duplicate) and keeps null elements", function()
    local v = core.decode_json('{"a":null,"b":[null,1,null],"c":{"d":null},"e":1,"e":null,"f":null,"f":2}')
    assert.same({ b = { core.null, 1, core.null }, c = {}, f = 2 }, v)
    assert.is_nil(core.decode_json("null"))
    local ok, data, rid = core.decode_envelope(200, '{"request_id":"r","data":null}')
    assert.is_true(ok); assert.is_nil(data); assert.equal("r", rid)
    ok, data = core.decode_envelope(200, '{"request_id":null,"data":{"x":null}}')
    assert.is_true(ok); assert.same({}, data)
    local parts
    ok, parts = core.decode_envelope(200, '{"error":null,"request_id":"r"}')
    assert.is_false(ok); assert.equal("decode_failed", parts.kind)
    for _, body in ipairs { '{"request_id":"r","data":null}', '{"error":null,"request_id":"r"}',
      '{"request_id":null,"data":{"x":null}}', '{"data":1,"data":null}', '{"data":null,"data":1}' } do
      same_as_reference(body)
    end
  end)
end)

describe("klikit.core decoding: limits", function()
  it("counts values as the guard did: the same too_large at every limit", function()
    for _, body in ipairs { "[1,2,3]", '{"a":[{},[]],"b":"x,:y"}', '{"request_id":"r","data":[1,2]}' } do
      for max_values = 1, 12 do same_as_reference(body, max_values) end
    end
    assert.is_not_nil(core.decode_json("[1,2,3]", 4)) -- 1, '[', two ','
    local v, kind, message = core.decode_json("[1,2,3]", 3)
    assert.is_nil(v); assert.equal("too_large", kind)
    assert.equal("the body holds more JSON values than max_json_values; refused", message)
    local ok, parts = core.decode_envelope(200, '{"request_id":"r","data":[1,2]}', 5)
    assert.is_false(ok)
    assert.same({ kind = "too_large", status = 200,
      message = "the body holds more than 5 JSON values (max_json_values); refused" }, parts)
  end)

  it("refuses nesting deeper than 200 wherever it is, even after a syntax error", function()
    assert.is_not_nil(core.decode_json(string.rep("[", 200) .. string.rep("]", 200)))
    local _, kind, message = core.decode_json(string.rep("[", 201) .. string.rep("]", 201))
    assert.equal("too_large", kind)
    assert.equal("the body nests JSON deeper than 200 levels; refused", message)
    for _, body in ipairs { string.rep('{"a":', 201) .. "1" .. string.rep("}", 201),
      "[x" .. string.rep("[", 300), '{"a":1}\0' .. string.rep("[", 300), "[1,2,3] ,,,," } do
      same_as_reference(body)
      same_as_reference(body, 4)
    end
  end)

  it("stops at max_values without building the rest (memory stays bounded)", function()
    local body = "[" .. string.rep("[0,{},\"x\"],", 400000) .. "0]" -- 4.4 MB, 2.8 million values
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    local ok, parts = core.decode_envelope(200, body, 1000)
    local grew = collectgarbage("count") - before
    collectgarbage("restart")
    assert.is_false(ok)
    assert.equal("too_large", parts.kind)
    assert.is_true(grew < 256, grew .. " KiB") -- a few hundred values were built, not millions
  end)
end)

describe("klikit.core projections", function()
  teardown(function()
    print(string.format("\n  projections vs the restricted full decode: %d bodies", model.counts.projections))
  end)

  it("compile_fields checks its list; klikit.fields raises request_invalid", function()
    local klikit = require "klikit"
    local long = string.rep("a", 201)
    local many = {}
    for i = 1, 101 do many[i] = "f" .. i end
    for _, bad in ipairs { {}, { "" }, { "a..b" }, { ".a" }, { "a." }, { "a b" }, { "a-b" }, { "é" }, { 1 },
      { long }, many, { "a", x = "b" }, { "a\0" } } do
      assert.has_error(function() core.compile_fields(bad) end)
      local ok, err = pcall(klikit.fields, bad)
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
    assert.has_error(function() core.compile_fields("id") end)
    assert.has_error(function() core.decode_envelope(200, "{}", nil, { "id" }) end)
    many[101] = nil
    assert.truthy(tostring(core.compile_fields(many)):find("100 paths", 1, true))
    assert.truthy(klikit.fields { string.rep("b", 200), "A_1.b2.C_3" })
  end)

  it("builds only the named paths of each row; everything else is built in full", function()
    local body = '{"request_id":"r","meta":{"x":[1,{"y":null}]},"data":{"total":2,"orders":[' ..
      '{"id":1,"brands":[{"title":"A","logo":"l"},null,{"logo":"m"},7],"cart":{"items":[{"name":"n","qty":2}]},' ..
      '"secret":{"deep":[1,2,3]},"status":null,"\\u0069d2":5},' ..
      '[1,{"id":2}],"row",{}]}}'
    local fields = core.compile_fields { "id", "id2", "status", "brands.title", "cart.items.name", "absent" }
    local ok, data, rid = core.decode_envelope(200, body, nil, fields)
    assert.is_true(ok); assert.equal("r", rid)
    assert.same({ total = 2, orders = {
      { id = 1, id2 = 5, brands = { { title = "A" }, core.null, {}, 7 }, cart = { items = { { name = "n" } } } },
      { 1, { id = 2 } }, "row", {} } }, data)
    for _, shape in ipairs { '"data":[{"id":1,"x":2}]', '"data":{"results":[{"id":1,"x":2}]}' } do
      ok, data = core.decode_envelope(200, "{" .. shape .. "}", nil, fields)
      assert.is_true(ok)
      assert.same({ id = 1 }, (data.results or data)[1])
    end
  end)

  it("validates and counts what it skips: the same errors and limits as the full decode", function()
    local fields = core.compile_fields { "id" }
    for _, body in ipairs { '{"data":[{"id":1,"x":[1,01]}]}', '{"data":[{"id":1,"x":"\\q"}]}',
      '{"data":[{"id":1,"x":{"a" 1}}]}', '{"data":[{"id":1,"x":' .. string.rep("[", 201) .. "}]}",
      '{"data":[{"id":1,"x":[1,2,3,4,5,6,7,8]}]}' } do
      for _, mv in ipairs { 8, 1000 } do
        local d = projection_differs(body, { "id" }, mv)
        assert(d == nil, d)
      end
      assert.is_false((core.decode_envelope(200, body, 8, fields)))
    end
  end)

  it("equals the full decode restricted to its paths, for every sandbox order and payload", function()
    local rows = 0
    for _, key in ipairs { "orders", "results", "bare" } do
      for _, body in ipairs(fetch_pages { list_key = key }) do
        for _, list in ipairs(ORDER_FIELDS) do
          local d = projection_differs(body, list)
          assert(d == nil, d)
        end
        local _, data = core.decode_envelope(200, body)
        rows = rows + #(data.orders or data.results or data)
      end
    end
    assert.equal(3600, rows)
    local n = 0
    for _, dir in ipairs { EXAMPLES, "fuzz/seeds/envelope" } do
      for _, path in ipairs(files_under(dir)) do
        local body, status = seed_case(assert(read(path)))
        for _, list in ipairs(ORDER_FIELDS) do
          local d = projection_differs(body, list, nil, status)
          assert(d == nil, path .. ": " .. tostring(d))
        end
        n = n + 1
      end
    end
    assert.is_true(n >= 50)
  end)

  it("equals the restricted full decode on " .. math.ceil(DOCS / 4) .. " generated envelopes", function()
    local g = generator(7)
    local PATHS = { "id", "name", "a", "a.b", "a.b.a", "items.name", "items.id", "items", "b.x", "ab", "data",
      "orders.id", "x.y.z", "created_at", "x_1", "results" }
    for i = 1, math.ceil(DOCS / 4) do
      local body = g.envelope()
      local list = {}
      for j = 1, g.rnd(5) do list[j] = g.pick(PATHS) end
      local mv = g.chance(0.2) and g.rnd(80) or nil
      local d = projection_differs(body, list, mv, g.pick { 200, 404 })
      if d then error(string.format("envelope %d, fields %s: %s\n%q", i, table.concat(list, ","), d, body)) end
    end
  end)

  it("builds a fraction of the values of a full decode", function()
    local body = fetch_pages({})[1]
    local fields = core.compile_fields(ORDER_FIELDS[1])
    local function allocated(...)
      collectgarbage()
      collectgarbage("stop")
      local before = collectgarbage("count")
      assert.is_true((core.decode_envelope(200, body, nil, ...)))
      local kib = collectgarbage("count") - before
      collectgarbage("restart")
      return kib
    end
    local full, projected = allocated(), allocated(fields)
    assert.is_true(projected * 10 < full, projected .. " KiB vs " .. full .. " KiB")
  end)
end)
