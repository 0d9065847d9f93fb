--- Money for the Klar mapping. Sums are kept in klikit's minor units (what its integer
-- fields carry) and turned into Klar's major units only when an order is written out.
-- Klar has no order-level discount, so an order's discount (and its VAT) is allocated per
-- unit over the lines, in whole minor units wherever the quantities allow it.
local M = {}

--- Decimal places of klikit's minor units per currency. klikit sends IDR 13,000 as
--- 1300000 (two places even where the currency has none in daily use), so two is the
--- default; a few ISO 4217 currencies differ. Override per currency with opts.exponents.
M.EXPONENTS = { JPY = 0, KRW = 0, VND = 0, CLP = 0, ISK = 0, BHD = 3, KWD = 3, OMR = 3, JOD = 3, TND = 3 }
M.DEFAULT_EXPONENT = 2

--- Klar's amounts are JSON numbers; lua-cjson writes 14 significant digits, so larger
--- amounts (in major units) could not be sent exactly and make an order unmappable.
M.MAX_MAJOR = 1e12

function M.exponent(currency, overrides)
  local e = overrides and overrides[currency]
  if e == nil then e = M.EXPONENTS[currency] end
  if e == nil then e = M.DEFAULT_EXPONENT end
  return e
end

local function round(x)
  return math.floor(x + 0.5)
end
M.round = round

--- Minor units -> major units, rounded to the currency's precision; an integer when
--- it has no fraction (so Lua 5.3+ and cjson write 7700, not 7700.0).
function M.major(minor, exp)
  local scale = 10 ^ exp
  local v = round(minor) / scale
  if v == math.floor(v) then return math.floor(v) end
  return v
end

--- A klikit money value -> minor units, or nil and why. Numbers, and strings of digits,
--- are minor units where `numbers_are_minor` (klikit's integer fields), major units
--- otherwise (cart_v2); a decimal string ("13000.00") is major units everywhere, the form
--- klikit uses for decimals.
function M.to_minor(v, exp, numbers_are_minor)
  if v == nil then return nil, "missing" end
  local n
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return nil, "not a finite number" end
    n = numbers_are_minor and v or v * 10 ^ exp
  elseif type(v) == "string" and v:find("^%s*%-?%d+%s*$") then
    n = numbers_are_minor and tonumber(v) or tonumber(v) * 10 ^ exp
  elseif type(v) == "string" and v:find("^%s*%-?%d+%.%d*%s*$") then
    n = tonumber(v) * 10 ^ exp
  else
    return nil, "not an amount: " .. tostring(v):sub(1, 40)
  end
  if n < 0 then return nil, "negative (" .. tostring(v):sub(1, 40) .. ")" end
  return n
end

--- Allocates `total` minor units over lines { weight = line amount, quantity } in
--- proportion to weight -> per-unit amounts in whole minor units. The rounding remainder
--- goes on one line (a line of quantity 1 when there is one, so the sum stays exact);
--- with no such line the sum is exact to within half a minor unit per unit. A line's
--- amount never exceeds `cap[i]` per unit when caps are given.
function M.allocate(total, lines, caps)
  local per_unit, sum_weight = {}, 0
  for i, l in ipairs(lines) do
    per_unit[i] = 0
    sum_weight = sum_weight + l.weight
  end
  if total == 0 or sum_weight <= 0 then return per_unit end
  local placed, target = 0, nil
  for i, l in ipairs(lines) do
    per_unit[i] = round(total * l.weight / sum_weight / l.quantity)
    placed = placed + per_unit[i] * l.quantity
    local t = target and lines[target]
    if l.weight > 0 and (t == nil or (l.quantity == 1 and t.quantity ~= 1)
        or (l.quantity == t.quantity and l.weight > t.weight)) then
      target = i
    end
  end
  local rest = total - placed
  if rest ~= 0 and target then
    per_unit[target] = per_unit[target] + round(rest / lines[target].quantity)
  end
  if caps then
    for i in ipairs(lines) do
      if per_unit[i] > caps[i] then per_unit[i] = caps[i] end
      if per_unit[i] < 0 then per_unit[i] = 0 end
    end
  end
  return per_unit
end

return M
