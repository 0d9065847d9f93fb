-- Starts and stops the bench server (bench/server/: nginx + lua-nginx-module) on a free
-- loopback port, with its orders pre-encoded once into a cache file under build/bench/.
--
--   local server = require "server"
--   local s = server.start { seed = 42, orders = 100000, from = ..., to = ... }
--   s.base_url(latency_ms) -> "http://127.0.0.1:PORT/lat/100/v1/partner"
--   s.info { 10000, 100000 } -> { orders, ranges = { { n, from, to } } }
--   s.requests() -> API requests answered so far;   s.stop()
local core = require "klikit.core"
local cjson = require "cjson"

local M = {}
local ROOT = os.getenv("BENCH_ROOT") or "."

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function own_pid()
  return read("/proc/self/stat"):match("^(%d+)")
end

-- The cache file for these settings: named by a digest of the settings and of every
-- source that shapes its bytes, so a changed generator or encoder makes a new one.
local function cache_path(settings)
  local sources = {}
  for _, f in ipairs { "sandbox/lua/klikit_sandbox/data.lua", "sandbox/lua/klikit_sandbox/json.lua",
    "bench/server/gen_orders.lua" } do
    sources[#sources + 1] = assert(read(ROOT .. "/" .. f), "missing " .. f)
  end
  sources[#sources + 1] = string.format("%d|%d|%s|%s", settings.seed, settings.orders, settings.from, settings.to)
  local digest = core.hmac_sha256_hex("klikit-bench", table.concat(sources, "\0")):sub(1, 16)
  return string.format("%s/build/bench/orders-%d-%s.tsv", ROOT, settings.orders, digest)
end

--- Builds the cache file of pre-encoded orders unless it exists (in parallel parts, under
--- LuaJIT when present); returns its path and the seconds spent building it (0 if cached).
function M.ensure_orders(settings)
  local path = cache_path(settings)
  if exists(path) then return path, 0 end
  assert(sh("mkdir -p " .. ROOT .. "/build/bench"))
  local lua = sh("command -v luajit >/dev/null 2>&1") and "luajit" or "lua5.4"
  local parts, cmds, files = 2, {}, {}
  for p = 1, parts do
    files[p] = string.format("%s.part%d", path, p)
    cmds[p] = string.format("(%s %s/bench/server/gen_orders.lua %s %d %d %s %s %d %d || touch %s.failed) &", lua,
      ROOT, files[p], settings.seed, settings.orders, settings.from, settings.to, p, parts, path)
  end
  local started = core.monotonic()
  io.stderr:write(string.format("bench: encoding %d orders once (cached in %s) ...\n", settings.orders, path))
  local ok = sh(table.concat(cmds, " ") .. " wait; test ! -e " .. path .. ".failed && cat "
    .. table.concat(files, " ") .. " > " .. path .. ".tmp && mv " .. path .. ".tmp " .. path .. "; rm -f "
    .. table.concat(files, " ") .. " " .. path .. ".failed")
  assert(ok and exists(path), "bench: encoding the orders failed")
  return path, core.monotonic() - started
end

local function listening_ports()
  local used = {}
  for _, f in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    for port in (read(f) or ""):gmatch("\n%s*%d+: %x+:(%x+) ") do used[tonumber(port, 16)] = true end
  end
  return used
end

local function write_conf(dir, port, orders_file, settings)
  local conf = assert(read(ROOT .. "/bench/server/nginx.conf.in"))
  local user = read("/proc/self/status"):match("\nUid:%s+0%s") and "user root;" or ""
  local subst = { PREFIX = dir, PORT = tostring(port), BENCH = ROOT .. "/bench", SANDBOX = ROOT .. "/sandbox",
    ORDERS_FILE = orders_file, TO = settings.to, USER = user }
  conf = conf:gsub("@([%u_]+)@", function(k) return assert(subst[k], "unknown @" .. k .. "@") end)
  local f = assert(io.open(dir .. "/nginx.conf", "wb"))
  f:write(conf)
  f:close()
end

--- Starts the server; returns the handle described at the top.
function M.start(settings)
  local orders_file, built = M.ensure_orders(settings)
  local raw = core.new_transport {}
  local dir = assert(io.popen("mktemp -d \"${TMPDIR:-/tmp}/klikit-bench.XXXXXX\"")):read("*l")
  assert(sh("mkdir -p " .. dir .. "/tmp && chmod 755 " .. dir))
  local used, port = listening_ports(), nil
  for _ = 1, 200 do
    local p = 20000 + math.random(0, 39999)
    if not used[p] then port = p break end
  end
  write_conf(dir, port, orders_file, settings)
  local nginx = os.getenv("NGINX") or "nginx"
  if not sh(string.format("%s -p %s -c %s/nginx.conf -e %s/error.log 2>%s/start.log", nginx, dir, dir, dir, dir)) then
    error("bench server did not start:\n" .. (read(dir .. "/start.log") or "") .. (read(dir .. "/error.log") or ""))
  end
  local url = "http://127.0.0.1:" .. port
  local s = { url = url, dir = dir, load_seconds = built }
  local pid
  local deadline = core.monotonic() + 120
  repeat
    pid = read(dir .. "/nginx.pid")
    local resp = pid and raw:request { url = url .. "/_bench/stats", timeout = 5 }
    if resp and resp.status == 200 then break end
    core.sleep(0.1)
  until core.monotonic() > deadline
  assert(pid, "bench server did not answer within 120 s: " .. (read(dir .. "/error.log") or ""))
  pid = pid:match("%d+")
  -- a detached watchdog stops nginx when this process is gone, however it ended
  sh(string.format("(while kill -0 %s 2>/dev/null && kill -0 %s 2>/dev/null; do sleep 1; done; "
    .. "if kill -0 %s 2>/dev/null; then kill -QUIT %s; sleep 2; rm -rf %s; fi) </dev/null >/dev/null 2>&1 &",
    own_pid(), pid, pid, pid, dir))

  function s.base_url(latency_ms)
    if (latency_ms or 0) > 0 then return string.format("%s/lat/%d/v1/partner", url, latency_ms) end
    return url .. "/v1/partner"
  end
  local function get(path)
    local resp = assert(raw:request { url = url .. path, timeout = 30 })
    assert(resp.status == 200, path .. ": " .. resp.body)
    return cjson.decode(resp.body)
  end
  function s.requests() return get("/_bench/stats").requests end
  function s.info(sizes) return get("/_bench/info?sizes=" .. table.concat(sizes, ",")) end
  function s.stop()
    sh("kill -QUIT " .. pid .. " 2>/dev/null")
    for _ = 1, 50 do
      if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
      core.sleep(0.1)
    end
    sh("kill -KILL " .. pid .. " 2>/dev/null; rm -rf " .. dir)
  end
  return s
end

return M
