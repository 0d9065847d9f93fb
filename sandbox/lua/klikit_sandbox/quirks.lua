-- Switchable server behaviours that klikit's docs allow (or that its quirks list says
-- happen) but that are hostile to a client walking GET /orders. Off by default; set with
-- POST /_sandbox/quirks { ... } (a new table replaces the old one; {} turns all off).
--
--   ties        "id" (default: ties in created_at by id, newest first) | "random" (a new
--               order on every request) | "updated" (by updated_at, which status changes move)
--   order       "desc" (default) | "asc" (oldest first)
--   time_format "z" (default) | "fraction" (.mmm) | "offset" (+07:00) | "nozone" | "mixed"
--               (z, fraction or offset by row) | "some_nozone" (a third of the rows without zone)
--   rounding    how a sub-second creation time is printed without fraction:
--               "floor" (default) | "round" | "ceil"
--   missing     0..1: share of rows (fixed per order) whose created_at is absent, null or garbage
--   total       "exact" (default) | "lag" (2 fewer) | "absent" | "inflate" (2 more) |
--               "huge" (a million more: a total that lies wildly)
--   max_size    serve at most this many rows per page ...
--   echo_size   ... and say so in data.size (default true; false echoes the size asked for)
--   past_end    "empty" (default) | "last_page" (a page past the end repeats the last one)
--   ignore_query true: always the first page of everything (a cache that ignores the query)
--   ignore_page true: every page number answers page 1 (a cache keyed without `page`)
--   id_format   "number" (default) | "string" | "flap" (a number on one request, a string on
--               the next)
--   list_key    "orders" (default) | "results" | "bare" (data is the list itself)
--   empty       "normal" (default) | "object" (data: {}) | "204" (no body) for no rows
--   no_currency [order ids] served without `currency` (orders the Klar mapping cannot map),
--               in lists and in GET /orders/{id}
-- Branches honour total, max_size, echo_size and past_end.
local M = {}

local DEFAULTS = { ties = "id", order = "desc", time_format = "z", rounding = "floor", missing = 0,
  total = "exact", echo_size = true, past_end = "empty", list_key = "orders", empty = "normal",
  id_format = "number" }
local CHOICES = {
  ties = { id = true, random = true, updated = true }, order = { desc = true, asc = true },
  time_format = { z = true, fraction = true, offset = true, nozone = true, mixed = true, some_nozone = true },
  rounding = { floor = true, round = true, ceil = true },
  total = { exact = true, lag = true, absent = true, inflate = true, huge = true },
  past_end = { empty = true, last_page = true },
  id_format = { number = true, string = true, flap = true },
  list_key = { orders = true, results = true, bare = true },
  empty = { normal = true, object = true, ["204"] = true },
}

local current = {}

--- Replaces the quirk set; returns nil, message for an unknown name or value.
function M.set(spec)
  local q = {}
  for k, v in pairs(DEFAULTS) do q[k] = v end
  for k, v in pairs(spec or {}) do
    if CHOICES[k] then
      if not CHOICES[k][v] then return nil, "quirk " .. k .. " cannot be " .. tostring(v) end
      q[k] = v
    elseif k == "missing" then
      if type(v) ~= "number" or v < 0 or v > 1 then return nil, "missing is a share 0..1" end
      q[k] = v
    elseif k == "max_size" then
      if type(v) ~= "number" or v < 1 then return nil, "max_size must be >= 1" end
      q[k] = math.floor(v)
    elseif k == "echo_size" or k == "ignore_query" or k == "ignore_page" then
      q[k] = v == true
    elseif k == "no_currency" then
      if type(v) ~= "table" then return nil, "no_currency is a list of order ids" end
      q[k] = {}
      for _, id in ipairs(v) do q[k][tonumber(id) or id] = true end
    else
      return nil, "unknown quirk " .. tostring(k)
    end
  end
  current = q
  M.draws = 0
  return q
end

function M.get() return current end
M.set {}

-- A number in [0, 1) fixed per order id and salt, so a row keeps its oddities across requests.
local function share(id, salt)
  return ((id * 2654435761 + salt * 40503) % 1000003) / 1000003
