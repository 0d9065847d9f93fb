-- Starts spec/support/hostile_server.lua on a free loopback port for a spec; stops it by
-- its pid. The server is independent of the sandbox (see its header for the modes).
local M = {}

function M.start()
  local out = os.tmpname()
  local p = assert(io.popen("lua5.4 spec/support/hostile_server.lua > " .. out .. " 2>&1 & echo $!", "r"))
  local pid = p:read("*l")
  p:close()
  local port
  for _ = 1, 100 do
    local f = io.open(out, "r")
    local text = f and f:read("*a") or ""
    if f then f:close() end
    port = text:match("PORT=(%d+)")
    if port then break end
    os.execute("sleep 0.05")
  end
  os.remove(out)
  assert(port, "hostile server did not start (is lua-socket installed?)")
  local server = { pid = pid, port = tonumber(port), url = "http://127.0.0.1:" .. port }
  server.base_url = server.url .. "/v1/partner"
  function server.stop() os.execute("kill " .. pid .. " 2>/dev/null") end
  return server
end

return M
