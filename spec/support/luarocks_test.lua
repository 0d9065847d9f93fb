-- `luarocks test` (the rockspec's test section): the busted suite, but the OpenResty group,
-- under the Lua LuaRocks runs this script with, against a local sandbox (make test-suite).
-- It installs nothing: the Debian packages `make deps` lists must be there already.
-- Arguments go to busted: `luarocks --lua-version 5.4 test -- spec/day_spec.lua`.
local version = type(rawget(_G, "jit")) == "table" and "jit" or _VERSION:match("%d+%.%d+")
local args = { ... }
if args[1] == "--version" then -- `luarocks test --prepare` asks the runner for its version
  print("klikit test runner (make test-suite) under Lua " .. version)
  os.exit(0)
end
for _, a in ipairs(args) do
  if not a:find("^[%w%./_=,:#-]+$") then
    io.stderr:write("luarocks_test.lua: unsupported argument ", string.format("%q", a), "\n")
    os.exit(2)
  end
end
local cmd = string.format("make --no-print-directory test-suite LUA_VERSION=%s BUSTED_ARGS='%s'", version,
  table.concat(args, " "))
print(cmd)
local ok, _, code = os.execute(cmd)
if ok == true or ok == 0 then os.exit(0) end -- Lua 5.2+ (true) or 5.1 (0)
os.exit(type(code) == "number" and code ~= 0 and code or 1)
