-- A transport for specs that runs each request inside the OpenResty spec group's nginx,
-- through klikit.transport.ngx (its /transport location): so the shared transport
-- contract and the walk specs, running here, do their I/O through cosockets.
local cjson = require "cjson.safe"
local core = require "klikit.core"
local openresty = require "support.openresty"

local M = {}
local Forward = {}
Forward.__index = Forward

local carrier -- the libcurl transport that talks to nginx

local made = 0

--- opts: the transport's (max_body_bytes, ...). Each one gets its own connection pool, as
--- each libcurl transport has its own connections.
function M.new(opts)
  made = made + 1
  local o = { pool = string.format("spec-%d-%d", os.time(), made) }
  for k, v in pairs(opts or {}) do o[k] = v end
  return setmetatable({ opts = o }, Forward)
end

function Forward:request(req)
  local server = openresty.shared()
  carrier = carrier or core.new_transport {}
  local body = cjson.encode { opts = self.opts, req = req }
  local resp, code, message = carrier:request { method = "POST", url = server.url .. "/transport", body = body,
    headers = { ["Content-Type"] = "application/json" }, timeout = (tonumber(req.timeout) or 30) + 10 }
  assert(resp, "nginx did not answer: " .. tostring(code) .. " " .. tostring(message))
  local out = core.decode_json(resp.body) -- integers stay integers (status 200, not 200.0)
  assert(type(out) == "table", "nginx answered " .. resp.status .. ": " .. resp.body:sub(1, 200))
  if out.raised then error(out.raised, 0) end
  if out.err then return nil, out.err end
  return out.resp
end

function Forward.close() end

return M
