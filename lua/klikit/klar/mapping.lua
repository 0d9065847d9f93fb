--- klar.from_klikit(order, opts) -> klar_order | nil, err (code klar_unmappable).
-- klar-api.md §11: ids as strings, Unix seconds, minor -> major units, the order discount
-- and the VAT allocated per unit over the lines, the delivery fee as shipping, statuses
-- mapped, the channel as optionalIdentifiers, modifiers rolled into their line. Every
-- business decision is an option (klikit.klar.mapping_options). All arithmetic is in
-- minor units; the totals Klar derives (§9) are computed from the very amounts sent, so
-- its identities hold exactly, and against klikit's own totals within rounding.
local errors = require("klikit.errors")
local util = require("klikit.util")
local json = require("klikit.http.json")
local money = require("klikit.klar.money")
local lines_mod = require("klikit.klar.lines")
local parties = require("klikit.klar.parties")
local options = require("klikit.klar.mapping_options")

local M = {}
local text = lines_mod.text

-- An unmappable order: raised inside, returned as nil, err by from_klikit.
local Unmappable = {}
local function refuse(fmt, ...)
  error(setmetatable({ why = string.format(fmt, ...) }, Unmappable), 0)
end

-- Unix seconds of an RFC 3339 time, or nil. Times before 2000 (Go's zero time
-- 0001-01-01, the epoch) and after 2286 (Klar's 10-digit limit) are no times at all.
local EARLIEST, LATEST = 946684800, 9999999999
local function seconds(v)
  local t = util.parse_time(v)
  if not t or t < EARLIEST or t > LATEST then return nil end
  return math.floor(t)
end

--- klikit's integer codes (status, provider_id, ...) as integers, also when they come as
--- strings of digits ("3"); nil for anything else.
local function code(v)
  if type(v) == "string" and v:find("^%d+$") then v = tonumber(v) end
  if util.is_integer(v) then return v end
  return nil
end
M.code = code

-- is_vat_included: true unless klikit says false (false, "false", 0, "0").
local BOOLEANS = { [true] = true, [false] = false, ["true"] = true, ["false"] = false, [1] = true, [0] = false,
  ["1"] = true, ["0"] = false }

-- The latest history time of any status in `codes`.
local function history_time(order, codes)
  local latest
  for _, h in ipairs(type(order.order_status_histories) == "table" and order.order_status_histories or {}) do
    if type(h) == "table" and codes[code(h.status)] then
      local t = seconds(h.processed_at)
      if t and (not latest or t > latest) then latest = t end
    end
  end
  return latest
end

local function amount(order, field, exp)
  if order[field] == nil then return 0 end
  local v, why = money.to_minor(order[field], exp, true)
  if not v then refuse("%s is %s", field, why) end
  return v
end

-- Major units, refused when cjson could not write them exactly.
local function major(minor, exp, what)
  local v = money.major(minor, exp)
  if v >= money.MAX_MAJOR then refuse("%s (%s) is too large to send exactly", what, tostring(v)) end
  if v < 0 then refuse("%s comes out negative (%s): the order's amounts do not add up", what, tostring(v)) end
  return v
end

-- The discount entry of the order discount: opts.discount (a table or a function of the
-- order) for title, descriptor and voucher fields.
local DISCOUNT_FIELDS = { title = "string", descriptor = "string", isVoucher = "boolean",
  voucherCode = "string", voucherType = "string" }
local function discount_entry(s, order, amount_major, default_title)
  local d = { title = default_title, discountAmount = amount_major }
  local got = options.resolve(s.discount, order)
  if got ~= nil and type(got) ~= "table" then options.hook_string("discount", got) end
  for k, kind in pairs(DISCOUNT_FIELDS) do
    local v = got and got[k]
    if v ~= nil then
      if type(v) ~= kind then errors.invalid("klar.from_klikit: opts.discount." .. k .. " must be a " .. kind) end
      d[k] = v
    end
  end
  return d
end

-- The tax rate (a fraction) and the VAT amount in minor units to allocate, for `net`
-- (the food total after discounts, as klikit shows it).
local function tax(s, net, vat, included)
  if vat > 0 then
    if included then
      if net - vat <= 0 then refuse("vat (%s) is not less than the net item total (%s)", vat, net) end
      return vat / (net - vat), vat
    end
    if net <= 0 then refuse("vat (%s) on a zero net item total", vat) end
    return vat / net, vat
  end
  if s.tax_rate and s.tax_rate > 0 and included then
    return s.tax_rate, net * s.tax_rate / (1 + s.tax_rate)
  end
  return 0, 0
end

local function tax_entry(s, order, rate, amount_major)
  local pct = string.format("%.2f", rate * 100):gsub("%.?0+$", "")
  local t = { title = "VAT " .. pct .. "%", taxRate = math.floor(rate * 1e8 + 0.5) / 1e8, taxAmount = amount_major }
  local got = options.resolve(s.tax, order, rate)
  if got ~= nil and type(got) ~= "table" then options.hook_string("tax", got) end
  if got then
    t.title = options.hook_string("tax.title", got.title, true) or t.title
    t.descriptor = options.hook_string("tax.descriptor", got.descriptor, true)
  end
  return t
end

-- Line hooks: the value of opts[name](line, order), or the default.
local function line_hook(s, name, line, order, default, kind)
  if not s[name] then return default end
  local v = s[name](line.source, order)
  if kind == "number" then return options.hook_number(name, v) end
  if kind == "tags" then
    if type(v) ~= "table" then options.hook_string(name, v) end
    local out = json.array {}
    for i, tag in ipairs(v) do out[i] = options.hook_string(name .. "[" .. i .. "]", tag) end
    return out
  end
  return options.hook_string(name, v)
end

-- Klar LineItems for the product lines (amounts in minor units, per unit where Klar
-- wants them), plus the additional fee as a line of its own.
local function line_items(order, s, ctx)
  local exp, scale, out = ctx.exp, ctx.scale, json.array {}
  local units = {}
  for i, l in ipairs(ctx.lines) do
    local gmv = money.round(l.gross * scale / l.quantity)
    local promo = money.round(l.promo * scale / l.quantity)
    units[i] = { gmv = gmv, promo = promo, weight = (gmv - promo) * l.quantity, quantity = l.quantity }
  end
  local caps = {}
  for i, u in ipairs(units) do caps[i] = u.gmv - u.promo end
  local spread = money.allocate(ctx.food_discount * scale, units, caps)
  for i, u in ipairs(units) do
    u.discount = spread[i]
    u.weight = (u.gmv - u.promo - u.discount) * u.quantity
    caps[i] = u.gmv - u.promo - u.discount
  end
  local taxes = money.allocate(ctx.vat, units, caps)
  for i, l in ipairs(ctx.lines) do
    local u, q = units[i], l.quantity
    local brand, brand_id = parties.brand(l.source, order)
    local discounts, tax_list = json.array {}, json.array {}
    if u.promo > 0 then
      discounts[#discounts + 1] = { title = "Item promo", descriptor = "klikit promo_discount of this item",
        discountAmount = major(u.promo, exp, "promo") }
    end
    if u.discount > 0 then
      discounts[#discounts + 1] = discount_entry(s, order, major(u.discount, exp, "discount"), "Order discount")
    end
    if ctx.rate > 0 then tax_list[1] = tax_entry(s, order, ctx.rate, major(taxes[i], exp, "tax")) end
    local before = u.gmv * q
    local after = before - q * (u.promo + u.discount) - q * taxes[i]
    local src = l.source
    local section, category = text(src.klikit_section_name), text(src.klikit_category_name)
    local item = {
      id = ctx.id .. "-" .. i, productId = l.product_id, productName = l.name,
      sku = line_hook(s, "sku", l, order, text(src.klikit_sku_id) or l.product_id),
      productBrand = brand,
      productCollection = line_hook(s, "product_collection", l, order,
        section and category and (section .. " > " .. category) or section or category),
      productTags = line_hook(s, "product_tags", l, order,
        json.array(brand_id and { "brand:" .. brand_id } or {}), "tags"),
      productCogs = line_hook(s, "cogs", l, order, 0, "number"),
      productGmv = major(u.gmv, exp, "productGmv"),
      productShippingWeightInGrams = line_hook(s, "weight", l, order, 0, "number"),
      quantity = q, discounts = discounts, taxes = tax_list,
      totalAmountBeforeTaxesAndDiscounts = major(before, exp, "line total"),
      totalAmountAfterTaxesAndDiscounts = major(after, exp, "line net total"),
      totalLogisticsCosts = 0,
    }
    if #l.modifier_names > 0 then
      item.productVariantName = table.concat(l.modifier_names, ", ")
      if #l.modifier_ids > 0 then item.productVariantId = table.concat(l.modifier_ids, "+") end
    end
    out[#out + 1] = item
  end
  if ctx.additional_fee > 0 and s.include_additional_fee then
    local fee = major(ctx.additional_fee, exp, "additional_fee")
    out[#out + 1] = { id = ctx.id .. "-fee", productId = "additional_fee", productName = "Additional fee",
      sku = "additional_fee", productCogs = 0, productGmv = fee, productShippingWeightInGrams = 0, quantity = 1,
      productTags = json.array { "fee" }, discounts = json.array {}, taxes = json.array {},
      totalAmountBeforeTaxesAndDiscounts = fee, totalAmountAfterTaxesAndDiscounts = fee, totalLogisticsCosts = 0 }
  end
  return out
end

local function shipping(order, s, ctx, channel)
  local exp = ctx.exp
  local fee = major(ctx.delivery_fee, exp, "delivery_fee")
  local ship = parties.address(order, s)
  ship.currencyCodeIso3Letter = ctx.currency
  ship.providerDescriptor = parties.courier(order, s, channel, code)
  ship.shippingTotalAmountBeforeTaxAndDiscounts = fee
  ship.discounts, ship.taxes = json.array {}, json.array {}
  if ctx.shipping_discount > 0 then
    ship.discounts[1] = discount_entry(s, order, major(ctx.shipping_discount, exp, "shipping discount"),
      "Order discount (beyond the items)")
  end
  ship.shippingTotalAmountAfterTaxAndDiscounts = major(ctx.delivery_fee - ctx.shipping_discount, exp, "shipping net")
  if options.resolve(s.delivery_fee_is_logistics_cost, order) then ship.totalLogisticsCosts = fee end
  return ship
end

local function order_id(order)
  local id = text(order.id)
  if not id or #id > 128 or not id:find("^[\33-\126]+$") then refuse("it has no usable id (%s)", tostring(order.id)) end
  return id
end

local function map(order, s)
  local id = order_id(order)
  local ctx = { id = id, currency = order.currency }
  if type(ctx.currency) ~= "string" or not ctx.currency:find("^%u%u%u$") then
    refuse("currency is %s, not an ISO 4217 code", tostring(order.currency))
  end
  ctx.exp = money.exponent(ctx.currency, s.exponents)
  local created = seconds(order.created_at)
  if not created then refuse("created_at is not an RFC 3339 time from 2000 on (%s)", tostring(order.created_at)) end
  local lines, why = lines_mod.read(order, ctx.exp, s)
  if not lines then refuse("%s", why) end
  ctx.lines = lines
  local item_price, discount = amount(order, "item_price", ctx.exp), amount(order, "discount", ctx.exp)
  local vat = amount(order, "vat", ctx.exp)
  ctx.delivery_fee = amount(order, "delivery_fee", ctx.exp)
  ctx.additional_fee = amount(order, "additional_fee", ctx.exp)
  local gross, promos = 0, 0
  for _, l in ipairs(lines) do gross, promos = gross + l.gross, promos + l.promo end
  if s.check_totals and order.item_price ~= nil and math.abs(gross - item_price) > 0.5 * (#lines + 1) then
    refuse("its lines add up to %s but item_price is %s (minor units)", gross, item_price)
  end
  -- the order discount covers the items first; what is left of it, the delivery fee
  ctx.food_discount = math.min(discount, gross - promos)
  ctx.shipping_discount = discount - ctx.food_discount
  if ctx.shipping_discount > ctx.delivery_fee + 0.5 then
    refuse("discount (%s) exceeds the items and the delivery fee", discount)
  end
  local included = true
  if order.is_vat_included ~= nil then
    included = BOOLEANS[order.is_vat_included]
    if included == nil then refuse("is_vat_included is %s, not a boolean", tostring(order.is_vat_included)) end
  end
  ctx.rate, ctx.vat = tax(s, gross - promos - ctx.food_discount, vat, included)
  ctx.scale = included and 1 or (1 + ctx.rate) -- Klar's productGmv includes the tax
  if not included then ctx.vat = vat end

  local status = code(order.status)
  local st = s.statuses[status] or {}
  local financial = st.financial or (code(order.payment_status) == 1 and "paid" or "pending")
  local channel = parties.channel(order, s, code(order.provider_id))
  local method = code(order.payment_method)
  local k = {
    id = id, orderNumber = text(order.short_id) or id, orderName = parties.order_name(order, s),
    createdAt = created, updatedAt = math.max(created, seconds(order.updated_at) or created),
    currencyCodeIso3Letter = ctx.currency, financialStatus = financial,
    shipmentStatus = st.shipment or "pending", paymentGatewayName = channel,
    paymentMethodName = s.payment_methods[method] or (method and string.format("payment-method-%d", method))
      or text(order.payment_method) or "-",
    lineItems = line_items(order, s, ctx), refundedLineItems = json.array {},
    shipping = shipping(order, s, ctx, channel), customer = parties.customer(order, s, channel, id),
    optionalIdentifiers = { orderSourceName = "klikit", orderChannelName = channel, orderPlatformName = "klikit",
      isSubscriptionOrder = false },
  }
  if financial == "cancelled" then
    k.cancelledAt = history_time(order, { [status or 3] = true, [3] = true }) or k.updatedAt
  else
    local shipped = {}
    for c, entry in pairs(s.statuses) do if entry.shipment == "shipped" then shipped[c] = true end end
    if shipped[status] then
      k.processedAt = history_time(order, shipped)
      k.closedAt = k.processedAt
    end
  end
  return k
end

--- order (a decoded klikit order), opts -> Klar order | nil, err (klar_unmappable, with
--- err.order_id). Bad opts raise request_invalid.
---@param order klikit.Order
---@param opts? table
---@return table? klar_order
---@return klikit.Error? err
function M.from_klikit(order, opts)
  local s = options.check(opts)
  if type(order) ~= "table" then
    errors.invalid("klar.from_klikit expects a klikit order table, got " .. type(order))
  end
  local ok, result = pcall(map, order, s)
  if ok then return result end
  if getmetatable(result) ~= Unmappable then error(result, 0) end
  local id = text(order.id)
  return nil, errors.new { code = "klar_unmappable", order_id = id, api = "klar",
    message = string.format("klikit order %s cannot be sent to Klar: %s", id or "?", result.why) }
end

M.options = options.check
return M
