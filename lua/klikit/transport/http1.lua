--- HTTP/1.1 framing for transports that own their socket (klikit.transport.ngx): the
-- request head, and the response read from a cosocket-like object with the same limits
-- as the libcurl transport (100 KiB a header line, 256 KiB of headers in all, interim 1xx
-- answers included; the body cap). Header rules and parsing are klikit.core's, shared
-- with the libcurl transport.
local core = require("klikit.core")

local M = {}
M.MAX_LINE = 100 * 1024
M.MAX_HEAD = 256 * 1024
M.CHUNK = 64 * 1024

-- Bad input is the caller's mistake: raise before anything is sent (as klikit.core does).
local function raise(message) error("klikit.transport: " .. message, 3) end

--- req -> target { scheme, host, port }, the request head (request line and headers).
function M.request_head(req, user_agent)
  local method = req.method or "GET"
  if type(method) ~= "string" or not method:find("^%u+$") or #method > 16 then raise("invalid request.method") end
  local url = req.url
  if type(url) ~= "string" then raise("request.url must be a string") end
  if url:find("[%z\1-\32\127]") then raise("request.url contains a control character or space") end
  local parts, why = core.url_parts(url)
  if not parts then raise("request.url cannot be parsed: " .. tostring(why)) end
  local scheme = tostring(parts.scheme):lower()
  if scheme ~= "http" and scheme ~= "https" then raise("request.url must be http or https") end
  local default_port = scheme == "https" and 443 or 80
  local port = tonumber(parts.port) or default_port
  local host = parts.host
  local host_header = (host:find(":", 1, true) and ("[" .. host .. "]") or host)
    .. (port ~= default_port and (":" .. port) or "")
  local target = (parts.path or "/") .. (parts.query and ("?" .. parts.query) or "")
  local lines = { string.format("%s %s HTTP/1.1", method, target), "Host: " .. host_header }
  local seen = {}
  for k, v in pairs(req.headers or {}) do
    if type(k) ~= "string" or type(v) ~= "string" then raise("header names and values must be strings") end
    local problem = core.header_problem(k, v)
    if problem then raise("header " .. (k:find("^[%w%-]+$") and k or "?") .. " " .. problem) end
    seen[k:lower()] = true
    lines[#lines + 1] = k .. ": " .. v
  end
  if not seen["user-agent"] and user_agent then lines[#lines + 1] = "User-Agent: " .. user_agent end
  if not seen["accept-encoding"] then lines[#lines + 1] = "Accept-Encoding: identity" end
  local body = req.body
  if body ~= nil and type(body) ~= "string" then raise("request.body must be a string") end
  if body ~= nil or (method ~= "GET" and method ~= "HEAD") then
    lines[#lines + 1] = "Content-Length: " .. #(body or "")
  end
  return { scheme = scheme, host = host, port = port }, table.concat(lines, "\r\n") .. "\r\n\r\n"
end

local function redact_line(line)
  local name = line:match("^([^:]+):")
  if name and (name:lower() == "authorization" or name:lower() == "proxy-authorization") then
    return name .. ": [redacted]"
  end
  return line
end

--- The request head as trace lines ("> ..."), credentials redacted.
function M.trace_request(head)
  local trace = {}
  for line in head:gmatch("([^\r\n]+)") do trace[#trace + 1] = "> " .. redact_line(line) end
  return trace
end

function M.trace_response(trace, resp)
  trace[#trace + 1] = "< " .. resp.status_line
  for k, v in pairs(resp.headers) do trace[#trace + 1] = "< " .. k .. ": " .. v end
  trace[#trace + 1] = "* " .. #resp.body .. " bytes of body; connection " .. (resp.keepalive and "kept" or "closed")
end

-- One line (without CRLF) of at most `cap` bytes -> line | nil, code, message
local function read_line(sock, cap, what)
  local reader = sock:receiveuntil("\r\n")
  local parts, n = {}, 0
  while true do
    local data, err = reader(M.CHUNK)
    if err then
      if err == "timeout" then return nil, "timeout", "reading the " .. what .. ": timeout" end
      return nil, "network_error", "reading the " .. what .. ": " .. tostring(err)
    end
    if not data then break end
    n = n + #data
    if n > cap then
      return nil, "response_too_large", what .. " longer than " .. math.floor(cap / 1024) .. " KiB; refused"
    end
    parts[#parts + 1] = data
  end
  return table.concat(parts)
end

-- The status line and headers, interim 1xx answers skipped -> status, line, block | nil, code, message
local function read_head(sock)
  local total = 0
  while true do
    local lines = {}
    local line, code, message = read_line(sock, M.MAX_LINE, "status line")
    if not line then return nil, code, message end
    local status = tonumber(line:match("^HTTP/1%.[01] (%d%d%d)"))
    if not status then return nil, "network_error", "not an HTTP/1.x answer: " .. line:sub(1, 80) end
    lines[1] = line
    total = total + #line
    while true do
      local h
      h, code, message = read_line(sock, M.MAX_LINE, "header line")
      if not h then return nil, code, message end
      total = total + #h + 2
      if total > M.MAX_HEAD then
        return nil, "response_too_large", "response headers larger than " .. M.MAX_HEAD / 1024 .. " KiB in all; refused"
      end
      if h == "" then break end
      lines[#lines + 1] = h
    end
    if status >= 200 or status == 101 then return status, line, table.concat(lines, "\r\n") .. "\r\n\r\n" end
  end
end

local function receive(sock, n)
  local data, err = sock:receive(n)
  if data then return data end
  if err == "timeout" then return nil, "timeout", "reading the body: timeout" end
  return nil, "network_error", "the connection ended before the body did (" .. tostring(err) .. ")"
end

local function chunked(sock, max)
  local parts, total = {}, 0
  while true do
    local line, code, message = read_line(sock, 1024, "chunk size")
    if not line then return nil, code, message end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "network_error", "a bad chunk size: " .. line:sub(1, 40) end
    if size == 0 then
      repeat -- trailers, until the empty line
        local trailer
        trailer, code, message = read_line(sock, M.MAX_LINE, "trailer")
        if not trailer then return nil, code, message end
      until trailer == ""
      return table.concat(parts)
    end
    total = total + size
    if total > max then return nil, "response_too_large", "response body larger than max_body_bytes; refused" end
    local data
    data, code, message = receive(sock, size + 2)
    if not data then return nil, code, message end
    parts[#parts + 1] = data:sub(1, size)
  end
end

local function until_close(sock, max)
  local parts, total = {}, 0
  while true do
    local data, err = sock:receiveany(M.CHUNK)
    if not data then
      if err == "closed" then return table.concat(parts) end
      if err == "timeout" then return nil, "timeout", "reading the body: timeout" end
      return nil, "network_error", "reading the body: " .. tostring(err)
    end
    total = total + #data
    if total > max then return nil, "response_too_large", "response body larger than max_body_bytes; refused" end
    parts[#parts + 1] = data
  end
end

--- Reads one answer -> { status, status_line, headers, body, keepalive } | nil, code, message.
--- `remaining()` gives the milliseconds left before the call's deadline.
function M.read_response(sock, method, max, remaining)
  local status, line, block = read_head(sock)
  if not status then return nil, line, block end
  local headers = core.parse_headers(block)
  local resp = { status = status, status_line = line, headers = headers, body = "" }
  local conn = (headers.connection or ""):lower()
  resp.keepalive = (line:find("^HTTP/1%.1") and not conn:find("close", 1, true)) or conn:find("keep-alive", 1, true)
  sock:settimeouts(remaining(), remaining(), remaining())
  if method == "HEAD" or status == 204 or status == 304 then return resp end
  local te, cl = (headers["transfer-encoding"] or ""):lower(), headers["content-length"]
  local body, code, message
  if te:find("chunked", 1, true) then
    body, code, message = chunked(sock, max)
  elseif cl then
    local n = cl:find("^%d+$") and tonumber(cl)
    if not n then return nil, "network_error", "a bad Content-Length: " .. cl:sub(1, 40) end
    if n > max then return nil, "response_too_large", "response body larger than max_body_bytes; refused" end
    if n == 0 then body = "" else body, code, message = receive(sock, n) end
  else
    resp.keepalive = false
    body, code, message = until_close(sock, max)
  end
  if not body then return nil, code, message end
  resp.body = body
  resp.keepalive = resp.keepalive and true or false
  return resp
end

return M
