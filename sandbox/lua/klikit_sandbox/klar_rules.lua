-- The fake Klar's validator: the rules klar-api.md documents (§7, §8), checked the way a
-- class-validator would, one list of { path, value, message, rule } per order. Stricter
-- than Klar where Klar is undocumented (null values and closedAt/processedAt 0 are
-- refused), so a client that passes here is safe against the real one.
local M = {}

local function is_int(v) return type(v) == "number" and v == math.floor(v) end

local NUMBER = " must be a number conforming to the specified constraints"

local Checker = {}
Checker.__index = Checker

function Checker:add(path, value, message, rule)
  self.errors[#self.errors + 1] = { path = path, value = value, message = message, rule = rule }
end

function Checker:string(t, key, path, required)
  local v = t[key]
  if v == nil then
    if required then self:add(path .. key, v, key .. " must be a string", "isString") end
    return
  end
  if type(v) ~= "string" then self:add(path .. key, v, key .. " must be a string", "isString") end
end

function Checker:number(t, key, path, required)
  local v = t[key]
  if v == nil then
    if required then self:add(path .. key, v, key .. NUMBER, "isNumber") end
    return
  end
  if type(v) ~= "number" then
    return self:add(path .. key, v, key .. NUMBER, "isNumber")
  end
  if v < 0 then self:add(path .. key, v, "has to be 0 or positive!", "isPositive") end
end

-- Unix seconds as a JSON number: not ms, not ISO, not 0 (cancelledAt 0 is documented as
-- refused; the other optional times are held to the same rule).
function Checker:timestamp(t, key, path, required)
  local v = t[key]
  if v == nil then
    if required then self:add(path .. key, v, "has to be a unix timestamp!", "isTimestamp") end
    return
  end
  if not is_int(v) or v <= 0 or v >= 1e10 then
    self:add(path .. key, v, "has to be a unix timestamp!", "isTimestamp")
  end
end

function Checker:boolean(t, key, path)
  if t[key] ~= nil and type(t[key]) ~= "boolean" then
    self:add(path .. key, t[key], key .. " must be a boolean value", "isBoolean")
  end
end

function Checker:list(t, key, path, required)
  local v = t[key]
  if v == nil then
    if required then self:add(path .. key, v, key .. " must be an array", "isArray") end
    return {}
  end
  if type(v) ~= "table" or (next(v) ~= nil and v[1] == nil) then
    self:add(path .. key, v, key .. " must be an array", "isArray")
    return {}
  end
  return v
end

function Checker:object(t, key, path, required)
  local v = t[key]
  if v == nil then
    if required then self:add(path .. key, v, key .. " must be an object", "isObject") end
    return nil
  end
  if type(v) ~= "table" or v[1] ~= nil then
    self:add(path .. key, v, key .. " must be an object", "isObject")
    return nil
  end
  return v
end

function Checker:nulls(t, path, null)
  for k, v in pairs(t) do
    if v == null then self:add(path .. tostring(k), "null", tostring(k) .. " should not be null", "isDefined")
    elseif type(v) == "table" then self:nulls(v, path .. tostring(k) .. ".", null) end
  end
end

function Checker:discounts(list, path)
  for i, d in ipairs(list) do
    local p = path .. (i - 1) .. "."
    if type(d) ~= "table" then self:add(p, d, "must be an object", "isObject") else
      self:string(d, "title", p, false)
      self:number(d, "discountAmount", p, true)
      self:boolean(d, "isVoucher", p)
    end
  end
end

function Checker:taxes(list, path)
  for i, x in ipairs(list) do
    local p = path .. (i - 1) .. "."
    if type(x) ~= "table" then self:add(p, x, "must be an object", "isObject") else
      self:string(x, "title", p, false)
      self:number(x, "taxRate", p, true)
      if type(x.taxRate) == "number" and x.taxRate >= 1 then
        self:add(p .. "taxRate", x.taxRate, "taxRate must be a fraction (0.07 = 7%)", "max")
      end
      self:number(x, "taxAmount", p, true)
    end
  end
end

local LINE_STRINGS = { "productName", "productId", "productVariantName", "productVariantId", "productBrand",
  "productCollection", "sku" }
local LINE_NUMBERS = { "productCogs", "productGmv", "productShippingWeightInGrams",
  "totalAmountBeforeTaxesAndDiscounts", "totalAmountAfterTaxesAndDiscounts", "totalLogisticsCosts" }

function Checker:line(l, p, ids)
  self:string(l, "id", p, true)
  if type(l.id) == "string" then
    if ids[l.id] then self:add(p .. "id", l.id, "line item ids must be unique within the order", "isUnique") end
    ids[l.id] = true
  end
  for _, k in ipairs(LINE_STRINGS) do self:string(l, k, p, false) end
  for _, k in ipairs(LINE_NUMBERS) do self:number(l, k, p, false) end
  self:number(l, "quantity", p, true)
  for i, tag in ipairs(self:list(l, "productTags", p, false)) do
    if type(tag) ~= "string" then
      self:add(p .. "productTags." .. (i - 1), tag, "each value in productTags must be a string", "isString")
    end
  end
  self:discounts(self:list(l, "discounts", p, false), p .. "discounts.")
  self:taxes(self:list(l, "taxes", p, false), p .. "taxes.")
end

local ORDER_STRINGS = { "financialStatus", "shipmentStatus", "paymentGatewayName", "paymentMethodName", "orderName",
  "orderNumber" }
local SHIPPING_STRINGS = { "city", "provinceOrState", "countryCodeIso3Letter", "countryCodeIso2Letter",
  "currencyCodeIso3Letter", "zipOrPostalCode", "providerDescriptor" }

--- The errors of one order: { { path, value, message, rule } } (empty when valid).
function M.check(o, null)
  local c = setmetatable({ errors = {} }, Checker)
  if type(o) ~= "table" or o[1] ~= nil then
    c:add("", o, "each value in orders must be an object", "isObject")
    return c.errors
  end
  c:nulls(o, "", null)
  c:string(o, "id", "", true)
  if o.id == "" then c:add("id", o.id, "id should not be empty", "isNotEmpty") end
  c:timestamp(o, "createdAt", "", true)
  for _, k in ipairs { "updatedAt", "processedAt", "closedAt", "cancelledAt" } do c:timestamp(o, k, "", false) end
  c:string(o, "currencyCodeIso3Letter", "", true)
  if type(o.currencyCodeIso3Letter) == "string" and not o.currencyCodeIso3Letter:find("^%u%u%u$") then
    c:add("currencyCodeIso3Letter", o.currencyCodeIso3Letter, "must be an ISO 4217 code", "isISO4217CurrencyCode")
  end
  for _, k in ipairs(ORDER_STRINGS) do c:string(o, k, "", false) end
  c:number(o, "transactionCosts", "", false)
  local ids = {}
  for i, l in ipairs(c:list(o, "lineItems", "", true)) do
    if type(l) ~= "table" then c:add("lineItems." .. (i - 1), l, "must be an object", "isObject")
    else c:line(l, "lineItems." .. (i - 1) .. ".", ids) end
  end
  for i, r in ipairs(c:list(o, "refundedLineItems", "", false)) do
    local p = "refundedLineItems." .. (i - 1) .. "."
    if type(r) == "table" then
      c:string(r, "lineItemId", p, true)
      if type(r.lineItemId) == "string" and not ids[r.lineItemId] then
        c:add(p .. "lineItemId", r.lineItemId, "lineItemId must equal a lineItems id", "isLineItemId")
      end
      c:number(r, "refundedQuantity", p, true)
      c:timestamp(r, "createdAt", p, false)
    end
  end
  local ship = c:object(o, "shipping", "", false)
  if ship then
    for _, k in ipairs(SHIPPING_STRINGS) do c:string(ship, k, "shipping.", false) end
    for _, k in ipairs { "shippingTotalAmountBeforeTaxAndDiscounts", "shippingTotalAmountAfterTaxAndDiscounts",
        "totalLogisticsCosts" } do c:number(ship, k, "shipping.", false) end
    c:discounts(c:list(ship, "discounts", "shipping.", false), "shipping.discounts.")
    c:taxes(c:list(ship, "taxes", "shipping.", false), "shipping.taxes.")
  end
  local cust = c:object(o, "customer", "", false)
  if cust then
    for _, k in ipairs { "id", "email", "emailHash" } do c:string(cust, k, "customer.", false) end
    c:boolean(cust, "isNewsletterSubscriberAtTimeOfCheckout", "customer.")
    for i, tag in ipairs(c:list(cust, "tags", "customer.", false)) do
      if type(tag) ~= "string" then
        c:add("customer.tags." .. (i - 1), tag, "each value in tags must be a string", "isString")
      end
    end
  end
  local oi = c:object(o, "optionalIdentifiers", "", false)
  if oi then
    for k, v in pairs(oi) do
      if k == "isSubscriptionOrder" or k == "isFirstSubscriptionOrder" then c:boolean(oi, k, "optionalIdentifiers.")
      elseif type(v) ~= "string" then c:add("optionalIdentifiers." .. k, v, k .. " must be a string", "isString") end
    end
  end
  return c.errors
end

return M
