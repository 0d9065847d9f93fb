--- Totals of a walk for `klikit count`: orders, cancelled orders and revenue per group and
-- currency. Revenue is the sum of final_price (integer minor units) of the orders not
-- cancelled (status 3), summed exactly in minor units and written in major units with
-- the currency's places (2, as klikit sends IDR 13,000 as 1300000; the few ISO 4217
-- exceptions of klikit.klar.money: JPY 0, KWD 3, ...).
local util = require("klikit.util")
local enums = require("klikit.partner.enums")
local money = require("klikit.klar.money")

local M = {}

M.BY = { "day", "brand", "branch", "provider", "status" }

--- The fields the walk must decode for a grouping (its projection).
function M.fields(by)
  local f = { "id", "created_at", "final_price", "currency", "status" }
  if by == "brand" then f[#f + 1] = "brands.id"; f[#f + 1] = "brands.title" end
  if by == "branch" then f[#f + 1] = "branch_id" end
  if by == "provider" then f[#f + 1] = "provider_id" end
  return f
end

--- Minor units -> "1234.50" in the currency's places.
function M.major_text(minor, currency)
  local exp = money.exponent(currency)
  local sign = minor < 0 and "-" or ""
  minor = math.abs(minor)
  if exp == 0 then return sign .. string.format("%d", minor) end
  local scale = 10 ^ exp
  local whole = math.floor(minor / scale)
  return sign .. string.format("%d.%0" .. exp .. "d", whole, minor - whole * scale)
end

local function id_text(v)
  if type(v) == "number" then return string.format("%d", v) end
  if type(v) == "string" then return v end
  return nil
end

-- The group of an order: key (for sorting and merging), and its columns.
local KEY = {}

function KEY.day(order, t)
  local created = util.parse_time(order.created_at)
  if not created then return "~", { day = "unknown" } end
  local d = os.date("!%Y-%m-%d", math.floor(created) + t.offset)
  return d, { day = d }
end

function KEY.brand(order)
  local ids, titles = {}, {}
  for _, b in ipairs(type(order.brands) == "table" and order.brands or {}) do
    if type(b) == "table" then
      ids[#ids + 1] = id_text(b.id) or "?"
      titles[#titles + 1] = type(b.title) == "string" and b.title or ids[#ids]
    end
  end
  if #ids == 0 then return "~", { brand_id = "", brand = "(no brand)" } end
  -- an order of several brands counts once, under all of them together
  local name = table.concat(titles, " + ")
  return name .. "\0" .. table.concat(ids, "+"), { brand_id = table.concat(ids, "+"), brand = name }
end

function KEY.branch(order, t)
  local id = id_text(order.branch_id) or ""
  local name = t.branch_names and t.branch_names[id] or (id == "" and "(no branch)" or ("branch " .. id))
  return name .. "\0" .. id, { branch_id = id, branch = name }
end

function KEY.provider(order)
  local id = id_text(order.provider_id) or ""
  local name = enums.PROVIDERS[order.provider_id] or (id == "" and "(no provider)" or ("provider-" .. id))
  return name .. "\0" .. id, { provider_id = id, provider = name }
end

function KEY.status(order)
  local code = order.status
  local name = enums.ORDER_STATUS[code] or tostring(code)
  return string.format("%08d", tonumber(code) or 0) .. name, { status = id_text(code) or "", status_name = name }
end

function KEY.none()
  return "", {}
end

--- by: a grouping (or nil); tz: "+07:00" for days; branch_names: id -> title.
function M.new(by, tz, branch_names)
  local offset = 0
  local sign, h, m = (tz or "+00:00"):match("^([+-])(%d%d):(%d%d)$")
  if sign then offset = (sign == "-" and -1 or 1) * (tonumber(h) * 3600 + tonumber(m) * 60) end
  return { by = by, offset = offset, branch_names = branch_names, groups = {}, n = 0 }
end

--- Adds one order.
function M.add(t, order)
  local key, columns = (KEY[t.by] or KEY.none)(order, t)
  local currency = type(order.currency) == "string" and order.currency or ""
  key = key .. "\0" .. currency
  local g = t.groups[key]
  if not g then
    g = { columns = columns, currency = currency, orders = 0, cancelled = 0, minor = 0, unpriced = 0 }
    t.groups[key] = g
  end
  g.orders = g.orders + 1
  if order.status == 3 then
    g.cancelled = g.cancelled + 1
  elseif type(order.final_price) == "number" then
    g.minor = g.minor + order.final_price
  else
    g.unpriced = g.unpriced + 1
  end
  t.n = t.n + 1
end

--- The column names of the rows, in order.
function M.columns(by)
  local lead = { day = { "day" }, brand = { "brand_id", "brand" }, branch = { "branch_id", "branch" },
    provider = { "provider_id", "provider" }, status = { "status", "status_name" } }
  local cols = {}
  for _, c in ipairs(lead[by] or {}) do cols[#cols + 1] = c end
  for _, c in ipairs { "currency", "orders", "cancelled", "revenue", "revenue_minor" } do cols[#cols + 1] = c end
  return cols
end

--- The rows, sorted by group then currency: { day = ..., currency, orders, cancelled,
--- revenue ("1234.50"), revenue_minor }. With no orders and no grouping, one row of zeros.
function M.rows(t)
  local keys = {}
  for k in pairs(t.groups) do keys[#keys + 1] = k end
  table.sort(keys)
  local rows = {}
  for _, k in ipairs(keys) do
    local g = t.groups[k]
    local row = { currency = g.currency, orders = g.orders, cancelled = g.cancelled,
      revenue = M.major_text(g.minor, g.currency), revenue_minor = g.minor }
    if g.unpriced > 0 then row.unpriced = g.unpriced end
    for c, v in pairs(g.columns) do row[c] = v end
    rows[#rows + 1] = row
  end
  if #rows == 0 and not t.by then
    rows[1] = { currency = "", orders = 0, cancelled = 0, revenue = "0.00", revenue_minor = 0 }
  end
  return rows
end

return M
