--- Who is behind a klikit order, in Klar's terms: the customer, the channel (provider),
-- the courier, the shipping address and the order's display name.
local json = require("klikit.http.json")
local enums = require("klikit.partner.enums")
local options = require("klikit.klar.mapping_options")
local text = require("klikit.klar.lines").text

local M = {}

-- Countries klikit serves (names as they end klikit's addresses) -> ISO 3166 alpha-2/-3.
local COUNTRIES = {
  indonesia = { "ID", "IDN" }, philippines = { "PH", "PHL" }, malaysia = { "MY", "MYS" },
  singapore = { "SG", "SGP" }, thailand = { "TH", "THA" }, vietnam = { "VN", "VNM" },
  ["viet nam"] = { "VN", "VNM" }, japan = { "JP", "JPN" }, bangladesh = { "BD", "BGD" },
}
local ISO3 = {}
for _, c in pairs(COUNTRIES) do ISO3[c[1]] = c[2] end

--- The channel's name (provider_id as an integer): opts.providers, else klikit's provider
--- table, else "provider-<id>".
function M.channel(order, s, provider_id)
  return s.providers[provider_id] or (provider_id and string.format("provider-%d", provider_id))
    or text(order.provider_id) or "unknown"
end

--- "<brand> #<short_id>" (brands joined with " + "), or opts.order_name(order).
function M.order_name(order, s)
  if s.order_name then return options.hook_string("order_name", s.order_name(order)) end
  local titles = {}
  for _, b in ipairs(type(order.brands) == "table" and order.brands or {}) do
    if type(b) == "table" and text(b.title) then titles[#titles + 1] = b.title end
  end
  local brand = #titles > 0 and table.concat(titles, " + ") or "klikit"
  return brand .. " #" .. (text(order.short_id) or text(order.id))
end

--- The brand a line belongs to: its own brand, else the order's first.
function M.brand(line, order)
  local b = type(line.brand) == "table" and line.brand
    or type(order.brands) == "table" and type(order.brands[1]) == "table" and order.brands[1] or nil
  return b and text(b.title), b and text(b.id)
end

local function first_fulfillment(order)
  local list = type(order.fulfillments) == "table" and order.fulfillments or {}
  return type(list[1]) == "table" and list[1] or nil
end

--- The carrier: opts.couriers[fulfillment_provider_id], else "courier-<id>"; without a
--- fulfillment, the channel for deliveries and the order type ("pickup", "dinein") else.
function M.courier(order, s, channel, code)
  local f = first_fulfillment(order)
  local raw = f and f.fulfillment_provider_id
  if raw ~= nil then
    local id = code(raw)
    return s.couriers[id] or ("courier-" .. (text(raw) or "unknown"))
  end
  local order_type = code(order.type)
  if order_type == 2 then return channel end
  return enums.ORDER_TYPES[order_type] or "none"
end

local function trim(v) return (v:gsub("^%s+", ""):gsub("%s+$", "")) end

--- The address fields of Klar's Shipping, read from klikit's one-line delivery address
--- ("street, ..., city, province, Country, 81116"); a layout it does not recognise gives
--- only the country (from the courier leg's sender). opts.shipping_address(order) replaces it.
function M.address(order, s)
  local out = {}
  if s.shipping_address then
    local got = s.shipping_address(order)
    if got ~= nil and type(got) ~= "table" then
      options.hook_string("shipping_address", got) -- raises, naming the hook
    end
    for _, k in ipairs { "city", "provinceOrState", "countryCodeIso2Letter", "countryCodeIso3Letter",
        "zipOrPostalCode" } do
      out[k] = options.hook_string("shipping_address." .. k, (got or {})[k], true)
    end
    return out
  end
  local info = type(order.delivery_info) == "table" and order.delivery_info or {}
  local line = text(info.address) or text(order.delivery_address)
  local parts = {}
  for part in (line or ""):gmatch("[^,]+") do
    part = trim(part)
    if part ~= "" then parts[#parts + 1] = part end
  end
  if #parts > 0 and parts[#parts]:find("^%d%d%d%d%d?%d?$") then
    out.zipOrPostalCode = table.remove(parts)
  end
  local country = #parts > 0 and COUNTRIES[parts[#parts]:lower()]
  if country then
    table.remove(parts)
    out.countryCodeIso2Letter, out.countryCodeIso3Letter = country[1], country[2]
    if #parts >= 3 then -- street, ..., city, province
      out.provinceOrState = table.remove(parts)
      out.city = table.remove(parts)
    end
  else
    local f = first_fulfillment(order)
    local code = f and type(f.sender) == "table" and text(f.sender.country_code)
    if code and code:find("^%u%u$") then
      out.countryCodeIso2Letter, out.countryCodeIso3Letter = code, ISO3[code]
    end
  end
  return out
end

--- Klar's Customer: "klikit-user-<user_id>" (guests: "klikit-guest-<order id>"), tags
--- klikit and channel:<name>, not a newsletter subscriber; the e-mail only with
--- opts.customer_email (its hash with opts.email_hash). opts.customer(order, default)
--- may return a replacement.
function M.customer(order, s, channel, order_id)
  local user = text(order.user_id)
  local c = { id = user and ("klikit-user-" .. user) or ("klikit-guest-" .. order_id),
    isNewsletterSubscriberAtTimeOfCheckout = false, tags = json.array { "klikit", "channel:" .. channel } }
  local email = text(order.user_email)
  if s.customer_email and email and email:find("^[^@%s]+@[^@%s]+$") then
    c.email = email
    if s.email_hash then c.emailHash = options.hook_string("email_hash", s.email_hash(email)) end
  end
  if not s.customer then return c end
  local got = s.customer(order, c)
  if type(got) ~= "table" then options.hook_string("customer", got) end
  local out = { id = options.hook_string("customer.id", got.id),
    email = options.hook_string("customer.email", got.email, true),
    emailHash = options.hook_string("customer.emailHash", got.emailHash, true) }
  if got.isNewsletterSubscriberAtTimeOfCheckout ~= nil then
    out.isNewsletterSubscriberAtTimeOfCheckout = got.isNewsletterSubscriberAtTimeOfCheckout == true
  end
  if got.tags ~= nil then
    out.tags = json.array {}
    for i, tag in ipairs(type(got.tags) == "table" and got.tags or {}) do
      out.tags[i] = options.hook_string("customer.tags[" .. i .. "]", tag)
    end
  end
  return out
end

return M
