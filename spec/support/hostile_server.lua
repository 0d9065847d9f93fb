-- A small hostile HTTP/1.1 server for the hardening specs: it misbehaves below the level
-- nginx lets the sandbox reach (stray bytes on an idle keep-alive connection, header lines
-- of a megabyte, echoed credentials, bodies of tens of MiB). Plain Lua + luasocket; one
-- process serves many connections through select.
--
--   lua5.4 spec/support/hostile_server.lua     -> prints "PORT=<n>" and serves until killed
--
-- The behaviour is chosen by the request path, /<mode>[/<arg>]:
--   /ok              200 {"request_id":"fresh","data":"fresh"}
--   /stale204        204, then 100 ms later, on the same idle connection, a whole stray
--                    response {"request_id":"stale","data":"STALE"}
--   /bigheader       200 with a 1 MiB header line
--   /manyheaders     200 with 100,000 header lines
--   /echo            an error envelope that echoes the Authorization value in request_id,
--                    error.code, error.message and nested error.details
--   /echo_many/<n>   an error whose message holds the Authorization value n times
--   /unsafe          an error with C1 controls, bidi overrides, a 10 KB request_id and a
--                    1 MB message
--   /json/<mib>      200 with a body of <mib> MiB: {"request_id":"x","data":[{},{},...]}
--   /body/<mib>      200 with <mib> MiB of spaces then {} (a plain large body)
--   /headers         200 echoing the request's header names in data (lowercase)
--   /hdr_echo        200 with response headers echoing the Authorization value, and one
--                    holding ESC, CR-less control bytes and a bidi override
--   /html_echo/<n>   502 HTML page: n bytes of padding, then the Authorization value
--   /seen            200 with data = how many requests came in proxy form (GET http://...)
--   any request in proxy form (absolute URL) is counted and answered 200, as a proxy would
local socket = require "socket"

local server = assert(socket.bind("127.0.0.1", 0))
server:settimeout(0)
local _, port = server:getsockname()
io.write("PORT=", port, "\n")
io.flush()

local conns, timers = {}, {}
local proxied = 0

local function response(status, reason, headers, body)
  local out = { "HTTP/1.1 ", status, " ", reason, "\r\n" }
  for _, h in ipairs(headers or {}) do out[#out + 1] = h .. "\r\n" end
  if body then out[#out + 1] = "Content-Length: " .. #body .. "\r\n" end
  out[#out + 1] = "\r\n"
  out[#out + 1] = body or ""
  return table.concat(out)
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local function envelope_error(rid, code, message, details)
  return response(400, "Bad Request", { "Content-Type: application/json" }, '{"request_id":' .. json_string(rid)
    .. ',"error":{"code":' .. json_string(code) .. ',"message":' .. json_string(message)
    .. (details and (',"details":' .. details) or "") .. "}}")
end

local big_json = {}
local function json_body(mib)
  if not big_json[mib] then
    local n = math.floor(mib * 1024 * 1024 / 3)
    big_json[mib] = '{"request_id":"x","data":[' .. string.rep("{},", n - 1) .. "{}]}"
  end
  return big_json[mib]
end

local function answer(c, req)
  local mode, arg = req.path:match("^/([%w_]+)/?([^/]*)")
  local auth = req.headers.authorization or ""
  local send = function(s) c.sock:send(s) end
  if req.path:find("^%a+://") then
    proxied = proxied + 1
    send(response(200, "OK", { "Content-Type: application/json" }, '{"request_id":"p","data":"via proxy"}'))
  elseif mode == "seen" then
    send(response(200, "OK", { "Content-Type: application/json" }, '{"request_id":"s","data":' .. proxied .. "}"))
  elseif mode == "hdr_echo" then
    send(response(200, "OK", { "Content-Type: application/json", "X-Echo: " .. auth,
      "X-Ctl: a\27[31mred\226\128\174rlo\1" }, '{"request_id":"h","data":"ok"}'))
  elseif mode == "html_echo" then
    send(response(502, "Bad Gateway", { "Content-Type: text/html" }, "<html><title>"
      .. string.rep("x", tonumber(arg) or 0) .. " Authorization: " .. auth .. "</title></html>"))
  elseif mode == "stale204" then
    send("HTTP/1.1 204 No Content\r\n\r\n")
    timers[#timers + 1] = { at = socket.gettime() + 0.1, fn = function()
      c.sock:send(response(200, "OK", { "Content-Type: application/json" },
        '{"request_id":"stale","data":"STALE"}'))
    end }
  elseif mode == "bigheader" then
    send(response(200, "OK", { "X-Big: " .. string.rep("a", 1024 * 1024) }, '{"data":1}'))
  elseif mode == "manyheaders" then
    local h = {}
    for i = 1, 100000 do h[i] = "X-H" .. i .. ": v" end
    send(response(200, "OK", h, '{"data":1}'))
  elseif mode == "echo" then
    send(envelope_error(auth, auth, "you sent " .. auth,
      '{"field":' .. json_string(auth) .. ',"nested":{"list":[' .. json_string("x " .. auth) .. "]},"
      .. json_string(auth) .. ":1}"))
  elseif mode == "echo_many" then
    send(envelope_error("r", "request_invalid", string.rep(auth .. " ", tonumber(arg) or 1)))
  elseif mode == "unsafe" then
    send(envelope_error(string.rep("r", 10000), "request_invalid", "C1\194\133NEL\194\155CSI bidi\226\128\174"
      .. "RLO\226\129\166LRI line\226\128\168sep " .. string.rep("m", 1024 * 1024)))
  elseif mode == "json" then
    send(response(200, "OK", { "Content-Type: application/json" }, json_body(tonumber(arg) or 1)))
  elseif mode == "body" then
    send(response(200, "OK", { "Content-Type: application/json" },
      string.rep(" ", math.floor((tonumber(arg) or 1) * 1024 * 1024)) .. '{"data":{}}'))
  elseif mode == "headers" then
    local names = {}
    for k in pairs(req.headers) do names[#names + 1] = json_string(k) end
    table.sort(names)
    send(response(200, "OK", { "Content-Type: application/json" }, '{"request_id":"h","data":['
      .. table.concat(names, ",") .. "]}"))
  else
    send(response(200, "OK", { "Content-Type: application/json" }, '{"request_id":"fresh","data":"fresh"}'))
  end
end

-- Reads one request from a readable connection; nil when the peer closed.
local function read_request(c)
  local line, err = c.sock:receive("*l")
  if not line then return nil, err end
  local method, path = line:match("^(%u+) (%S+)")
  local req = { method = method, path = (path or "/"):gsub("^/v1/partner", ""), headers = {} }
  while true do
    local h = c.sock:receive("*l")
    if not h or h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.*)$")
    if k then req.headers[k:lower()] = v end
  end
  local len = tonumber(req.headers["content-length"] or "0")
  if len and len > 0 then c.sock:receive(len) end
  return req
end

while true do
  local watch = { server }
  for _, c in ipairs(conns) do watch[#watch + 1] = c.sock end
  local wait = 1
  local now = socket.gettime()
  for _, t in ipairs(timers) do wait = math.max(0, math.min(wait, t.at - now)) end
  local readable = socket.select(watch, nil, wait)
  for _, s in ipairs(readable) do
    if s == server then
      local sock = server:accept()
      if sock then
        sock:settimeout(2)
        conns[#conns + 1] = { sock = sock }
      end
    else
      for i, c in ipairs(conns) do
        if c.sock == s then
          local req = read_request(c)
          if req then
            answer(c, req)
          else
            s:close()
            table.remove(conns, i)
          end
          break
        end
      end
    end
  end
  now = socket.gettime()
  for i = #timers, 1, -1 do
    if timers[i].at <= now then
      pcall(timers[i].fn)
      table.remove(timers, i)
    end
  end
end
