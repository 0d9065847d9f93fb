-- Walk benchmark against the sandbox: orders/s, requests per walk, keep-alive reuse.
-- Run with `make bench` (starts and stops a sandbox around it).
local klikit = require "klikit"
local core = require "klikit.core"

local client = klikit.new {}
local raw = core.new_transport {}
local stats_url = os.getenv("KLIKIT_SANDBOX_URL") .. "/_sandbox/stats"
local function requests_so_far()
  local resp = assert(raw:request { url = stats_url })
  return tonumber(resp.body:match('"requests":(%d+)'))
end

local clock = os.clock

local met = true
for _, size in ipairs { 100, 50, 20 } do
  local before = requests_so_far()
  local started_cpu = clock()
  local n = 0
  for _ in assert(client:orders { size = size }) do n = n + 1 end
  local cpu = clock() - started_cpu
  local requests = requests_so_far() - before
  local ideal = math.ceil(n / size)
  print(string.format("size %3d: %d orders, %d requests (page-number paging would need %d: +%.1f%%), "
    .. "client CPU %.3f s (%.0f orders/s)", size, n, requests, ideal, (requests - ideal) * 100 / ideal,
    cpu, n / cpu))
  if size == 100 then
    met = requests <= ideal * 1.1
    print(string.format("walk target: %d requests for %d orders at size 100, ceil(n / size) = %d: %s "
      .. "(within 10%%)", requests, n, ideal, met and "met" or "NOT MET"))
  end
end

local decode_started = clock()
local body = assert(raw:request { url = os.getenv("KLIKIT_BASE_URL") .. "/orders?size=100",
  headers = { Authorization = "Basic " .. core.base64(os.getenv("KLIKIT_PARTNER_KEY") .. ":"
    .. os.getenv("KLIKIT_SECRET_KEY")) } }).body
for _ = 1, 50 do assert(core.decode_envelope(200, body)) end
local per = (clock() - decode_started) / 50
print(string.format("decode_envelope: %d-byte page of 100 orders in %.2f ms (%.0f MB/s)",
  #body, per * 1000, #body / per / 1e6))
if not met then os.exit(1) end
