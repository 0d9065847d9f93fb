-- Starts the OpenResty spec group's nginx: klikit installed for LuaJIT with `make install
-- LUA_VERSION=jit` into a private tree, spec/support/openresty/app.lua serving, on a free
-- loopback port. Stopped by its own pid.
local sandbox = require "support.sandbox"

local M = {}

local files = require "support.files"
local sh, read = files.sh, files.read

local tree -- the LuaJIT install, made once per run
local function install()
  if tree then return tree end
  tree = os.tmpname()
  os.remove(tree)
  assert(sh("make -s LUA_VERSION=jit build >/dev/null 2>&1"), "make LUA_VERSION=jit failed")
  assert(sh("make -s install LUA_VERSION=jit PREFIX=" .. tree .. " >/dev/null 2>&1"), "make install failed")
  return tree
end

local function lua_string(v) return string.format("%q", tostring(v)) end

-- Writes `conf` into a fresh prefix, starts nginx there (environment `env`), waits until
-- it answers on `port`. -> server { url, port, dir, pid, stop, errors }
local function launch(dir, conf, port, env)
  local f = assert(io.open(dir .. "/nginx.conf", "wb"))
  f:write(conf)
  f:close()
  local vars = {}
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "='" .. tostring(v) .. "'" end
  local nginx = io.popen("command -v nginx || echo /usr/sbin/nginx"):read("*l")
  if not sh(string.format("%s %s -p %s -c %s/nginx.conf -e %s/error.log 2>%s/start.log </dev/null >/dev/null",
      table.concat(vars, " "), nginx, dir, dir, dir, dir)) then
    error("nginx did not start: " .. tostring(read(dir .. "/start.log")) .. tostring(read(dir .. "/error.log")))
  end
  local pid
  for _ = 1, 100 do
    pid = tonumber(read(dir .. "/nginx.pid") or "")
    if pid then break end
    os.execute("sleep 0.05")
  end
  assert(pid, "nginx wrote no pid: " .. tostring(read(dir .. "/start.log")) .. tostring(read(dir .. "/error.log")))
  local server = { url = "http://127.0.0.1:" .. port, port = port, dir = dir, pid = pid }
  function server.stop()
    os.execute("kill -QUIT " .. pid .. " 2>/dev/null")
    for _ = 1, 50 do
      if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
      os.execute("sleep 0.1")
    end
    os.execute("kill -KILL " .. pid .. " 2>/dev/null; rm -rf '" .. dir .. "'")
  end
  function server.errors() return read(dir .. "/error.log") or "" end
  -- wait until it answers
  local core = require "klikit.core"
  local t = core.new_transport {}
  for _ = 1, 100 do
    local resp = t:request { method = "GET", url = server.url .. "/", timeout = 2 }
    if resp then break end
    os.execute("sleep 0.05")
  end
  return server
end

local function prefix()
  local dir = os.tmpname()
  os.remove(dir)
  assert(sh("mkdir -p " .. dir .. "/tmp && chmod 755 " .. dir))
  return dir
end

local function as_root() return io.popen("id -u"):read("*l") == "0" end

--- opts: workers (1), trusted (a CA file for lua_ssl_trusted_certificate), settings (a
--- table written to settings.lua: base_url, keys, webhook_secret, ...) -> server
--- { url, port, url2 (the server trusting only the system CAs), stop }
function M.start(opts)
  local dir = prefix()
  local port, port2 = sandbox.free_ports(2)
  local settings = { "return {" }
  for k, v in pairs(opts.settings or {}) do
    settings[#settings + 1] = string.format("  %s = %s,", k, type(v) == "number" and tostring(v) or lua_string(v))
  end
  settings[#settings + 1] = "}"
  local f = assert(io.open(dir .. "/settings.lua", "wb"))
  f:write(table.concat(settings, "\n"))
  f:close()
  local conf = assert(read("spec/support/openresty/nginx.conf.in"))
  local cwd = io.popen("pwd"):read("*l")
  local subs = { PREFIX = dir, TREE = install(), SPEC = cwd .. "/spec", PORT = port, PORT2 = port2,
    WORKERS = opts.workers or 1, TRUSTED = opts.trusted or "/etc/ssl/certs/ca-certificates.crt",
    USER = as_root() and "user root;" or "" }
  conf = conf:gsub("@(%u+%d?)@", function(k) return tostring(subs[k]) end)
  local server = launch(dir, conf, port)
  server.url2 = "http://127.0.0.1:" .. port2
  return server
end

--- examples/openresty as a user runs it (nginx.conf and webhook.lua copied unchanged but
--- for the port, the install tree, daemon mode and the log file), with `env` (the
--- KLIKIT_* variables) -> server
function M.start_example(env)
  local dir = prefix()
  local port = sandbox.free_ports(1)
  local conf = assert(read("examples/openresty/nginx.conf"))
  local function swap(from, to)
    local n
    conf, n = conf:gsub(from, to)
    assert(n > 0, "examples/openresty/nginx.conf no longer has " .. from)
  end
  if as_root() then swap("\n# user root;", "\nuser root;") end
  swap("daemon off;", "daemon on;")
  swap("error_log stderr info;", "error_log error.log info;")
  swap("listen 8080;", "listen 127.0.0.1:" .. port .. ";")
  swap("/usr/local/", install() .. "/")
  assert(sh("cp examples/openresty/webhook.lua " .. dir .. "/"))
  return launch(dir, conf, port, env)
end

--- The one nginx shared by the specs that go through cosockets (started on first use,
--- stopped when the suite ends), with an HTTPS sandbox whose CA it trusts.
local shared
function M.shared()
  if shared then return shared end
  sandbox.start()
  local tls = sandbox.start_extra { SANDBOX_TLS = 1 }
  shared = M.start { workers = 1, trusted = tls.ca_file, settings = { base_url = sandbox.base_url,
    partner_key = sandbox.partner_key, secret_key = sandbox.secret_key, webhook_secret = "whsec_test_n3ver_print",
    on_event_sleep = 1 } }
  shared.tls = tls
  M.guard = setmetatable({}, { __gc = function() M.stop_shared() end })
  return shared
end

function M.stop_shared()
  if not shared then return end
  shared.stop()
  shared.tls.stop()
  shared = nil
end

return M
