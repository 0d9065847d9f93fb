--- One HTTP session under every API client: build -> attempt -> decode -> retry -> hooks,
-- for any JSON API. An API client is a session plus its auth header, its codec (how a
-- response becomes data or an error) and its endpoints (klikit.partner.client, and the
-- Klar client). Redaction, the deadline, the rate limit, Retry-After and idempotency keys
-- live here, once.
--
--   session:request(method, path, { query, body, headers, timeout, idempotency_key, retry })
--     -> data, nil, meta | nil, err, meta
--   meta = { status, headers, request_id, elapsed, connects, attempts, idempotency_key }
local errors = require("klikit.errors")
local retry = require("klikit.http.retry")
local redact = require("klikit.http.redact")
local request = require("klikit.http.request")

local M = {}
local Session = {}
Session.__index = Session

-- Credentials live here, keyed weakly by session, so that no field of a session or client
-- table (and so no dump, tostring or error of it) ever holds them.
local secrets = setmetatable({}, { __mode = "k" })

--- cfg: api ("klikit", "klar": stamped on every error), base_url, settings (from
--- klikit.http.options.check), auth = { name, value, needles = { texts to redact } },
--- codec = function(resp, session) -> true, data, request_id | false, err,
--- retry_statuses (the HTTP statuses retried; default klikit's), idempotency_keys (false:
--- send writes without an Idempotency-Key).
function M.new(cfg)
  local self = setmetatable({ api = cfg.api, base_url = cfg.base_url, codec = cfg.codec,
    retry_statuses = cfg.retry_statuses, idempotency_keys = cfg.idempotency_keys }, Session)
  for k, v in pairs(cfg.settings) do self[k] = v end
  secrets[self] = { auth = { name = cfg.auth.name, value = cfg.auth.value }, needles = cfg.auth.needles }
  return self
end

--- Text that came back, with the credentials removed.
function Session:redact(text)
  return redact.scrub(text, secrets[self] and secrets[self].needles)
end

--- Every string of an error that a server (or a caller) supplied: credentials removed,
--- length bounded, details copied with the same treatment; method, path and api stamped.
function Session:fail(err, method, path)
  local needles = secrets[self] and secrets[self].needles
  err.method, err.path, err.api = method, path, self.api
  for _, k in ipairs { "message", "request_id", "raw_code" } do
    if type(err[k]) == "string" then err[k] = redact.safe(err[k], needles) end
  end
  if type(err.details) == "table" then err.details = redact.value(err.details, needles) end
  return err
end

