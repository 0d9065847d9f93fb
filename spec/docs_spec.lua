-- The documentation keeps up with the code: the LDoc sources (doc/ldoc/*.luadoc, `make doc`),
-- the LuaLS annotations (lua/klikit/types.lua) and the README describe every client method,
-- every option of klikit.new and every error code; the examples are listed; the version is
-- one across the C core, the rockspec, its tag and the changelog.
local function read(path) return assert(require("support.files").read(path), "cannot read " .. path) end

local function plain(s) return (s:gsub("%p", "%%%0")) end

-- The methods the client class has, made from the endpoint rows (and request, close).
local function client_methods()
  local names = {}
  for name, v in pairs(require("klikit.partner.client").Client) do
    if type(v) == "function" and not name:find("^__") then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

-- Every option klikit.new takes.
local function option_names()
  local names = {}
  for name in pairs(require("klikit.http.options").KEYS) do names[#names + 1] = name end
  for _, name in ipairs { "partner_key", "secret_key", "base_url", "env" } do names[#names + 1] = name end
  table.sort(names)
  return names
end

local function error_codes()
  local codes = {}
  for code in pairs(require("klikit").errors) do codes[#codes + 1] = code end
  table.sort(codes)
  return codes
end

describe("the LDoc reference (doc/ldoc)", function()
  local client, klikit_doc, err_doc = read("doc/ldoc/client.luadoc"), read("doc/ldoc/klikit.luadoc"),
    read("doc/ldoc/error.luadoc")

  it("documents every client method", function()
    local names = client_methods()
    assert.is_true(#names >= 27)
    for _, name in ipairs(names) do
      assert.truthy(client:find("\nfunction Client:" .. name .. "%("), name .. " missing from doc/ldoc/client.luadoc")
    end
  end)

  it("documents every option of klikit.new, in the Options table", function()
    local options = klikit_doc:match("@table Options(.-)\nklikit%.Options")
    assert.truthy(options)
    for _, name in ipairs(option_names()) do
      assert.truthy(options:find("@tfield%[[^%]]*%] [%w|]+ " .. name .. " "), name .. " missing from Options")
    end
  end)

  it("documents every error code", function()
    for _, code in ipairs(error_codes()) do
      assert.truthy(err_doc:find("\n%-%- @field " .. code .. " "), code .. " missing from doc/ldoc/error.luadoc")
    end
  end)

  it("documents the pager, the Klar client and the webhook functions", function()
    local pager, klar, webhook = read("doc/ldoc/pager.luadoc"), read("doc/ldoc/klar.luadoc"),
      read("doc/ldoc/webhook.luadoc")
    for _, m in ipairs { "next", "all", "state", "resume" } do
      assert.truthy(pager:find("\nfunction Pager:" .. m .. "%("), m)
    end
    for _, m in ipairs { "upload", "validate", "status", "close" } do
      assert.truthy(klar:find("\nfunction KlarClient:" .. m .. "%("), m)
    end
    for name in pairs(require("klikit.klar")) do
      if type(require("klikit.klar")[name]) == "function" then
        assert.truthy(klar:find("\nfunction klar%." .. name .. "%("), name)
      end
    end
    for _, f in ipairs { "verify", "parse", "handler" } do
      assert.truthy(webhook:find("\nfunction webhook%." .. f .. "%("), f)
    end
    for name, v in pairs(require("klikit")) do
      if type(v) == "function" then assert.truthy(klikit_doc:find("\nfunction klikit%." .. name .. "%("), name) end
    end
  end)
end)

describe("the LuaLS annotations (lua/klikit/types.lua)", function()
  local types = read("lua/klikit/types.lua")

  it("is valid Lua that defines nothing at run time", function()
    assert.same({}, dofile("lua/klikit/types.lua"))
  end)

  it("declare every client method", function()
    for _, name in ipairs(client_methods()) do
      assert.truthy(types:find("\nfunction Client:" .. name .. "%("), name .. " missing from types.lua")
    end
  end)

  it("declare every option of klikit.new", function()
    local options = types:match("@class klikit%.Options\n(.-)\n\n")
    assert.truthy(options)
    for _, name in ipairs(option_names()) do
      assert.truthy(options:find("---@field " .. name .. "%? "), name .. " missing from klikit.Options")
    end
  end)

  it("name every error code", function()
    local alias = types:match("@alias klikit%.ErrorCode\n(.-)\n\n")
    for _, code in ipairs(error_codes()) do
      assert.truthy(alias:find('---| "' .. code .. '"', 1, true), code .. " missing from klikit.ErrorCode")
    end
  end)
end)

describe("the README", function()
  local readme = read("README.md")

  it("has a row for every option of klikit.new", function()
    local section = readme:match("\n### Options\n(.-)\n##")
    assert.truthy(section, "no Options section")
    for _, name in ipairs(option_names()) do
      assert.truthy(section:find("\n| `" .. name .. "` |", 1, true), name .. " missing from the options table")
    end
  end)

  it("lists every example", function()
    local p = assert(io.popen("ls examples/*.lua"))
    for path in p:lines() do
      assert.truthy(readme:find("`" .. path .. "`", 1, true) or readme:find(path .. " ", 1, true), path)
    end
    p:close()
  end)

  it("calls status 5 delivered, never completed", function()
    assert.is_nil(readme:lower():find("5 completed", 1, true))
    assert.is_nil(read("examples/quickstart.lua"):find('"completed"', 1, true))
  end)
end)

describe("the version", function()
  it("is one across the C core, the rockspec, its tag and the changelog", function()
    local version = require("klikit").VERSION
    assert.truthy(version:find("^%d+%.%d+%.%d+$"))
    local path = "rockspec/klikit-" .. version .. "-1.rockspec"
    local spec, chunk = {}
    if rawget(_G, "setfenv") then -- Lua 5.1, LuaJIT
      chunk = assert(rawget(_G, "loadstring")(read(path), path))
      rawget(_G, "setfenv")(chunk, spec)
    else
      chunk = assert(load(read(path), path, "t", spec))
    end
    chunk()
    assert.equal(version .. "-1", spec.version)
    assert.equal("klikit", spec.package)
    assert.equal("v" .. version, spec.source.tag)
    assert.equal("git+https://github.com/klikit/klikit-lua.git", spec.source.url)
    assert.truthy(read("CHANGELOG.md"):find("\n## " .. plain(version) .. " "))
    assert.truthy(read("csrc/kk_internal.h"):find('#define KK_VERSION "' .. plain(version) .. '"'))
    assert.equal("MIT", spec.description.license)
    assert.truthy(read("LICENSE"):find("MIT License", 1, true))
  end)
end)
