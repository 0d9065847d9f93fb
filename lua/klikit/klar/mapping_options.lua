--- The options of klar.from_klikit: every business decision of the mapping, each with a
-- documented default (README "Klar export"). Checked once; a wrong type raises
-- request_invalid, because it is a mistake in the calling code, not in an order.
local errors = require("klikit.errors")
local util = require("klikit.util")
local enums = require("klikit.partner.enums")

local M = {}
local invalid = errors.invalid

--- klikit status code -> Klar statuses (reference §11). financialStatus of the other
--- codes follows payment_status (1 = paid, else pending); unknown codes ship "pending".
M.STATUSES = {
  [1] = { shipment = "pending" }, [2] = { shipment = "pending" }, [4] = { shipment = "pending" },
  [3] = { financial = "cancelled", shipment = "not_shipped" },
  [5] = { shipment = "shipped" }, [9] = { shipment = "shipped" },
}

local FUNCTIONS = { "sku", "product_collection", "product_tags", "cogs", "weight", "order_name",
  "customer", "email_hash", "shipping_address" }
local TABLES = { "exponents", "statuses", "payment_methods", "couriers", "providers" }
local BOOLEANS = { "customer_email", "include_additional_fee", "check_totals", "item_promos" }
local KEYS = { tax_rate = true, tax = true, discount = true, delivery_fee_is_logistics_cost = true }
for _, list in ipairs { FUNCTIONS, TABLES, BOOLEANS } do
  for _, k in ipairs(list) do KEYS[k] = true end
end

M.DEFAULTS = {
  customer_email = false, -- privacy first: e-mail leaves klikit only when asked for
  include_additional_fee = true,
  check_totals = true,
  item_promos = true,
  delivery_fee_is_logistics_cost = true, -- aggregators and couriers keep the delivery fee
}

-- Checked settings carry this metatable, so a caller that maps many orders (the export)
-- checks its options once and passes the settings on.
local checked_mt = { __name = "klikit.klar.mapping_settings" }

local function check_kind(name, v, kinds)
  if v ~= nil and not kinds[type(v)] then
    local list = {}
    for k in pairs(kinds) do list[#list + 1] = k end
    table.sort(list)
    invalid(string.format("klar.from_klikit: opts.%s must be a %s, got %s", name, table.concat(list, " or "), type(v)))
  end
end

--- opts -> the settings the mapping reads (defaults filled in); raises request_invalid.
function M.check(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then invalid("klar.from_klikit: opts must be a table, got " .. type(opts)) end
  if getmetatable(opts) == checked_mt then return opts end
  util.check_keys("klar.from_klikit", opts, KEYS)
  for _, k in ipairs(FUNCTIONS) do check_kind(k, opts[k], { ["function"] = true }) end
  for _, k in ipairs(TABLES) do check_kind(k, opts[k], { table = true }) end
  for _, k in ipairs(BOOLEANS) do check_kind(k, opts[k], { boolean = true }) end
  check_kind("tax", opts.tax, { table = true, ["function"] = true })
  check_kind("discount", opts.discount, { table = true, ["function"] = true })
  check_kind("delivery_fee_is_logistics_cost", opts.delivery_fee_is_logistics_cost,
    { boolean = true, ["function"] = true })
  local rate = opts.tax_rate
  if rate ~= nil and (type(rate) ~= "number" or rate ~= rate or rate < 0 or rate >= 1) then
    invalid("klar.from_klikit: opts.tax_rate is a fraction in [0, 1) (0.1 = 10%), got " .. tostring(rate))
  end
  for cur, e in pairs(opts.exponents or {}) do
    if type(cur) ~= "string" or not cur:find("^%u%u%u$") or not util.is_integer(e) or e < 0 or e > 4 then
      invalid("klar.from_klikit: opts.exponents maps ISO 4217 codes to 0..4, got "
        .. tostring(cur) .. " = " .. tostring(e))
    end
  end
  for code, st in pairs(opts.statuses or {}) do
    if not util.is_integer(code) or type(st) ~= "table" then
      invalid("klar.from_klikit: opts.statuses maps klikit status codes to { financial =, shipment = }")
    end
    check_kind("statuses[" .. code .. "].financial", st.financial, { string = true })
    check_kind("statuses[" .. code .. "].shipment", st.shipment, { string = true })
  end
  for _, k in ipairs { "payment_methods", "couriers", "providers" } do
    for code, name in pairs(opts[k] or {}) do
      if not util.is_integer(code) or type(name) ~= "string" or name == "" then
        invalid("klar.from_klikit: opts." .. k .. " maps integer codes to names, got " .. tostring(code))
      end
    end
  end
  local s = {}
  for k, v in pairs(M.DEFAULTS) do s[k] = v end
  for k, v in pairs(opts) do s[k] = v end
  s.statuses = {}
  for code, st in pairs(M.STATUSES) do s.statuses[code] = st end
  for code, st in pairs(opts.statuses or {}) do s.statuses[code] = st end
  s.providers = {}
  for code, name in pairs(enums.PROVIDERS) do s.providers[code] = name end
  for code, name in pairs(opts.providers or {}) do s.providers[code] = name end
  s.payment_methods = opts.payment_methods or {}
  s.couriers = opts.couriers or {}
  return setmetatable(s, checked_mt)
end

--- The value of an option that may be a function of the order (or a plain value).
function M.resolve(v, order, ...)
  if type(v) == "function" then return v(order, ...) end
  return v
end

--- What a hook returned, checked: a string (or nil when `optional`); raises naming it.
function M.hook_string(name, v, optional)
  if v == nil and optional then return nil end
  if type(v) ~= "string" then
    invalid(string.format("klar.from_klikit: opts.%s returned %s, expected a string", name, type(v)))
  end
  return v
end

function M.hook_number(name, v)
  if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then
    invalid(string.format("klar.from_klikit: opts.%s returned %s, expected a number >= 0", name, tostring(v)))
  end
  return v
end

return M
