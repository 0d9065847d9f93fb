--- The product lines of a klikit order, read into one shape whatever form they came in:
-- cart_v2 (decimal strings in major units, "13000.00") or the legacy cart (integers in
-- minor units). Modifiers are rolled into their parent line: the line's total `price`
-- includes them (else unit_price + modifier_group_price), and their names become the
-- variant name. -> { { name, product_id, quantity, gross (line total, minor units),
-- promo (item-level promo of the line, minor units), modifiers, source = raw line } }
local money = require("klikit.klar.money")
local util = require("klikit.util")

local M = {}

--- A non-empty string, or an integer as one (ids come as both); nil otherwise.
local function text(v)
  if type(v) == "string" and v ~= "" then return v end
  if type(v) == "number" and util.is_integer(v) then return string.format("%d", v) end
  return nil
end
M.text = text

-- Modifier names and ids of a line, from modifier_groups[].modifiers[] (cart_v2) or
-- groups[].modifiers[] (legacy cart); shapes klikit has not published are read leniently.
local function modifiers(line)
  local names, ids = {}, {}
  for _, group in ipairs(type(line.modifier_groups) == "table" and line.modifier_groups
      or type(line.groups) == "table" and line.groups or {}) do
    if type(group) == "table" then
      local list = group.modifiers or group.items or group.options
      for _, m in ipairs(type(list) == "table" and list or {}) do
        if type(m) == "table" then
          local name = text(m.name) or text(m.title) or text(m.klikit_name)
          if name then
            local qty = tonumber(m.quantity)
            names[#names + 1] = (qty and qty > 1) and string.format("%d x %s", qty, name) or name
          end
          ids[#ids + 1] = text(m.id) or text(m.klikit_id) or text(m.item_id)
        end
      end
    end
  end
  return names, ids
end

local function quantity(v)
  local q = tonumber(v)
  if not q or not util.is_integer(q) or q < 1 or q > 1e6 then return nil end
  return q
end

-- One cart_v2 (major units) or cart (minor units) line.
local function read_line(line, exp, minor_numbers, n)
  if type(line) ~= "table" then return nil, string.format("line %d is not an object", n) end
  local q = quantity(line.quantity)
  if not q then return nil, string.format("line %d has no quantity >= 1 (%s)", n, tostring(line.quantity)) end
  local gross, why
  if line.price ~= nil then
    gross, why = money.to_minor(line.price, exp, minor_numbers)
  else
    local unit
    unit, why = money.to_minor(line.unit_price or line.klikit_unit_price, exp, minor_numbers)
    if unit then
      local mod = 0
      if line.modifier_group_price ~= nil then mod = money.to_minor(line.modifier_group_price, exp, minor_numbers) end
      if not mod then return nil, string.format("line %d: modifier_group_price is not an amount", n) end
      gross = (unit + mod) * q
    end
  end
  if not gross then return nil, string.format("line %d: price %s", n, why) end
  local names, ids = modifiers(line)
  return {
    name = text(line.name) or text(line.klikit_name) or text(line.title) or "(unnamed item)",
    product_id = text(line.klikit_id) or text(line.item_id) or text(line.id) or "unknown",
    quantity = q, gross = gross, promo = 0, modifier_names = names, modifier_ids = ids, source = line,
  }
end

-- The legacy cart line that matches cart_v2 line `i`: same position and item, else the
-- first unused line of the same item.
local function legacy_match(cart, v2_line, i, used)
  local id = text(v2_line.klikit_id) or text(v2_line.id)
  local same = cart[i]
  if type(same) == "table" and not used[i] and (text(same.klikit_id) or text(same.item_id)) == id then
    used[i] = true
    return same
  end
  for j, line in ipairs(cart) do
    if not used[j] and type(line) == "table" and (text(line.klikit_id) or text(line.item_id)) == id then
      used[j] = true
      return line
    end
  end
end

--- order, currency exponent, settings -> lines | nil, why. An order with neither cart
--- form gives an empty list (a zero-amount order); the caller checks it against item_price.
function M.read(order, exp, settings)
  local v2 = type(order.cart_v2) == "table" and order.cart_v2 or nil
  local cart = type(order.cart) == "table" and order.cart or nil
  local source, minor_numbers = v2, false
  if not v2 or #v2 == 0 then source, minor_numbers = cart or {}, true end
  local lines, used = {}, {}
  for i, raw in ipairs(source) do
    local line, why = read_line(raw, exp, minor_numbers, i)
    if not line then return nil, why end
    local legacy = minor_numbers and raw or (cart and settings.item_promos and legacy_match(cart, raw, i, used))
    if settings.item_promos and type(legacy) == "table" and legacy.promo_discount ~= nil then
      local promo, pwhy = money.to_minor(legacy.promo_discount, exp, true)
      if not promo then return nil, string.format("line %d: promo_discount %s", i, pwhy) end
      if promo > line.gross then
        return nil, string.format("line %d: promo_discount exceeds the line's price", i)
      end
      line.promo = promo
    end
    lines[#lines + 1] = line
  end
  return lines
end

return M
