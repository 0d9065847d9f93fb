-- `make install PREFIX=DIR` gives a LuaRocks-tree layout that works from any directory.
describe("make install", function()
  it("installs a tree from which require 'klikit' works anywhere #subprocess", function()
    local prefix = os.tmpname()
    os.remove(prefix)
    local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
    local lua = require "support.interpreter"
    local version = lua.command == "luajit" and "jit" or lua.abi
    local make = string.format("make -s install PREFIX=%s BUILD=%s LUA_VERSION=%s >/dev/null 2>&1", prefix, build,
      version)
    local ran = os.execute(make)
    assert.is_true(ran == true or ran == 0)
    local abi = lua.abi
    local files = {
      "/lib/lua/" .. abi .. "/klikit/core.so", "/share/lua/" .. abi .. "/klikit/init.lua",
      "/share/lua/" .. abi .. "/klikit/partner/client.lua", "/share/lua/" .. abi .. "/klikit/http/session.lua",
      "/share/lua/" .. abi .. "/klikit/transport/ngx.lua", "/share/lua/" .. abi .. "/klikit/webhook/init.lua",
      "/share/lua/" .. abi .. "/klikit/klar/init.lua", "/share/lua/" .. abi .. "/klikit/klar/export.lua",
    }
    for _, f in ipairs(files) do
      local fh = io.open(prefix .. f, "rb")
      assert.truthy(fh, prefix .. f)
      fh:close()
    end
    -- the installed tree (and the system's, for lua-cjson) on the paths, from another directory
    local cmd = string.format("cd / && env -i PATH=/usr/bin:/bin "
      .. "LUA_PATH='%s/share/lua/%s/?.lua;%s/share/lua/%s/?/init.lua;;' "
      .. "LUA_CPATH='%s/lib/lua/%s/?.so;;' %s -e 'local k = require \"klikit\"; "
      .. "assert(require \"klikit.klar\".export and require \"klikit.webhook\".verify); "
      .. "print(k.VERSION)' 2>&1", prefix, abi, prefix, abi, prefix, abi, lua.command)
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    os.execute("rm -rf '" .. prefix .. "'")
    assert.equal("0.1.0\n", out)
  end)
end)

describe("make install: the command", function()
  local function run(cmd)
    local p = assert(io.popen(cmd .. " 2>&1; echo \"exit=$?\""))
    local out = p:read("*a")
    p:close()
    return out:match("^(.-)exit=(%d+)%s*$")
  end

  it("installs bin/klikit for the Lua it was built for; it finds its tree, and the sandbox #subprocess", function()
    local prefix = os.tmpname()
    os.remove(prefix)
    local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
    local lua = require "support.interpreter"
    local version = lua.command == "luajit" and "jit" or lua.abi
    local ok = os.execute(string.format("make -s install PREFIX=%s BUILD=%s LUA_VERSION=%s >/dev/null 2>&1", prefix,
      build, version))
    assert.is_true(ok == true or ok == 0)
    local f = assert(io.open(prefix .. "/bin/klikit", "rb"))
    local shebang = f:read("*l")
    f:close()
    assert.truthy(shebang:find("^#!/%S*" .. lua.command:gsub("%.", "%%.") .. "$"), shebang)
    -- from another directory, with nothing on the Lua paths
    local out, code = run("cd / && env -i PATH=/usr/bin:/bin " .. prefix .. "/bin/klikit --version")
    assert.equal("0", code, out)
    assert.equal("klikit 0.1.0\n", out)
    out, code = run("cd / && env -i PATH=/usr/bin:/bin " .. prefix .. "/bin/klikit sandbox start")
    assert.equal("0", code, out)
    local dir = assert(out:match("KLIKIT_SANDBOX_DIR=([^\n]+)"), out)
    local base = assert(out:match("KLIKIT_BASE_URL=([^\n]+)"))
    local brands
    brands, code = run("cd / && env -i PATH=/usr/bin:/bin KLIKIT_PARTNER_KEY=pk_test_klikit "
      .. "KLIKIT_SECRET_KEY=sk_test_s3cr3t_never_print_me KLIKIT_BASE_URL=" .. base .. " " .. prefix
      .. "/bin/klikit brands --format csv --fields id")
    local stopped = run("env -i PATH=/usr/bin:/bin KLIKIT_SANDBOX_DIR=" .. dir .. " " .. prefix
      .. "/bin/klikit sandbox stop")
    assert.equal("0", code, brands)
    assert.truthy(brands:find("^id\r\n%d+\r\n"), brands)
    assert.equal("", stopped)
    -- a tree without the sandbox says so, with exit 2
    os.execute("rm -rf '" .. prefix .. "/share/klikit'")
    out, code = run("cd / && env -i PATH=/usr/bin:/bin " .. prefix .. "/bin/klikit sandbox start")
    os.execute("rm -rf '" .. prefix .. "'")
    assert.equal("2", code, out)
    assert.truthy(out:find("the sandbox is not installed", 1, true), out)
  end)
end)

describe("packaging and docs stay in sync with the code", function()
  local function read(path) return assert(require("support.files").read(path), "cannot read " .. path) end

  local function list(cmd)
    local out = {}
    local p = assert(io.popen(cmd))
    for line in p:lines() do out[#out + 1] = line end
    p:close()
    return out
  end

  it("the rockspec lists every Lua module and C source", function()
    local rockspec = read("rockspec/klikit-0.1.0-1.rockspec")
    for _, f in ipairs(list("find lua -name '*.lua' | sort")) do
      assert.truthy(rockspec:find('"' .. f .. '"', 1, true), f .. " missing from the rockspec")
    end
    for _, f in ipairs(list("ls csrc/*.c")) do
      assert.truthy(rockspec:find('"' .. f .. '"', 1, true), f .. " missing from the rockspec")
    end
  end)

  it("the README documents every error code", function()
    local readme = read("README.md")
    for code in pairs(require("klikit").errors) do
      assert.truthy(readme:find("| `" .. code .. "` |", 1, true), code .. " missing from the README table")
    end
  end)
end)
