-- Sends GET requests at once over separate connections (luasocket, select) and waits for
-- every answer: how long a server takes to serve them together.
local socket = require "socket"

local M = {}

--- urls (http://127.0.0.1:port/path...) -> wall seconds, statuses, bodies
function M.get(urls, timeout)
  local t0 = socket.gettime()
  local conns = {}
  for i, url in ipairs(urls) do
    local host, port, path = url:match("^http://([^:/]+):(%d+)(/.*)$")
    local sock = assert(socket.connect(host, tonumber(port)))
    sock:settimeout(0)
    assert(sock:send("GET " .. path .. " HTTP/1.0\r\nHost: " .. host .. "\r\n\r\n")) -- 1.0: no chunks
    conns[i] = { sock = sock, buf = {} }
  end
  local open, deadline = #conns, t0 + (timeout or 60)
  while open > 0 and socket.gettime() < deadline do
    local watch = {}
    for _, c in ipairs(conns) do if not c.done then watch[#watch + 1] = c.sock end end
    local readable = socket.select(watch, nil, 0.5)
    for _, s in ipairs(readable) do
      for _, c in ipairs(conns) do
        if c.sock == s then
          local data, err, partial = s:receive(65536)
          local got = data or partial
          if got and got ~= "" then c.buf[#c.buf + 1] = got end
          if err == "closed" then
            c.done, open = true, open - 1
            c.sock:close()
          end
        end
      end
    end
  end
  local wall = socket.gettime() - t0
  local statuses, bodies = {}, {}
  for i, c in ipairs(conns) do
    local text = table.concat(c.buf)
    statuses[i] = tonumber(text:match("^HTTP/1%.%d (%d%d%d)"))
    bodies[i] = text:match("\r\n\r\n(.*)$")
    if not c.done then c.sock:close() end
  end
  return wall, statuses, bodies
end

return M
