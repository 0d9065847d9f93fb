-- klikit.core: the pure helpers, envelope decoding and transport argument checks.
local core = require "klikit.core"

describe("klikit.core helpers", function()
  it("base64 matches the RFC 4648 test vectors", function()
    local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
      fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
    for input, expected in pairs(vectors) do assert.equal(expected, core.base64(input)) end
    assert.equal("cGtfdGVzdDpzazp3aXRoOmNvbG9ucw==", core.base64("pk_test:sk:with:colons"))
    assert.equal("AP8=", core.base64("\0\255"))
  end)

  it("uuid4 gives distinct RFC 4122 version-4 ids", function()
    local seen = {}
    for _ = 1, 2000 do
      local id = core.uuid4()
      assert.truthy(id:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"), id)
      assert.is_nil(seen[id])
      seen[id] = true
    end
  end)

  it("exports version information", function()
    assert.equal("0.1.0", core.version)
    assert.truthy(core.curl_version:match("^%d+%.%d+"))
  end)
end)

describe("klikit.core.decode_envelope", function()
  local decode = core.decode_envelope

  it("returns data and request_id of a success envelope", function()
    local ok, data, rid = decode(200, '{"request_id":"req_e9f2b838-38e9","data":{"orders":[],"total":0}}')
    assert.is_true(ok)
    assert.equal("req_e9f2b838-38e9", rid)
    assert.same({ orders = {}, total = 0 }, data)
  end)

  it("turns integral JSON numbers into Lua integers and keeps fractions", function()
    local _, data = decode(200,
      '{"request_id":"r","data":{"id":71280866,"lat":-8.1121781,"big":1e300,"z":-0.0}}')
    assert.is_true(math.type == nil and data.id == math.floor(data.id) or math.type(data.id) == "integer")
    assert.equal(71280866, data.id)
    assert.equal(-8.1121781, data.lat)
    assert.is_true(math.type == nil or math.type(data.big) == "float") -- beyond 2^53: left as a float
  end)

  it("drops null members and keeps null array elements as klikit.null", function()
    local _, data = decode(200, '{"request_id":"r","data":{"a":null,"b":[1,null,3],"c":{"d":null,"e":1}}}')
    assert.is_nil(data.a)
    assert.equal(3, #data.b)
    assert.equal(core.null, data.b[2])
    assert.same({ e = 1 }, data.c)
  end)

  it("reads data = null as nil and accepts an empty 204", function()
    local ok, data, rid = decode(200, '{"request_id":"r","data":null}')
    assert.is_true(ok); assert.is_nil(data); assert.equal("r", rid)
    ok, data = decode(204, "")
    assert.is_true(ok); assert.is_nil(data)
  end)

  it("decodes an error envelope with code, message, details and request_id", function()
    local ok, parts = decode(400, '{"request_id":"abc","error":{"code":"request_invalid",'
      .. '"message":"brand_id and branch_id must be passed together","details":{"field":"brand_id","x":null}}}')
    assert.is_false(ok)
    assert.same({ kind = "api", status = 400, raw_code = "request_invalid", request_id = "abc",
      message = "brand_id and branch_id must be passed together", details = { field = "brand_id" } }, parts)
  end)

  it("accepts an error without request_id (the authentication page's example)", function()
    local ok, parts = decode(403,
      '{"error":{"code":"FORBIDDEN_SCOPE","message":"credential is not scoped for menus:oos"}}')
    assert.is_false(ok)
    assert.equal("FORBIDDEN_SCOPE", parts.raw_code)
    assert.is_nil(parts.request_id)
  end)

  it("prefers error over data when a body carries both (the docs' schema rendering)", function()
    local ok, parts = decode(200, '{"request_id":"r","data":"<unknown>","error":{"code":"internal","message":"m"}}')
    assert.is_false(ok)
    assert.equal("internal", parts.raw_code)
  end)

  it("makes every non-2xx without an envelope an http_error", function()
    local cases = {
      { 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "502 Bad Gateway" },
      { 500, "", "empty body" },
      { 503, '{"request_id":"r","data":{}}', "no error object" },
      { 504, '{"request_id":"r","err', "not a klikit envelope" },
      { 400, "[1,2]", "not a klikit envelope" },
    }
    for _, c in ipairs(cases) do
      local ok, parts = decode(c[1], c[2])
      assert.is_false(ok)
      assert.equal("http_error", parts.kind)
      assert.equal(c[1], parts.status)
      assert.truthy(parts.message:find(c[3], 1, true), parts.message)
    end
  end)

  it("makes a 2xx that is not an envelope decode_failed", function()
    for _, body in ipairs { '{"request_id":"r","data":{"orders":[', "<html>ok</html>", "[]", "{}", '"x"', "NaN" } do
      local ok, parts = decode(200, body)
      assert.is_false(ok, body)
      assert.equal("decode_failed", parts.kind)
    end
  end)

  it("bounds nesting depth instead of crashing", function()
    local ok, parts = decode(200, string.rep("[", 100000))
    assert.is_false(ok)
    assert.equal("too_large", parts.kind) -- refused before decoding: response_too_large
    ok = decode(200, '{"request_id":"r","data":' .. string.rep("[", 150) .. string.rep("]", 150) .. "}")
    assert.is_true(ok)
  end)

  it("survives random bytes", function()
    math.randomseed(7)
    for _ = 1, 500 do
      local bytes = {}
      for i = 1, math.random(0, 64) do bytes[i] = string.char(math.random(0, 255)) end
      local status = ({ 200, 404, 502 })[math.random(3)]
      local ok, parts = decode(status, table.concat(bytes))
      assert.is_boolean(ok)
      if not ok then assert.is_string(parts.message) end
    end
  end)
end)

describe("klikit.core transport", function()
  it("raises on programmer mistakes before sending", function()
    local t = core.new_transport {}
    assert.has_error(function() t:request { url = "http://127.0.0.1:1/", method = "get" } end)
    assert.has_error(function() t:request { url = "http://127.0.0.1:1/a b" } end)
    assert.has_error(function() t:request { url = "http://127.0.0.1:1/", headers = { X = "a\r\nB: c" } } end)
    assert.has_error(function() t:request { url = "http://127.0.0.1:1/", headers = { ["Bad Name"] = "x" } } end)
    assert.has_error(function() t:request { url = "http://127.0.0.1:1/", timeout = 0 } end)
    assert.has_error(function() core.new_transport { ca_file = "a\nb" } end)
    t:close()
    t:close() -- idempotent
    assert.has_error(function() t:request { url = "http://127.0.0.1:1/" } end, "klikit.core: transport is closed")
    assert.equal("klikit.core.transport (closed)", tostring(t))
  end)

  it("shares its header rules and its header parser with Lua transports", function()
    assert.is_nil(core.header_problem("X-Trace", "a\tb"))
    assert.truthy(core.header_problem("X-A", "a\r\nb"):find("control character", 1, true))
    assert.truthy(core.header_problem("Content-Length", "0"):find("set by libcurl", 1, true))
    assert.truthy(core.header_problem("TRANSFER-ENCODING", "chunked"):find("set by libcurl", 1, true))
    assert.truthy(core.header_problem("Bad Name", "x"):find("token", 1, true))
    assert.truthy(core.header_problem("X-Big", string.rep("a", 9000)):find("8192", 1, true))
    local h = core.parse_headers("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Rep: a\r\n"
      .. "x-rep: b\r\nBad Line\r\n  folded\r\nRetry-After:  3 \r\n\r\n")
    assert.same({ ["content-type"] = "application/json", ["x-rep"] = "a, b", ["retry-after"] = "3" }, h)
  end)

  it("exports only luaopen_klikit_core from the shared object", function()
    local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
    local p = assert(io.popen("nm -D --defined-only " .. build .. "/klikit/core.so"))
    local exported = {}
    for line in p:lines() do
      local kind, name = line:match("^%x+ (%u) (%S+)$")
      if kind and kind:match("[TDBR]") then exported[#exported + 1] = name end
    end
    p:close()
    assert.same({ "luaopen_klikit_core" }, exported)
  end)
end)
