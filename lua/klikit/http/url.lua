--- URLs: the base URL (parsed by libcurl's own URL parser, the one that will connect),
-- raw request paths, path segments and query strings from caller data, and the length
-- of what is sent.
local core = require("klikit.core")
local errors = require("klikit.errors")

local util = require("klikit.util")

local M = {}
local invalid = errors.invalid
local is_integer = util.is_integer

M.MAX_URL_BYTES = 8192 -- servers commonly refuse longer request lines (nginx: 8 KiB)

-- 127.0.0.0/8 in dotted form (libcurl has already turned 2130706433, 0x7f.1 and 0177.0.0.1
-- into it), ::1, and the name localhost itself.
local function is_loopback(host)
  host = host:lower()
  if host == "localhost" or host == "[::1]" then return true end
  local a, b, c = host:match("^127%.(%d+)%.(%d+)%.(%d+)$")
  return a ~= nil and tonumber(a) <= 255 and tonumber(b) <= 255 and tonumber(c) <= 255
end
M.is_loopback = is_loopback

local function bad(url, why, who)
  invalid(who .. ": base_url must look like https://host/path (" .. why .. "), got \""
    .. tostring(url):sub(1, 200) .. "\"")
end

--- Checks base_url; returns it without trailing slashes. Plain http is refused unless the
-- host is loopback or allow_http is true: credentials would travel in clear text. `who`
-- names the constructor in messages (default "klikit.new").
function M.check_base_url(url, allow_http, who)
  who = who or "klikit.new"
  if type(url) ~= "string" then invalid(who .. ": base_url must be a string, got " .. type(url)) end
  if #url > 2048 then bad(url, "longer than 2048 bytes", who) end
  if url:find("[%c%s\\]") then bad(url, "control characters, spaces or backslashes", who) end
  if url:find("[\128-\255]") then bad(url, "only ASCII: write a non-ASCII host in its xn-- form", who) end
  if url:find("[#?%%]") then bad(url, "no query, fragment or percent-encoding", who) end
  local after_host = url:match("^%a+://[^/]*(/.*)$") or ""
  if ("/" .. after_host .. "/"):find("/%.%.?/") then bad(url, "no . or .. path segments", who) end
  local port = url:match("^%a+://[^/]*:(%d+)/?") or url:match("^%a+://[^/]*:(%d+)$")
  if port and (tonumber(port) < 1 or tonumber(port) > 65535) then bad(url, "a port from 1 to 65535", who) end
  local scheme = url:match("^(%a+)://")
  if not scheme or (scheme:lower() ~= "http" and scheme:lower() ~= "https") then
    bad(url, "it must start with https:// or http://", who)
  end
  local parts, why = core.url_parts(url)
  if not parts then bad(url, why, who) end
  if parts.user or parts.password or parts.options or url:match("^%a+://([^/]*)"):find("@", 1, true) then
    bad(url, "no user:password@ part: credentials go in their own options", who)
  end
  if parts.query or parts.fragment then bad(url, "no query string or fragment", who) end
  if parts.zoneid or url:match("^%a+://([^/]*)"):find("%", 1, true) then
    bad(url, "no percent-encoding or zone id in the host", who)
  end
  if not parts.host or parts.host == "" then bad(url, "no host", who) end
  if parts.scheme == "http" and not allow_http and not is_loopback(parts.host) then
    invalid(who .. ": refusing plain http to " .. parts.host .. ": credentials would travel in clear "
      .. "text (use https, or allow_insecure_http = true if you really mean it)")
  end
  return (url:gsub("/+$", ""))
end

local function hex_byte(h) return string.char(tonumber(h, 16)) end

--- A path relative to base_url: one request line, no query or fragment, no dot segments,
-- once percent-decoded, and no encoded slashes or backslashes (servers decode them too).
function M.check_path(where, path)
  local ok = type(path) == "string" and path:find("^/") and not path:find("[%s%c?#\\]")
  local decoded = ok and path:gsub("%%(%x%x)", hex_byte)
  if ok and (path:find("%%%X") or path:find("%%%x%X") or path:find("%%.?$")) then ok = false end
  if ok and (path:find("%%2[fF]") or path:find("%%5[cC]") or decoded:find("[%c\\]")
      or (decoded .. "/"):find("/%.%.?/")) then
    ok = false
  end
  if not ok then
    invalid(where .. ": path must start with / and contain no spaces, control characters, '?', '#', "
      .. "backslashes, encoded slashes or dot segments (even percent-encoded), got \""
      .. tostring(path):sub(1, 200) .. "\"")
  end
  return path
end

--- Refuses a URL longer than servers take, before anything is sent.
function M.check_length(where, url)
  if #url > M.MAX_URL_BYTES then
    invalid(string.format("%s: the URL would be %d bytes, more than the %d a server takes; send fewer "
      .. "or shorter query values", where, #url, M.MAX_URL_BYTES))
  end
  return url
end

--- Percent-encodes everything but RFC 3986 unreserved characters.
function M.escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

local function format_scalar(name, v)
  local t = type(v)
  if t == "string" then
    if v:find("[%z\r\n]") then invalid("query parameter " .. name .. " contains CR, LF or NUL") end
    return v
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      invalid("query parameter " .. name .. " is not a finite number")
    end
    if is_integer(v) then return string.format("%d", v) end
    return string.format("%.17g", v)
  elseif t == "boolean" then
    return tostring(v)
  end
  invalid("query parameter " .. name .. " must be a string, number or boolean, got " .. t)
end

--- Encodes a query table in sorted key order, so a request is byte-stable.
function M.query_string(query)
  if query == nil then return "" end
  if type(query) ~= "table" then invalid("query must be a table") end
  local keys = {}
  for k in pairs(query) do
    if type(k) ~= "string" or k == "" then invalid("query keys must be non-empty strings") end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = M.escape(k) .. "=" .. M.escape(format_scalar(k, query[k]))
  end
  return table.concat(parts, "&")
end

--- A path segment taken from caller data (ids, SKUs): positive integer or safe string.
function M.path_id(name, v)
  if is_integer(v) then
    if v < 1 then invalid(name .. " must be a positive integer, got " .. string.format("%d", v)) end
    return string.format("%d", v)
  elseif type(v) == "string" then
    if v == "" or #v > 128 or not v:find("^[%w%-_%.:]+$") or v == "." or v == ".." then
      invalid(name .. " must be a positive integer or a string of letters, digits, '-', '_', "
        .. "'.', ':' (at most 128), got \"" .. v:sub(1, 40) .. "\"")
    end
    return M.escape(v)
  end
  invalid(name .. " must be a positive integer or a string, got " .. type(v))
end

return M
