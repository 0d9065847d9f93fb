-- The amount identities of klar-api.md §9, checked on a Klar order against the klikit
-- order it was mapped from. Returns a list of problems (empty when all hold). Amounts are
-- compared in minor units: Klar's own identities (line and shipping totals) within half a
-- minor unit; those against klikit's totals within the rounding of per-unit amounts
-- (at most half a minor unit per unit sold for each amount rounded per unit).
local M = {}

local function sum(list, field)
  local s = 0
  for _, x in ipairs(list or {}) do s = s + x[field] end
  return s
end

local function minor_of(v, exp, numbers_are_minor)
  if v == nil then return 0 end
  if type(v) == "string" then return tonumber(v) * 10 ^ exp end
  return numbers_are_minor and v or v * 10 ^ exp
end

--- klar order k, klikit order o, currency exponent -> { problems }
function M.check(k, o, exp)
  local problems = {}
  local function near(what, got, want, tol)
    if math.abs(got - want) > tol + 1e-6 then
      problems[#problems + 1] = string.format("%s: %s, expected %s (tolerance %s)", what, got, want, tol)
    end
  end
  local scale = 10 ^ exp
  local units, paid_lines, taxes_total = 0, 0, 0
  for _, l in ipairs(k.lineItems) do units = units + l.quantity end
  for _, l in ipairs(k.lineItems) do
    local q = l.quantity
    local gmv = l.productGmv * scale
    local d, t = sum(l.discounts, "discountAmount") * scale, sum(l.taxes, "taxAmount") * scale
    local before = l.totalAmountBeforeTaxesAndDiscounts * scale
    local after = l.totalAmountAfterTaxesAndDiscounts * scale
    near(l.id .. " before = gmv x qty", before, gmv * q, 0.5)
    near(l.id .. " after = before - qty x (d + t)", after, before - q * d - q * t, 0.5)
    for _, x in ipairs(l.taxes) do
      -- t = (gmv - d) r / (1 + r), per unit. The VAT is allocated so that its sum is
      -- exact: one line absorbs the others' rounding (half a minor unit per unit sold)
      near(l.id .. " t = (gmv - d) r/(1+r)", x.taxAmount * scale, (gmv - d) * x.taxRate / (1 + x.taxRate),
        (0.5 * units + 1) / q + (gmv - d) * 1e-8)
    end
    if d > gmv + 0.5 then problems[#problems + 1] = l.id .. ": discount exceeds the unit price" end
    paid_lines = paid_lines + before - q * d
    taxes_total = taxes_total + q * t
  end
  local s = k.shipping
  local ship_before = s.shippingTotalAmountBeforeTaxAndDiscounts * scale
  local ship_disc, ship_tax = sum(s.discounts, "discountAmount") * scale, sum(s.taxes, "taxAmount") * scale
  near("shipping after = before - discounts - taxes", s.shippingTotalAmountAfterTaxAndDiscounts * scale,
    ship_before - ship_disc - ship_tax, 0.5)
  -- what the customer paid, by klikit's fields
  local promos = 0
  for _, line in ipairs(o.cart or {}) do
    promos = promos + (line.promo_discount or 0)
  end
  local vat = minor_of(o.vat, exp, true)
  local excluded = o.is_vat_included == false
  local paid = minor_of(o.item_price, exp, true) - promos - minor_of(o.discount, exp, true)
    + (excluded and vat or 0) + minor_of(o.additional_fee, exp, true) + minor_of(o.delivery_fee, exp, true)
  -- gross, promo and discount are each rounded per unit (gross only when VAT is added on
  -- top of klikit's prices); the allocations make the sums exact only with a line of quantity 1
  near("lines + shipping = what the customer paid", paid_lines + ship_before - ship_disc, paid,
    (excluded and 1.5 or 1) * units + 1)
  if vat > 0 then near("sum of qty x t = vat", taxes_total, vat, 0.5 * units + #k.lineItems) end
  return problems
end

return M
