-- klar.from_klikit: the golden example, the captured orders, every sandbox order, seeded
-- random orders (every shape of discount, VAT and currency), and the orders it must refuse.
local klar = require "klikit.klar"
local core = require "klikit.core"
local sj = require "klikit_sandbox.json"
local identities = require "support.klar_identities"
local money = require "klikit.klar.money"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local body = f:read("*a")
  f:close()
  return assert(core.decode_json(body))
end

local FIX = "spec/fixtures/klar/"

local function holds(k, o)
  local problems = identities.check(k, o, money.exponent(k.currencyCodeIso3Letter))
  assert(#problems == 0, "order " .. k.id .. ":\n  " .. table.concat(problems, "\n  "))
end

-- What every Klar order must look like, whatever it came from (klar-api.md §7).
local function well_formed(k, o)
  assert.equal("string", type(k.id))
  assert.equal(string.format("%d", o.id), k.id)
  for _, f in ipairs { "createdAt", "updatedAt", "processedAt", "closedAt", "cancelledAt" } do
    local v = k[f]
    if v ~= nil then
      assert.is_true(v == math.floor(v) and v > 1e9 and v < 1e10, f .. " is Unix seconds: " .. tostring(v))
    end
  end
  assert.equal(k.financialStatus == "cancelled", k.cancelledAt ~= nil)
  if k.processedAt then assert.is_true(o.status == 5 or o.status == 9) end
  local seen = {}
  for i, l in ipairs(k.lineItems) do
    assert.is_nil(seen[l.id], "line ids are unique")
    seen[l.id] = true
    if l.productId ~= "additional_fee" then assert.equal(k.id .. "-" .. i, l.id) end
    for _, t in ipairs(l.taxes) do assert.is_true(t.taxRate >= 0 and t.taxRate < 1) end
  end
end

describe("klar.from_klikit", function()
  it("reproduces klar-order-example.json from the klikit order it describes", function()
    local order = read(FIX .. "klikit-order-example.json")
    local want = read(FIX .. "klar-order-example.json")
    local LINES = { ["43014"] = { "dimsum", 2800, 150 }, ["43120"] = { "drinks", 900, 400 } }
    local k = assert(klar.from_klikit(order, {
      payment_methods = { [14] = "gopay" }, couriers = { [5] = "Maxim" }, customer_email = true,
      email_hash = function() return "3f1c2b8f0b5c4d1e9a7d6e5f4a3b2c1d0e9f8a7b" end,
      tax = { title = "PB1 10%", descriptor = "Indonesian restaurant tax (PB1), included in menu price" },
      discount = { title = "PROMO20", descriptor = "20% off the food subtotal (order-level promo, allocated per unit)",
        isVoucher = true, voucherCode = "PROMO20", voucherType = "aggregator_promo" },
      product_tags = function(line) return { LINES[line.id][1], string.format("brand:%d", line.brand.id) } end,
      cogs = function(line) return LINES[line.id][2] end,
      weight = function(line) return LINES[line.id][3] end,
    }))
    assert.same(want, core.decode_json(require("klikit.http.json").encode(k)))
    holds(k, order)
  end)

  it("maps the example with its defaults, changing only the documented defaults", function()
    local order = read(FIX .. "klikit-order-example.json")
    local k = assert(klar.from_klikit(order))
    assert.equal("payment-method-14", k.paymentMethodName)
    assert.equal("courier-5", k.shipping.providerDescriptor)
    assert.is_nil(k.customer.email)
    assert.same({ "brand:1100" }, k.lineItems[1].productTags)
    assert.equal("VAT 10%", k.lineItems[1].taxes[1].title)
    assert.equal("Order discount", k.lineItems[1].discounts[1].title)
    assert.equal(0, k.lineItems[1].productCogs)
    holds(k, order)
  end)

  it("maps both captured list-orders orders (the cancelled one as Klar's soft delete)", function()
    local list = read(FIX .. "list-orders.response.json").data
    list = list.orders or list
    local by_id = {}
    for _, o in ipairs(list) do
      local k = assert(klar.from_klikit(o))
      well_formed(k, o)
      holds(k, o)
      by_id[k.id] = k
    end
    local cancelled = by_id["71269954"]
    assert.equal("cancelled", cancelled.financialStatus)
    assert.equal(1782296750, cancelled.cancelledAt) -- 2026-06-24T10:25:50Z, its status-3 entry
    assert.is_nil(cancelled.processedAt)
    assert.equal("not_shipped", cancelled.shipmentStatus)
    assert.equal("maxim", cancelled.optionalIdentifiers.orderChannelName)
    assert.equal(13000, cancelled.lineItems[1].totalAmountBeforeTaxesAndDiscounts)
    assert.equal(6500, cancelled.lineItems[1].productGmv)
    assert.equal(7300, cancelled.shipping.shippingTotalAmountBeforeTaxAndDiscounts)
    assert.same({ city = "Buleleng", provinceOrState = "Bali", zipOrPostalCode = "81116",
      countryCodeIso2Letter = "ID", countryCodeIso3Letter = "IDN" },
      { city = cancelled.shipping.city, provinceOrState = cancelled.shipping.provinceOrState,
        zipOrPostalCode = cancelled.shipping.zipOrPostalCode,
        countryCodeIso2Letter = cancelled.shipping.countryCodeIso2Letter,
        countryCodeIso3Letter = cancelled.shipping.countryCodeIso3Letter })
    local dinein = by_id["71280866"]
    assert.equal("paid", dinein.financialStatus)
    assert.equal("shipped", dinein.shipmentStatus)
    assert.equal(1782302642, dinein.processedAt) -- 12:04:02Z, status 5
    assert.equal("klikit-guest-71280866", dinein.customer.id)
    assert.equal("dinein", dinein.shipping.providerDescriptor)
  end)

  it("maps the synthesized webhook order and refuses the cut-off get-order capture by name", function()
    local hook = read(FIX .. "webhook-order-created-v2.synthesized.json")
    local k = assert(klar.from_klikit(hook.orders[1]))
    holds(k, hook.orders[1])
    local partial = read(FIX .. "get-order.response.partial.json").data
    local none, err = klar.from_klikit(partial)
    assert.is_nil(none)
    assert.equal("klar_unmappable", err.code)
    assert.truthy(err.message:find("no usable id", 1, true), err.message) -- cut off before "id"
  end)

  it("maps every sandbox order; the section 9 identities hold for each", function()
    local data = require "klikit_sandbox.data"
    local shapes = { modifier = 0, promo = 0, discount = 0, excluded = 0, included = 0, fee = 0 }
    for _, r in ipairs(data.generate {}) do
      local o = core.decode_json(sj.encode(data.order(r)))
      local k = assert(klar.from_klikit(o))
      well_formed(k, o)
      holds(k, o)
      local x = data.extras(r.id)
      shapes.modifier = shapes.modifier + (x.modifier and 1 or 0)
      shapes.promo = shapes.promo + (x.promo and 1 or 0)
      shapes.discount = shapes.discount + (x.discount and 1 or 0)
      shapes.excluded = shapes.excluded + (x.vat == "excluded" and 1 or 0)
      shapes.included = shapes.included + (x.vat == "included" and 1 or 0)
      shapes.fee = shapes.fee + (x.additional_fee > 0 and 1 or 0)
      if x.modifier then assert.equal("Extra cheese", k.lineItems[1].productVariantName) end
    end
    for shape, n in pairs(shapes) do assert.is_true(n >= 50, shape .. " is exercised (" .. n .. " orders)") end
  end)
end)

-- Random klikit orders: 1-6 lines, quantities 1-5, prices, modifiers, promos, an order
-- discount (sometimes beyond the items), VAT included/excluded, fees, four currencies.
local CURRENCIES = { { "IDR", 2, 100 }, { "JPY", 0, 1 }, { "KWD", 3, 5 }, { "PHP", 2, 1 } }
local function random_order(rand, n)
  local cur = CURRENCIES[rand(#CURRENCIES)]
  local code, exp, step = cur[1], cur[2], cur[3]
  local lines, legacy, item = {}, {}, 0
  for i = 1, rand(6) do
    local q = rand(5)
    local unit = rand(90000) * step
    local mod = rand(3) == 1 and rand(5000) * step or 0
    local price = (unit + mod) * q
    local promo = rand(5) == 1 and math.floor(price * rand(30) / 100) or 0
    item = item + price
    local scale = 10 ^ exp
    lines[i] = { id = tostring(1000 + i), klikit_id = 1000 + i, name = "Item " .. i, quantity = q,
      unit_price = string.format("%." .. exp .. "f", unit / scale),
      modifier_group_price = string.format("%." .. exp .. "f", mod / scale),
      price = string.format("%." .. exp .. "f", price / scale) }
    legacy[i] = { item_id = 1000 + i, klikit_id = 1000 + i, price = price, quantity = q, promo_discount = promo }
  end
  local promos = 0
  for _, l in ipairs(legacy) do promos = promos + l.promo_discount end
  local delivery = rand(3) == 1 and 0 or rand(20000) * step
  local discount = rand(3) == 1 and math.floor((item - promos + (rand(4) == 1 and delivery or 0)) * rand(40) / 100) or 0
  local net = item - promos - math.min(discount, item - promos)
  local vat_mode = rand(3)
  local rate = ({ 0.1, 0.11, 0.07, 0.12 })[rand(4)]
  local vat = vat_mode == 1 and 0 or vat_mode == 2 and math.floor(net * rate / (1 + rate) + 0.5)
    or math.floor(net * rate + 0.5)
  return { id = 72000000 + n, short_id = tostring(n), currency = code, created_at = "2026-06-24T10:10:14Z",
    updated_at = "2026-06-24T10:48:02Z", status = ({ 1, 2, 3, 4, 5, 9 })[rand(6)],
    provider_id = ({ 1, 6, 9, 11, 17 })[rand(5)], payment_status = rand(2), type = rand(3), cart_v2 = lines,
    cart = legacy, item_price = item, discount = discount, vat = vat, is_vat_included = vat_mode ~= 3,
    delivery_fee = delivery, additional_fee = rand(4) == 1 and rand(3000) * step or 0,
    order_status_histories = { { status = 2, processed_at = "2026-06-24T10:11:00Z" },
      { status = 5, processed_at = "2026-06-24T10:48:02Z" } } }
end

describe("klar.from_klikit on random orders", function()
  local seeds = tonumber(os.getenv("KLAR_SEEDS")) or 300
  it(string.format("the identities hold for %d seeded random orders (KLAR_SEED to replay one)", seeds), function()
    local prng = require("klikit_sandbox.data").prng
    local first = tonumber(os.getenv("KLAR_SEED")) or 1
    for seed = first, first + seeds - 1 do
      local o = random_order(prng(seed), seed)
      local k, err = klar.from_klikit(o)
      assert(k, "seed " .. seed .. ": " .. tostring(err))
      local problems = identities.check(k, o, money.exponent(o.currency))
      assert(#problems == 0, "seed " .. seed .. ":\n  " .. table.concat(problems, "\n  "))
    end
  end)
end)

describe("klar.from_klikit refuses what it cannot map, by name", function()
  local base = function()
    return read(FIX .. "klikit-order-example.json")
  end
  local cases = {
    { "no currency", function(o) o.currency = nil end, "currency" },
    { "a currency that is not ISO 4217", function(o) o.currency = "Rp" end, "currency" },
    { "no created_at", function(o) o.created_at = nil end, "created_at" },
    { "a created_at that is not RFC 3339", function(o) o.created_at = "yesterday" end, "created_at" },
    { "no id", function(o) o.id = nil end, "id" },
    { "a fractional quantity", function(o) o.cart_v2[1].quantity = 1.5 end, "quantity" },
    { "a negative price", function(o) o.cart_v2[1].price = "-1.00" end, "negative" },
    { "a price that is not an amount", function(o) o.cart_v2[1].price = "12,000" end, "price" },
    { "lines that disagree with item_price", function(o) o.item_price = 999900 end, "item_price" },
    { "a discount beyond the items and the delivery fee", function(o) o.discount = 99999900 end, "discount" },
    { "VAT not less than the net total", function(o) o.vat = 99999900 end, "vat" },
    { "an amount too large to send exactly", function(o)
      o.cart_v2 = { { id = "1", name = "x", quantity = 1, price = "2000000000000.00" } }
      o.item_price, o.discount, o.vat = nil, 0, 0
    end, "too large" },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local o = base()
      case[2](o)
      local k, err = klar.from_klikit(o)
      assert.is_nil(k)
      assert.equal("klar_unmappable", err.code)
      assert.truthy(err.message:find(case[3], 1, true), err.message)
      assert.is_false(err.retryable)
    end)
  end

  it("maps lines that disagree with item_price when check_totals is false", function()
    local o = base()
    o.item_price = 999900
    assert.truthy(klar.from_klikit(o, { check_totals = false }))
  end)

  it("accepts order amounts as decimal strings in major units too", function()
    local o = base()
    o.delivery_fee, o.discount, o.vat, o.item_price = "7300.00", "4180.00", "1520.00", "20900.00"
    local k = assert(klar.from_klikit(o))
    assert.equal(7300, k.shipping.shippingTotalAmountBeforeTaxAndDiscounts)
    assert.equal(1540, k.lineItems[1].discounts[1].discountAmount)
  end)

  it("reads the legacy cart (integer minor units) when cart_v2 is absent", function()
    local o = base()
    o.cart = { { item_id = 43014, title = "Dimsum Cumi", quantity = 2, price = 1540000, klikit_sku_id = "A" },
      { item_id = 43120, title = "Es Teh Manis", quantity = 1, price = 550000, klikit_sku_id = "B" } }
    o.cart_v2 = nil
    local k = assert(klar.from_klikit(o))
    assert.equal(7700, k.lineItems[1].productGmv)
    assert.equal("A", k.lineItems[1].sku)
    holds(k, o)
  end)

  it("puts the cancellation time from the history, else updated_at, never 0 nor a time before 2000", function()
    local o = base()
    o.status = 3
    for history, want in pairs { ["2026-06-24T10:25:50Z"] = 1782296750, ["0001-01-01T00:00:00Z"] = false,
        none = false } do
      o.order_status_histories = history ~= "none" and { { status = 3, processed_at = history } } or nil
      local k = assert(klar.from_klikit(o))
      assert.equal(want or k.updatedAt, k.cancelledAt)
      assert.is_nil(k.processedAt)
    end
  end)

  it("takes no time before 2000 or after 2286 as a time (Go's zero time, the epoch)", function()
    local o = base()
    o.status = 5
    o.order_status_histories = { { status = 5, processed_at = "1970-01-01T00:00:00Z" } }
    local k = assert(klar.from_klikit(o))
    assert.is_nil(k.processedAt)
    assert.is_nil(k.closedAt)
    o.created_at = "9999-12-31T23:59:59Z"
    local none, err = klar.from_klikit(o)
    assert.is_nil(none)
    assert.truthy(err.message:find("created_at", 1, true))
  end)

  it("reads codes and flags sent as strings as klikit means them", function()
    local o = base()
    o.status, o.provider_id, o.payment_method = "3", "9", "14"
    o.order_status_histories = { { status = "3", processed_at = "2026-06-24T10:25:50Z" } }
    local k = assert(klar.from_klikit(o, { payment_methods = { [14] = "gopay" } }))
    assert.equal("cancelled", k.financialStatus)
    assert.equal(1782296750, k.cancelledAt)
    assert.equal("gofood", k.paymentGatewayName)
    assert.equal("gopay", k.paymentMethodName)
    o = base()
    o.delivery_fee = "730000" -- digits only: minor units, like the integer
    assert.equal(7300, assert(klar.from_klikit(o)).shipping.shippingTotalAmountBeforeTaxAndDiscounts)
    for _, v in ipairs { false, "false", 0, "0" } do
      o = base()
      o.is_vat_included = v
      k = assert(klar.from_klikit(o))
      assert.equal(8400, k.lineItems[1].productGmv) -- VAT (1520 on 16720) on top: the gross includes it
    end
    o.is_vat_included = "maybe"
    local none, err = klar.from_klikit(o)
    assert.is_nil(none)
    assert.truthy(err.message:find("is_vat_included", 1, true))
  end)

  it("spreads a discount per unit with the remainder on a line of quantity 1", function()
    local per = money.allocate(1001, { { weight = 300, quantity = 3 }, { weight = 700, quantity = 1 } })
    assert.equal(1001, per[1] * 3 + per[2] * 1)
    local close = money.allocate(1000, { { weight = 1, quantity = 3 }, { weight = 1, quantity = 7 } })
    assert.is_true(math.abs(close[1] * 3 + close[2] * 7 - 1000) <= 0.5 * 10)
  end)

  it("raises request_invalid for options of the wrong type, naming them", function()
    for _, bad in ipairs { { tax_rate = 10 }, { exponents = { IDR = "2" } }, { sku = "x" },
        { statuses = { [3] = "x" } }, { nonsense = true }, { couriers = { [5] = 7 } }, { discount = 5 } } do
      local ok, err = pcall(klar.from_klikit, {}, bad)
      assert.is_false(ok)
      assert.equal("request_invalid", err.code)
    end
    local ok, err = pcall(klar.from_klikit, base(), { sku = function() return 42 end })
    assert.is_false(ok)
    assert.truthy(err.message:find("opts.sku", 1, true))
  end)
end)
