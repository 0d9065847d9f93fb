-- `make install PREFIX=DIR` gives a LuaRocks-tree layout that works from any directory.
describe("make install", function()
  it("installs a tree from which require 'klikit' works anywhere", function()
    local prefix = os.tmpname()
    os.remove(prefix)
    local build = os.getenv("KLIKIT_BUILD") or "build/5.4"
    local make = string.format("make -s install PREFIX=%s BUILD=%s >/dev/null 2>&1", prefix, build)
    assert.is_true(os.execute(make) == true)
    local files = {
      "/lib/lua/5.4/klikit/core.so", "/share/lua/5.4/klikit/init.lua", "/share/lua/5.4/klikit/client.lua",
      "/share/lua/5.4/klikit/pager.lua", "/share/lua/5.4/klikit/errors.lua",
      "/share/lua/5.4/klikit/util.lua", "/share/lua/5.4/klikit/transport/curl.lua",
    }
    for _, f in ipairs(files) do
      local fh = io.open(prefix .. f, "rb")
      assert.truthy(fh, prefix .. f)
      fh:close()
    end
    local cmd = string.format("cd / && env -i PATH=/usr/bin:/bin "
      .. "LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;;' "
      .. "LUA_CPATH='%s/lib/lua/5.4/?.so;;' lua5.4 -e 'local k = require \"klikit\"; "
      .. "print(k.VERSION, package.searchpath(\"klikit.core\", package.cpath))' 2>&1", prefix, prefix, prefix)
    local p = assert(io.popen(cmd))
    local out = p:read("a")
    p:close()
    os.execute("rm -rf '" .. prefix .. "'")
    assert.equal("0.1.0\t" .. prefix .. "/lib/lua/5.4/klikit/core.so\n", out)
  end)
end)
