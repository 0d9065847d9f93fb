--- klikit's endpoints as rows, and the methods made from them. Every method returns
-- data, nil, meta or nil, err, meta; a pager method's data is the pager.
--
-- A row: { name, path ("/orders/{id}"), id = "order id" (the method takes an id first),
-- and what the method does:
--   a read   method = "GET", query = fn(params) -> query, shape = "object" | "list" |
--            fn(data) -> data | nil, why (a wrong shape is unexpected_shape, never retried)
--   a write  method = "PATCH" ..., body = fn(fields) -> body, shape, confirm = true
--            (destructive: refused without { confirm = true })
--   a pager  pager = { style = "single" | "page_number" | "time_cursor",
--            opts = fn(params, session) -> the style's options }
--   a call   call = fn(client, ...) -> data, err, meta (a method made of several requests)
-- inferred = true marks a path the docs did not capture: { path = "/x" } (reads) or
-- opts.path / opts.method (writes) override it. Validation functions raise
-- request_invalid; nothing is sent then.
local errors = require("klikit.errors")
local util = require("klikit.util")
local url = require("klikit.http.url")
local page = require("klikit.http.page")
local pager = require("klikit.http.pager")
local request = require("klikit.http.request")

local M = {}
local invalid = errors.invalid

local SHAPES = {
  object = function(data)
    if type(data) ~= "table" or data[1] ~= nil then return nil, "data is not an object" end
    return data
  end,
  list = function(data)
    if type(data) ~= "table" then return nil, "data is not a list" end
    return data
  end,
}

-- The row's path with the id put in (url-safe); raises request_invalid.
local function fill(row, id, path)
  path = path or row.path
  if row.id then
    local seg = url.path_id(row.id, id)
    path = path:gsub("{id}", function() return seg end)
  end
  return path
end

-- Checks data against the row's shape: data | nil, unexpected_shape error (not retried).
local function shaped(session, row, path, data, meta)
  local check = type(row.shape) == "function" and row.shape or SHAPES[row.shape]
  if not check then return data end
  local out, why = check(data)
  if out == nil then
    return nil, session:fail(page.shape_error(path, meta, why), row.method, path)
  end
  return out
end

-- The request of a read or write, its answer checked against the row's shape.
local function send(session, row, method, path, opts)
  local data, err, meta = session:request(method, path, opts)
  if err then return nil, err, meta end
  local out, serr = shaped(session, row, path, data, meta)
  if serr then return nil, serr, meta end
  return out, nil, meta
end

local function read_method(row)
  return function(self, ...)
    local session = self.session
    local closed = session:closed_error(row.method, row.path)
    if closed then return nil, closed, {} end
    local args = { ... }
    local path, query = session:checked(row.method, row.path, function()
      local id, params = nil, args[1]
      if row.id then id, params = args[1], args[2] end
      local custom -- a path the docs did not capture may be overridden: { path = "/x" }
      if row.inferred and type(params) == "table" and params.path ~= nil then
        custom = url.check_path(row.name .. ": path", params.path)
        local rest = {}
        for k, v in pairs(params) do if k ~= "path" then rest[k] = v end end
        params = rest
      end
      if not row.query then util.check_keys(row.name, params, {}) end
      return fill(row, id, custom), row.query and row.query(params) or nil
    end)
    if not path then return nil, query, {} end
    return send(session, row, row.method, path, { query = query })
  end
end

local function write_method(row)
  local allowed = { idempotency_key = true, timeout = true }
  if row.inferred then allowed.path, allowed.method = true, true end
  if row.confirm then allowed.confirm = true end
  return function(self, ...)
    local session = self.session
    local closed = session:closed_error(row.method, row.path)
    if closed then return nil, closed, {} end
    local id, fields, opts
    if row.id then id, fields, opts = ... else fields, opts = ... end
    local method, path = row.method, row.path
    local body, err = session:checked(method, path, function()
      opts = util.check_keys(row.name, opts, allowed)
      if row.confirm and opts.confirm ~= true then
        invalid(row.name .. " is destructive: pass { confirm = true } as options to run it")
      end
      if opts.method ~= nil then
        if not request.METHODS[opts.method] or opts.method == "GET" then
          invalid(row.name .. ": opts.method must be a write method")
        end
        method = opts.method
      end
      if opts.path ~= nil then path = url.check_path(row.name .. ": opts.path", opts.path) end
      path = fill(row, id, path)
      return row.body(fields)
    end)
    if body == nil then return nil, err, {} end
    return send(session, row, method, path, { body = body, idempotency_key = opts.idempotency_key,
      timeout = opts.timeout })
  end
end

local function pager_method(row)
  return function(self, params)
    local session = self.session
    local closed = session:closed_error("GET", row.path)
    if closed then return nil, closed, {} end
    local p, err = session:checked("GET", row.path, function()
      if type(params) == "table" and params.resume ~= nil then
        for k in pairs(params) do
          if k ~= "resume" and k ~= "concurrency" then
            invalid(row.name .. ": resume continues a walk with its own parameters; pass resume alone "
              .. "(and concurrency, if wanted)")
          end
        end
        return pager.resume(session, row.path, params.resume, pager.check_concurrency(params.concurrency))
      end
      return pager[row.pager.style](session, row.path, row.pager.opts(params, session))
    end)
    if not p then return nil, err, {} end
    return p, nil, {}
  end
end

--- name -> method for every row.
function M.methods(rows)
  local out = {}
  for _, row in ipairs(rows) do
    if out[row.name] then error("klikit: two endpoint rows are named " .. row.name) end
    if row.call then
      out[row.name] = row.call
    elseif row.pager then
      out[row.name] = pager_method(row)
    elseif row.method == "GET" then
      out[row.name] = read_method(row)
    else
      out[row.name] = write_method(row)
    end
  end
  return out
end

return M
