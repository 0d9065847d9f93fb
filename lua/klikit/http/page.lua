--- One page of a list endpoint: fetched, its shape checked, its rows identified.
--
-- klikit keeps list rows under a key that differs per endpoint (quirk 2): `data.orders`,
-- `data.results`, or `data` itself. A page whose rows sit somewhere this client does not
-- recognise is an `unexpected_shape` error, never an empty page: reading it as empty would
-- end a walk early and call it complete. An empty page is `data: null`, `{}`, `[]`, a 204
-- with no body, or paging fields with `total: 0` and no list.
local errors = require("klikit.errors")
local util = require("klikit.util")

local M = {}

local PAGING = { page = true, size = true, total = true }
local NONE = {}

-- Is `t` a list 1..n with nothing else in it?
local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

local function count_or_nil(v)
  if util.is_integer(v) and v >= 0 then return v end
  return nil
end

--- rows, { size, total } | nil, why. `keys`: the list keys this endpoint may use, in order.
function M.rows(data, keys)
  if data == nil then return NONE, {} end -- 204, or "data": null
  if type(data) ~= "table" then return nil, "data is a " .. type(data) .. ", not a page" end
  local info = { size = count_or_nil(data.size), total = count_or_nil(data.total) }
  if info.size == 0 then info.size = nil end
  for _, k in ipairs(keys) do
    local list = data[k]
    if list ~= nil then
      if type(list) ~= "table" or not is_list(list) then return nil, "data." .. k .. " is not a list" end
      return list, info
    end
  end
  if data[1] ~= nil then -- the draft's bare list
    if not is_list(data) then return nil, "data mixes a list with other fields" end
    return data, {}
  end
  for k in pairs(data) do
    if not PAGING[k] then
      return nil, "no list under data." .. table.concat(keys, " or data.") .. " (found data." .. tostring(k) .. ")"
    end
  end
  if info.total == nil or info.total == 0 then return NONE, info end
  return nil, "data.total is " .. info.total .. " but the page has no list"
end

--- The key of a row's id (an integer or a non-empty string), or nil. Keys are strings, so
--- a server that sends 71280866 on one page and "71280866" on the next names one order.
local format = string.format
function M.id(row)
  if type(row) ~= "table" then return nil end
  local id = row.id
  local kind = type(id)
  if kind == "number" then -- an integer below 2^53 (NaN and the infinities fail the tests)
    if id % 1 == 0 and id > -2^53 and id < 2^53 then return format("%d", id) end
    return nil
  end
  if kind == "string" and id ~= "" then return id end
  return nil
end

--- An unexpected_shape error for a page of `path` (never retried: the same request gives
--- the same answer).
function M.shape_error(path, meta, why)
  return errors.new { code = "unexpected_shape", status = meta and meta.status,
    request_id = meta and meta.request_id, method = "GET", path = path,
    message = "GET " .. path .. " answered an unexpected shape: " .. why }
end

--- A walk error: the server broke an invariant the walk relies on.
function M.walk_error(code, path, meta, message, details)
  return errors.new { code = code, status = meta and meta.status, request_id = meta and meta.request_id,
    method = "GET", path = path, message = message, details = details }
end

--- Fetches one page: page | nil, err where page = { rows, n, ids (list), total, size, meta }.
-- Every row must be an object with an id: a row that cannot be told apart from the
-- others cannot be yielded exactly once.
function M.fetch(session, path, query, keys, projection)
  local data, err, meta = session:request("GET", path, { query = query, projection = projection })
  if err then return nil, err end
  local rows, info = M.rows(data, keys)
  if not rows then return nil, session:fail(M.shape_error(path, meta, info), "GET", path) end
  local n = #rows
  local ids = {}
  for i = 1, n do
    local id = M.id(rows[i])
    if id == nil then
      return nil, session:fail(M.shape_error(path, meta, string.format("row %d has no id (an integer or "
        .. "a non-empty string)", i)), "GET", path)
    end
    ids[i] = id
  end
  return { rows = rows, n = n, ids = ids, total = info.total, size = info.size, meta = meta }
end

return M
