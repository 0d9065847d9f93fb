-- Proves the bench server answers GET /orders as the sandbox does: the sandbox (started
-- by `make bench` around the run) is regenerated with the bench's settings, the same
-- queries go to both, and the answers must be byte-identical but for request_id. Then the
-- sandbox gets its own data back.
local core = require "klikit.core"
local cjson = require "cjson"

local M = {}

local function get(raw, url, auth)
  local resp = assert(raw:request { method = "GET", url = url, timeout = 60,
    headers = auth and { Authorization = auth } or nil })
  return resp.status, (resp.body:gsub('"request_id":"%x+"', '"request_id":"-"'))
end

--- sandbox_url: the sandbox's root URL; server: the bench server handle; settings: the
--- bench's generation settings; ranges: from server.info. Returns true, n | false, why.
function M.run(sandbox_url, server, settings, ranges)
  local raw = core.new_transport {}
  local reset = assert(raw:request { method = "POST", url = sandbox_url .. "/_sandbox/reset", timeout = 120,
    body = cjson.encode { data = { seed = settings.seed, orders = settings.orders, from = settings.from,
      to = settings.to } } })
  if reset.status ~= 200 then return false, "sandbox reset failed: " .. reset.body end
  local auth = "Basic " .. core.base64("pk_test_klikit:sk_test_s3cr3t_never_print_me")
  local big, small = ranges[#ranges], ranges[1]
  local last = math.ceil(big.n / 100)
  local queries = {
    string.format("from=%s&to=%s&page=1&size=100", big.from, big.to),
    string.format("from=%s&to=%s&page=%d&size=100", big.from, big.to, last),
    string.format("from=%s&to=%s&page=%d&size=100", big.from, big.to, last + 1),
    string.format("from=%s&to=%s&page=%d&size=100", small.from, small.to, math.ceil(small.n / 100)),
    string.format("from=%s&to=%s&page=3&size=7", big.from, small.from), -- a cursor-style upper bound
    string.format("from=%s&to=%s", small.from, small.from), -- empty
    "size=1", "page=2&size=33", "status=3&branch_id=5913&size=100&from=" .. small.from,
    "provider_id=9&size=50&page=2&to=" .. small.from,
    "size=0", "size=101", "page=0", "page=x", "from=bad", "to=2026-01-01T00:00:00Z&from=2026-02-01T00:00:00Z",
    "from=2025-01-01T00:00:00Z&to=2026-03-31T00:00:00Z", "size=5&size=6",
  }
  local n = 0
  for i, q in ipairs(queries) do
    for _, auth_header in ipairs { auth, false } do
      if auth_header or i == 1 then -- the first query without credentials too
        local a_status, a = get(raw, sandbox_url .. "/v1/partner/orders?" .. q, auth_header or nil)
        -- every third query through the latency path too
        local b_status, b = get(raw, server.base_url(n % 3 == 2 and 1 or 0) .. "/orders?" .. q, auth_header or nil)
        n = n + 1
        if a_status ~= b_status or a ~= b then
          return false, string.format("GET /orders?%s: the sandbox answered %d (%d bytes), the bench server %d "
            .. "(%d bytes)", q, a_status, #a, b_status, #b)
        end
      end
    end
  end
  raw:request { method = "POST", url = sandbox_url .. "/_sandbox/reset", body = '{"data":true}', timeout = 60 }
  return true, n
end

return M