--- Runs fn(...) and turns a raised klikit error (request_invalid) into nil, err; other
--- errors propagate.
function Session:checked(method, path, fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if ok then return a, b, c end
  if errors.is_error(a) then return nil, self:fail(a, method, path) end
  error(a, 0)
end

--- nil, client_closed error, {} when the session is closed; nothing otherwise.
function Session:closed_error(method, path)
  if not self.closed then return nil end
  return self:fail(errors.new { code = "client_closed",
    message = "this client was closed with client:close(); make a new one" }, method, path)
end

-- Hands one line to the logger: redacted, cut, escaped. Without a logger, warnings still go
-- to stderr; a failing logger is reported there and otherwise ignored.
function Session:log(level, text)
  text = redact.safe(text, secrets[self] and secrets[self].needles, redact.MAX_LINE)
  if not self.logger then
    if level == "warn" then io.stderr:write("klikit: ", text, "\n") end
    return
  end
  local ok, why = pcall(self.logger, level, text)
  if not ok then io.stderr:write("klikit: logger failed: ", redact.safe(self:redact(tostring(why))), "\n") end
end

-- One attempt: sends `req` and decodes the answer -> data | nil, err. Fills meta afresh,
-- so nothing of an earlier attempt is left in it.
-- Response headers as a caller may see them: credentials removed, length bounded,
-- invisible and line-forging characters escaped.
local function clean_headers(self, headers)
  local out = {}
  for k, v in pairs(headers or {}) do
    out[k] = redact.safe(tostring(v), secrets[self] and secrets[self].needles)
  end
  return out
end

local function attempt(self, req, method, path, meta, projection)
  meta.status, meta.headers, meta.elapsed, meta.connects, meta.request_id = nil, nil, nil, nil, nil
  local resp, terr = self.transport:request(req)
  local trace = resp and resp.trace or type(terr) == "table" and terr.trace
  if self.verbose and type(trace) == "string" then
    for line in trace:gmatch("[^\n]+") do self:log("debug", line) end
  end
  if not resp then return nil, self:fail(errors.from_transport(terr), method, path) end
  meta.status, meta.headers, meta.elapsed, meta.connects = resp.status, clean_headers(self, resp.headers),
    resp.elapsed, resp.connects
  local ok, data, request_id = self.codec(resp, self, projection)
  if ok then
    meta.request_id = redact.safe(request_id, secrets[self] and secrets[self].needles)
    return data
  end
  local err = data
  err.retry_after = retry.parse_retry_after(resp.headers["retry-after"], os.time())
  self:fail(err, method, path)
  meta.request_id = err.request_id
  return nil, err
end

local function report(self, event)
  if self.logger then
    self:log("info", string.format("%s %s: %s in %.3f s (attempt %d%s)", event.method, event.path,
      event.code or event.status, event.elapsed, event.attempt,
      event.request_id and (", request_id " .. event.request_id) or ""))
  end
  if not self.on_request then return end
  local ok, why = pcall(self.on_request, event)
  if not ok then self:log("warn", "on_request hook failed: " .. tostring(why)) end
end

-- The request and the retry policy of one call; raises request_invalid.
local function prepare(self, method, path, opts)
  local req = request.build(self, secrets[self].auth, method, path, opts)
  local wanted = opts and opts.retry
  if wanted == false then return req, retry.policy(self.retry, { max_attempts = 1 }) end
  if wanted ~= nil then return req, retry.policy(self.retry, wanted) end
  return req, self.retry
end

-- Waits for the rate limiter; nil, or the deadline_exceeded error when the wait would
-- pass the deadline (then nothing is sent and the token is given back).
local function throttle(self, deadline, attempts, method, path, call)
  -- a Retry-After another call of this session obeys holds this one too (parallel walks)
  local pause = (self.paused_until or 0) - self.clock()
  if pause > 0 and self.paused_by ~= call then
    if deadline and self.clock() + pause > deadline then
      return self:fail(errors.new { code = "deadline_exceeded", attempts = attempts, message = string.format(
        "the server asked this client to wait %.1f s (Retry-After), past this call's deadline", pause) },
        method, path)
    end
    self.sleep(pause)
  end
  if not self.limiter then return self:closed_error(method, path) end
  local wait = self.limiter:take()
  if wait > 0 and deadline and self.clock() + wait > deadline then
    self.limiter:refund()
    return self:fail(errors.new { code = "deadline_exceeded", attempts = attempts, message = string.format(
      "the rate limit (%g per minute) would hold this call for %.1f s, past its deadline", self.rate_limit, wait) },
      method, path)
  end
  if wait > 0 then self.sleep(wait) end
  return self:closed_error(method, path)
end

--- Sends a request, retrying per the retry policy (opts.retry overrides it, false
--- disables). A write is only ever retried with the same body bytes (the request is built
--- once) and, for klikit, its Idempotency-Key; Klar's writes are upserts by id, safe to
--- repeat. Invalid arguments give request_invalid before anything is sent.
function Session:request(method, path, opts)
  local closed = self:closed_error(method, path)
  if closed then return nil, closed, {} end
  local req, policy = self:checked(method, path, prepare, self, method, path, opts)
  if not req then return nil, policy, {} end
  local meta = { idempotency_key = req.headers["Idempotency-Key"], attempts = 0 }
  local deadline = policy.deadline and self.clock() + policy.deadline
  local timeout = req.timeout
  local err
  for n = 1, policy.max_attempts do
    -- closed by a hook, the logger, or another coroutine while this call waited
    err = self:closed_error(method, path)
    if err then return nil, err, meta end
    err = throttle(self, deadline, n - 1, method, path, meta)
    if err then return nil, err, meta end
    if deadline then req.timeout = math.max(0.001, math.min(timeout, deadline - self.clock())) end
    meta.attempts = n
    local t0 = self.clock()
    local data
    data, err = attempt(self, req, method, path, meta, opts and opts.projection)
    report(self, { method = method, path = path, attempt = n, status = meta.status,
      code = err and err.code, request_id = meta.request_id, elapsed = self.clock() - t0 })
    if not err then return data, nil, meta end
    err.attempts = n
    if n == policy.max_attempts or not retry.should_retry(err, self.retry_statuses) then break end
    if err.retry_after and err.retry_after > policy.max_retry_after then break end
    local wait = retry.delay(policy, n, err, math.random)
    if deadline and self.clock() + wait >= deadline then break end
    if err.retry_after and self.clock() + wait > (self.paused_until or 0) then
      self.paused_until, self.paused_by = self.clock() + wait, meta
    end
    if self.logger then
      self:log("info", string.format("%s %s: retrying in %.2f s after %s (attempt %d of %d)", method, path,
        wait, err.code, n, policy.max_attempts))
    end
    self.sleep(wait)
  end
  return nil, err, meta
end

--- Releases the connection now instead of at garbage collection. Every later call returns
--- nil, err with code client_closed. Closing twice is harmless.
function Session:close()
  if self.closed then return end
  self.closed = true
  if self.transport.close then self.transport:close() end
end

return M
