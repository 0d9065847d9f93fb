--- The OpenResty transport: HTTP/1.1 over nginx cosockets (ngx.socket.tcp), behind the
-- same contract as klikit.transport.curl, so a request waits without blocking the worker.
--   transport:request{ method, url, headers, body, timeout, connect_timeout, verbose, direct }
--     -> { status, headers (lowercase names), body, elapsed, connects, trace }
--     |  nil, { code = network_error|timeout|tls_verify_failed|response_too_large, message, trace }
-- Connections are kept alive in nginx's per-worker pool (setkeepalive), one pool per
-- scheme, host and port. TLS is verified against lua_ssl_trusted_certificate (nginx's
-- configuration: a ca_file option has no meaning here and is refused), with SNI. Proxies
-- are not supported. Usable in the phases where cosockets are (see M.PHASES).
local core = require("klikit.core")
local http1 = require("klikit.transport.http1")

local M = {}
local Transport = {}
Transport.__index = Transport

--- nginx phases with cosockets (lua-nginx-module's documentation).
M.PHASES = { rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true }

--- Whether this code runs inside nginx in a phase where cosockets work.
function M.available()
  local n = rawget(_G, "ngx")
  return type(n) == "table" and type(n.get_phase) == "function" and M.PHASES[n.get_phase()] == true
end

local function invalid(message)
  error(require("klikit.errors").new { code = "request_invalid", message = message }, 3)
end

--- opts: max_body_bytes (8 MiB), pool_size (per host, default 32), keepalive (idle
--- seconds, default 60), pool (a name for this transport's connections, default "klikit":
--- transports with the same name share the worker's idle connections), user_agent,
--- insecure_skip_tls_verify.
function M.new(opts)
  opts = opts or {}
  if opts.ca_file ~= nil then
    invalid("transport ngx: ca_file has no meaning inside nginx; set lua_ssl_trusted_certificate in nginx.conf")
  end
  if opts.proxy ~= nil then invalid("transport ngx: proxies are not supported inside nginx") end
  local n = opts.pool_size
  if n ~= nil and not (type(n) == "number" and n == math.floor(n) and n >= 1 and n <= 10000) then
    invalid("transport ngx: pool_size must be an integer from 1 to 10000")
  end
  local k = opts.keepalive
  if k ~= nil and not (type(k) == "number" and k > 0 and k <= 3600) then
    invalid("transport ngx: keepalive must be a number of seconds in (0, 3600]")
  end
  local name = opts.pool
  if name ~= nil and (type(name) ~= "string" or name == "" or #name > 200 or name:find("%c")) then
    invalid("transport ngx: pool must be a name of 1 to 200 characters without control characters")
  end
  return setmetatable({ pool = tostring(opts.pool or "klikit"),
    max_body = opts.max_body_bytes or 8 * 1024 * 1024, pool_size = opts.pool_size or 32,
    keepalive_ms = math.floor((opts.keepalive or 60) * 1000), verify = not opts.insecure_skip_tls_verify,
    user_agent = opts.user_agent or ("klikit-lua/" .. core.version) }, Transport)
end

local function now()
  ngx.update_time()
  return ngx.now()
end

local function failure(code, message, trace)
  return nil, { code = code, message = message, trace = trace and table.concat(trace, "\n") or nil }
end

-- A cosocket error string -> the contract's code.
local function code_of(err)
  if err == "timeout" then return "timeout" end
  if tostring(err):find("certificate", 1, true) or tostring(err):find("verify", 1, true) then
    return "tls_verify_failed"
  end
  return "network_error"
end

-- Connects (or takes a pooled connection) and does the TLS handshake -> sock, connects | nil, err
-- (informational "* " lines go to `trace`, as curl's do)
local function open(self, target, deadline, connect_timeout, trace)
  local function note(line) if trace then trace[#trace + 1] = "* " .. line end end
  local sock = ngx.socket.tcp()
  local ms = math.max(1, math.floor(math.min(connect_timeout, deadline - now()) * 1000))
  sock:settimeouts(ms, ms, ms)
  local pool = table.concat({ self.pool, target.scheme, target.host, target.port, self.verify and "v" or "nv" }, ":")
  note("Trying " .. target.host .. ":" .. target.port .. " (cosocket pool " .. pool .. ")")
  local ok, err = sock:connect(target.host, target.port, { pool = pool, pool_size = self.pool_size })
  if not ok then
    note("connect to " .. target.host .. " port " .. target.port .. " failed: " .. tostring(err))
    return nil, code_of(err), "connect to " .. target.host .. ":" .. target.port .. ": " .. err
  end
  local fresh = sock:getreusedtimes() == 0
  note(fresh and "Connected" or ("Re-using a pooled connection (used " .. sock:getreusedtimes() .. " times)"))
  if target.scheme == "https" and fresh then
    local sni = not target.host:find("^[%d%.]+$") and not target.host:find(":", 1, true) and target.host or nil
    -- lua-resty-core (Debian's) raises "assertion failed!" instead of returning nil, err
    -- when a handshake that had to wait for the server fails; the failure it hides is
    -- the certificate's when verification is on (seen: an unknown CA)
    local called, raised
    called, ok, err = pcall(sock.sslhandshake, sock, nil, sni, self.verify)
    if not called then
      raised, ok = tostring(ok), nil
      err = "the handshake failed (lua-resty-core raised " .. raised .. ")"
    end
    if not ok then
      sock:close()
      note("TLS handshake failed: " .. tostring(err))
      local code = raised and (self.verify and "tls_verify_failed" or "network_error") or code_of(err)
      return nil, code, "TLS handshake with " .. target.host .. ": " .. err
    end
    note("TLS handshake done (certificate " .. (self.verify and "verified" or "NOT verified") .. ")")
  end
  return sock, fresh and 1 or 0
end

function Transport:request(req)
  local target, head = http1.request_head(req, self.user_agent)
  local trace = req.verbose and http1.trace_request(head) or nil
  local t0 = now()
  local deadline = t0 + (tonumber(req.timeout) or 30)
  local sock, connects, why = open(self, target, deadline, tonumber(req.connect_timeout) or 10, trace)
  if not sock then return failure(connects, why, trace) end
  local function remaining()
    return math.max(1, math.floor((deadline - now()) * 1000))
  end
  sock:settimeouts(remaining(), remaining(), remaining())
  local _, err = sock:send(req.body and (head .. req.body) or head)
  if err then
    sock:close()
    return failure(code_of(err), "sending the request: " .. err, trace)
  end
  local resp, code, message = http1.read_response(sock, req.method, self.max_body, remaining)
  if not resp then
    sock:close()
    return failure(code, message, trace)
  end
  if trace then http1.trace_response(trace, resp) end
  if resp.keepalive then sock:setkeepalive(self.keepalive_ms, self.pool_size) else sock:close() end
  return { status = resp.status, headers = resp.headers, body = resp.body, elapsed = now() - t0,
    connects = connects, trace = trace and table.concat(trace, "\n") or nil }
end

function Transport.close() end -- the pool belongs to the worker; nothing to release

function Transport:__tostring()
  return "klikit.transport.ngx (cosockets, pool " .. self.pool_size .. ")"
end

return M
