-- One measurement of one contender, in a fresh process (so its peak RSS is its own):
--
--   lua5.4 bench/contender.lua NAME BASE_URL FROM TO N [check]
--
-- NAME: floor | luasocket | klikit | klikit_fields | klikit_k8 | klikit_k16. Walks the N orders of
-- [FROM, TO) and prints one JSON line: { status = "ok" | "n/a" | "error", wall, cpu (seconds
-- of this process's CPU during the walk), count, pages (requests the walk made as the
-- contender counts them), rss_kb (VmHWM at the end), ids (with `check`: distinct ids),
-- message }. `check` also collects the ids, so it is a correctness run, not a timed one.
local cjson = require "cjson"

local name, base_url, from, to, n, check = arg[1], arg[2], arg[3], arg[4], tonumber(arg[5]), arg[6] == "check"
local PARTNER_KEY, SECRET_KEY = "pk_test_klikit", "sk_test_s3cr3t_never_print_me"
local SIZE = 100
local FIELDS = { "id", "created_at", "final_price", "status", "brands.name" }

local function peak_rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local kb = tonumber(f:read("*a"):match("VmHWM:%s*(%d+)"))
  f:close()
  return kb
end

local function page_url(page)
  return string.format("%s/orders?from=%s&to=%s&page=%d&size=%d", base_url, from, to, page, SIZE)
end

-- Walks pages 1..ceil(n / SIZE) with fetch(url) -> body; decodes each with cjson.
local function page_walk(fetch)
  local count, pages, ids = 0, 0, check and {} or nil
  for page = 1, math.ceil(n / SIZE) do
    local env = cjson.decode(fetch(page_url(page)))
    local rows = env.data.orders
    pages = pages + 1
    count = count + #rows
    if ids then for _, o in ipairs(rows) do ids[o.id] = true end end
  end
  return count, pages, ids
end

local contenders = {}

-- The floor: klikit.core's libcurl transfer (one handle, keep-alive) plus cjson.decode of
-- the bytes a page-number walk fetches.
function contenders.floor(clock)
  local core = require "klikit.core"
  clock.wall = core.monotonic
  local t = core.new_transport {}
  local auth = { Authorization = "Basic " .. core.base64(PARTNER_KEY .. ":" .. SECRET_KEY) }
  return function()
    return page_walk(function(url)
      local resp = assert(t:request { method = "GET", url = url, headers = auth })
      assert(resp.status == 200, resp.body)
      return resp.body
    end)
  end
end

-- The peer people use: socket.http (a connection per request) plus cjson.
function contenders.luasocket(clock)
  local socket = require "socket"
  local http = require "socket.http"
  local ltn12 = require "ltn12"
  local mime = require "mime"
  clock.wall = socket.gettime
  local headers = { authorization = "Basic " .. mime.b64(PARTNER_KEY .. ":" .. SECRET_KEY) }
  return function()
    return page_walk(function(url)
      local chunks = {}
      local ok, code = http.request { url = url, headers = headers, sink = ltn12.sink.table(chunks) }
      assert(ok and code == 200, "socket.http: " .. tostring(code))
      return table.concat(chunks)
    end)
  end
end

-- klikit's walk, with extra options for the variants; nil, err when this build refuses them.
local function klikit_walk(clock, extra)
  local klikit = require "klikit"
  clock.wall = require("klikit.core").monotonic
  local client = klikit.new { partner_key = PARTNER_KEY, secret_key = SECRET_KEY, base_url = base_url }
  local opts = { from = from, to = to }
  for k, v in pairs(extra) do opts[k] = v end
  local ok, pager, err = pcall(client.orders, client, opts)
  if not ok then pager, err = nil, pager end
  if not pager then return nil, err end
  return function()
    local count, ids = 0, check and {} or nil
    for order in pager do
      count = count + 1
      if ids then ids[order.id] = true end
    end
    return count, pager.pages, ids
  end
end

function contenders.klikit(clock) return klikit_walk(clock, {}) end
function contenders.klikit_fields(clock) return klikit_walk(clock, { fields = FIELDS }) end
function contenders.klikit_k8(clock) return klikit_walk(clock, { concurrency = 8 }) end
function contenders.klikit_k16(clock) return klikit_walk(clock, { concurrency = 16 }) end

local function emit(t)
  io.write(cjson.encode(t), "\n")
  io.stdout:flush()
end

local make = contenders[name]
if not make or not base_url or not n then
  io.stderr:write("usage: contender.lua floor|luasocket|klikit|klikit_fields|klikit_k8|klikit_k16 "
    .. "BASE_URL FROM TO N [check]\n")
  os.exit(2)
end
local clock = {}
local walk, err = make(clock)
if not walk then
  local unsupported = type(err) == "table" and err.code == "request_invalid"
  emit { status = unsupported and "n/a" or "error", message = tostring(err) }
  os.exit(unsupported and 0 or 1)
end
collectgarbage()
local wall0, cpu0 = clock.wall(), os.clock()
local ok, count, pages, ids = pcall(walk)
local wall, cpu = clock.wall() - wall0, os.clock() - cpu0
if not ok then -- a build that only refuses an option once the walk starts
  local unsupported = type(count) == "table" and count.code == "request_invalid"
  emit { status = unsupported and "n/a" or "error", message = tostring(count) }
  os.exit(unsupported and 0 or 1)
end
local distinct
if ids then
  distinct = 0
  for _ in pairs(ids) do distinct = distinct + 1 end
end
emit { status = "ok", wall = wall, cpu = cpu, count = count, pages = pages, ids = distinct, rss_kb = peak_rss_kb() }