end

-- Ordering of the matching records for one request.
function M.sort(list)
  local q = current
  if q.ties == "id" and q.order == "desc" then return list end -- already stored that way
  local key = {}
  if q.ties == "random" then
    M.draws = (M.draws or 0) + 1 -- a new order per request, the same sequence on every run
    math.randomseed((M.draws * 1103515245 + 12345) % 2147483648)
    for _ = 1, 5 do math.random() end -- the first draws after seeding are alike
    for _, r in ipairs(list) do key[r] = math.random() end
  elseif q.ties == "updated" then
    for _, r in ipairs(list) do key[r] = r.updated or r.history[#r.history].at end
  else
    for _, r in ipairs(list) do key[r] = r.id end
  end
  local asc = q.order == "asc"
  table.sort(list, function(a, b)
    if a.created ~= b.created then
      if asc then return a.created < b.created end
      return a.created > b.created
    end
    if key[a] ~= key[b] then return key[a] > key[b] end
    return a.id > b.id
  end)
  return list
end

-- The page slice [first, last] of `total` rows, after size clamping and past-the-end rules.
function M.slice(page, size, total)
  local q = current
  M.requests = (M.requests or 0) + 1
  if q.ignore_page then page = 1 end
  if q.max_size and size > q.max_size then size = q.max_size end
  if q.past_end == "last_page" and total > 0 and (page - 1) * size >= total then
    page = math.ceil(total / size)
  end
  return (page - 1) * size + 1, page * size, size
end

-- created_at as this server prints it.
local function stamp(t, id, format)
  local q = current
  if format == "mixed" then
    format = ({ "z", "fraction", "offset" })[math.floor(share(id, 7) * 3) + 1]
  elseif format == "some_nozone" then
    format = share(id, 11) < 1 / 3 and "nozone" or "z"
  end
  local whole
  if q.rounding == "round" then whole = math.floor(t + 0.5)
  elseif q.rounding == "ceil" then whole = math.ceil(t)
  else whole = math.floor(t) end
  if format == "fraction" then
    local ms = math.floor((t - math.floor(t)) * 1000 + 0.5)
    local base = math.floor(t)
    if ms == 1000 then base, ms = base + 1, 0 end
    return os.date("!%Y-%m-%dT%H:%M:%S", base) .. "." .. string.format("%03d", ms) .. "Z"
  elseif format == "offset" then
    return os.date("!%Y-%m-%dT%H:%M:%S", whole + 7 * 3600) .. "+07:00"
  elseif format == "nozone" then
    return os.date("!%Y-%m-%dT%H:%M:%S", whole)
  end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", whole)
end

local GARBAGE = { false, "null", "not a date", "" } -- false: the member is left out

--- Rewrites the order object `o` of record `r` as this server prints it.
function M.present(o, r)
  local q = current
  if q.no_currency and q.no_currency[r.id] then o.currency = nil end
  if q.id_format == "string" or (q.id_format == "flap" and (M.requests or 0) % 2 == 1) then
    o.id = string.format("%d", r.id)
  end
  if q.missing > 0 and share(r.id, 3) < q.missing then
    local g = GARBAGE[math.floor(share(r.id, 5) * #GARBAGE) + 1]
    if g == false then o.created_at = nil
    elseif g == "null" then o.created_at = require("klikit_sandbox.json").null
    else o.created_at = g end
    return o
  end
  if q.time_format ~= "z" or r.created ~= math.floor(r.created) then
    o.created_at = stamp(r.created, r.id, q.time_format)
  end
  return o
end

--- The total this server reports for `n` matching rows (nil: left out).
function M.total(n)
  local q = current
  if q.total == "absent" then return nil end
  if q.total == "lag" then return math.max(0, n - 2) end
  if q.total == "inflate" then return n + 2 end
  if q.total == "huge" then return n + 1000000 end
  return n
end

--- The size this server echoes: the one it used, or (echo_size = false) the one asked for.
function M.echo(used, asked)
  if current.echo_size then return used end
  return asked
end

return M
