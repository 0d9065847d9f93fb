-- Deterministic sandbox data: one business, its brands and branches, and orders shaped
-- like the captured klikit payloads. Pure Lua that runs the same on LuaJIT (inside nginx)
-- and Lua 5.4 (in the specs), so a spec can regenerate exactly what the sandbox serves.
local json = require "klikit_sandbox.json"
local array, null = json.array, json.null

local M = {}

M.BUSINESS = { id = 398, title = "(DEMO) klikit Indonesia",
  address = "Menara Klikit Lt. 12, Jl. Jend. Sudirman Kav. 52, Jakarta Selatan 12190" }

M.BRANDS = {
  { id = 1100, title = "TEST - Klikit Healthy Kitchen",
    logo = "/images/977d6c49b04755746ebb77056f6aee1849a9d8b1.png",
    banner = "/images/9a581399bb957a0e6df3a4c7d6bdbb288485bc5f.png" },
  { id = 1615, title = "(DEMO) Klikit Noodle",
    logo = "/images/0579084ef087f0bbaf9e3b44323e18e879bf8ae5.png",
    banner = "/images/aec090b043c1f26d0b8e811b80db6a355b5a07fc.png" },
  { id = 1616, title = "(DEMO) Klikit Dimsum",
    logo = "/images/e732d02894b2945019413e1afdcbb8abcc82c3cc.png",
    banner = "/images/152341fcef5557651d25d055015f6cbb5b7d2434.png" },
  { id = 4111, title = "(DEMO) Wine Boba",
    logo = "/images/eebd97677ed5f067badb603cc3fa859e770644ac.jpg",
    banner = "/images/3251d761aeffde835a2b63736a62ca6476018423.jpg" },
  { id = 5297, title = "(DEMO) Cimol Bojot AA",
    logo = "/images/1a0cd999ecf8d62acb4f558ff8fb747ae5fe6b61.jpeg",
    banner = "/images/414c40b6dc99e6bf72301f3a6f87168fa43dcb4a.png" },
}

M.BRANCHES = {
  { id = 5913, title = "(DEMO) Buleleng", brand_ids = { 1100, 1615, 1616, 4111 },
    address = "Jl. Pahlawan, Paket Agung, Kec. Buleleng, Kabupaten Buleleng, Bali 81117",
    phone = "+6285172191644", lat = -8.124293388269452, lon = 115.0929023057558, city_id = 106 },
  { id = 1293, title = "(DEMO) Denpasar", brand_ids = { 1100, 5297 },
    address = "Jl. Teuku Umar No. 88, Dauh Puri Kauh, Denpasar Barat, Bali 80113",
    phone = "+6281239876543", lat = -8.6705, lon = 115.2126, city_id = 101 },
  { id = 6021, title = "(DEMO) Kuta", brand_ids = { 1615, 4111, 5297 },
    address = "Jl. Legian No. 120, Kuta, Kabupaten Badung, Bali 80361",
    phone = "+6281337001122", lat = -8.7162, lon = 115.1686, city_id = 102 },
  { id = 6188, title = "(DEMO) Ubud", brand_ids = { 1616, 1100 },
    address = "Jl. Raya Ubud No. 9, Ubud, Kabupaten Gianyar, Bali 80571",
    phone = "+6281805554433", lat = -8.5069, lon = 115.2625, city_id = 103 },
}

-- provider_id -> name (klikit's draft table; the ids match live providerIDs "1,6,9,11,16,17")
M.PROVIDERS = { [1] = "klikit", [6] = "grabfood", [9] = "gofood", [11] = "shopeefood", [17] = "maxim" }
local PROVIDER_IDS = { 1, 6, 6, 9, 9, 9, 11, 11, 17 } -- weighted

-- brand id -> menu lines { item id, sku, name, category id/name, section id, IDR price }
M.MENUS = {
  [1100] = { { 43010, "KHK001", "Chicken Quinoa Bowl", 7101, "Bowls", 6801, 48000 },
             { 43011, "KHK002", "Salmon Poke", 7101, "Bowls", 6801, 65000 },
             { 43012, "KHK003", "Green Smoothie", 7102, "Drinks", 6801, 28000 } },
  [1615] = { { 43020, "KNO001", "Mie Ayam Bakso", 7201, "Noodles", 6802, 32000 },
             { 43021, "KNO002", "Kwetiau Goreng", 7201, "Noodles", 6802, 35000 },
             { 43022, "KNO003", "Es Teh Manis", 7202, "Drinks", 6802, 8000 } },
  [1616] = { { 43014, "KDS001", "Dimsum Cumi", 7301, "Menu Satuan", 6803, 6500 },
             { 43015, "KDS002", "Siomay Ayam", 7301, "Menu Satuan", 6803, 6000 },
             { 43016, "KDS003", "Dimsum Platter", 7302, "Paket", 6803, 52000 } },
  [4111] = { { 43030, "WBB001", "Brown Sugar Boba", 7401, "Boba", 6804, 25000 },
             { 43031, "WBB002", "Taro Boba", 7401, "Boba", 6804, 24000 } },
  [5297] = { { 289379, "CBA001", "Cimol Beef Porsi Besar", 39118, "Cimol Beef", 6825, 13000 },
             { 289380, "CBA002", "Cimol Keju", 39119, "Cimol Original", 6825, 10000 } },
}

local FIRST = { "Rezal", "Ayu", "Budi", "Sari", "Dewi", "Made", "Komang", "Putu", "Wayan", "Nyoman" }
local LAST = { "Pratama", "Wijaya", "Santoso", "Lestari", "Saputra", "Utami", "Gunawan" }

-- Park-Miller minimal standard generator: exact in doubles (LuaJIT) and integers (5.4).
function M.prng(seed)
  local state = math.floor(seed) % 2147483646 + 1
  return function(n)
    state = (state * 48271) % 2147483647
    return state % n + 1
  end
end

local function days_from_civil(y, m, d)
  local floor = math.floor
  if m <= 2 then y = y - 1 end
  local era = floor((y >= 0 and y or y - 399) / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

--- RFC 3339 -> Unix seconds, or nil.
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, frac, zone =
    s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(%.?%d*)(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 or frac == "." then return nil end
  local offset = 0
  if zone ~= "Z" and zone ~= "z" then
    local sign, oh, om = zone:match("^([%+%-])(%d%d):(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  local t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
  if frac ~= "" then t = t + tonumber("0" .. frac) end
  return t
end

function M.format_time(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

M.DEFAULTS = { seed = 42, orders = 1200,
  from = "2025-11-01T00:00:00Z", to = "2026-11-01T00:00:00Z" }

local function uuid(rand)
  local hex = "0123456789abcdef"
  local out = {}
  for i = 1, 32 do
    local k = rand(16)
    out[#out + 1] = hex:sub(k, k)
    if i == 8 or i == 12 or i == 16 or i == 20 then out[#out + 1] = "-" end
  end
  return table.concat(out)
end

local STEPS = { [1] = { 1 }, [2] = { 1, 2 }, [3] = { 1, 2, 3 }, [4] = { 1, 2, 4 },
  [5] = { 1, 2, 4, 5 }, [9] = { 1, 2, 4, 9 } }

--- One compact order record: `rand` is the generator, `seq` its sequence number.
function M.make_record(rand, seq, id, created, status)
  local branch = M.BRANCHES[rand(#M.BRANCHES)]
  local brand_id = branch.brand_ids[rand(#branch.brand_ids)]
  local provider = PROVIDER_IDS[rand(#PROVIDER_IDS)]
  local roll = rand(100)
  status = status or (roll <= 12 and 3 or 5)
  local typ = provider == 1 and (rand(2) == 1 and 3 or 1) or (rand(5) == 1 and 1 or 2)
  local menu = M.MENUS[brand_id]
  local lines = {}
  for _ = 1, rand(3) do
    local item = menu[rand(#menu)]
    lines[#lines + 1] = { item = item, qty = rand(3) }
  end
  local history = {}
  for i, st in ipairs(STEPS[status]) do history[i] = { status = st, at = created + (i - 1) * 300 } end
  return {
    id = id, seq = seq, created = created, branch = branch, brand_id = brand_id,
    provider_id = provider, status = status, type = typ, lines = lines, history = history,
    customer = { FIRST[rand(#FIRST)], LAST[rand(#LAST)], 160000 + rand(90000) },
    external = provider == 1 and tostring(1782302600000000000 + id) or uuid(rand),
    identity = uuid(rand), payment_method = ({ 1, 14, 18 })[rand(3)],
    prep = 5 * rand(6), delivery_fee = typ == 2 and 100000 * (3 + rand(8)) or 0,
  }
end

M.OPEN_ORDERS = 40 -- the newest orders are still open (placed/accepted/ready)

-- Creation times for `count` orders in [from, to): uniform whole seconds, plus the
-- options that make ties and sub-second times (each draws randomness only when set, so
-- the default data stays what it always was).
local function creation_times(rand, count, from, to, opts)
  local span = to - from
  local times = {}
  for i = 1, count do
    if opts.same_second and i > 1 and rand(100) <= opts.same_second then
      times[i] = times[i - 1] -- ties: several orders in one second
    else
      -- two draws so spans beyond 2^31 seconds still spread evenly
      times[i] = from + ((rand(46341) - 1) * 46341 + rand(46341) - 1) % span
    end
  end
  for _, burst in ipairs(opts.bursts or {}) do -- { at = seconds after from, count = n }
    for _ = 1, burst.count do times[#times + 1] = from + burst.at end
  end
  table.sort(times)
  if opts.ms then -- orders that share a second share its millisecond too: true ties
    local last, frac
    for i = 1, #times do
      if times[i] ~= last then last, frac = times[i], (rand(1000) - 1) / 1000 end
      times[i] = times[i] + frac
    end
  end
  return times
end

--- Generates compact order records, newest first (created_at desc, id desc).
-- opts: seed, orders (count), from, to (RFC 3339 bounds of created_at), open (newest
-- still open), same_second (percent chance an order shares the previous one's second),
-- bursts ({ { at = seconds after from, count } }), ms (true: millisecond creation times).
function M.generate(opts)
  opts = opts or {}
  local seed = opts.seed or M.DEFAULTS.seed
  local from = M.parse_time(opts.from or M.DEFAULTS.from)
  local to = M.parse_time(opts.to or M.DEFAULTS.to)
  local rand = M.prng(seed)
  local times = creation_times(rand, opts.orders or M.DEFAULTS.orders, from, to, opts)
  local count = #times
  local records, id = {}, 71000000
  for i = 1, count do
    id = id + rand(7)
    local open = i > count - (opts.open or M.OPEN_ORDERS) and ({ 1, 2, 4 })[rand(3)] or nil
    records[i] = M.make_record(rand, i, id, times[i], open)
  end
  -- newest first, as GET /orders lists them
  local n = #records
  for i = 1, math.floor(n / 2) do records[i], records[n - i + 1] = records[n - i + 1], records[i] end
  return records, rand
end

local function brand_of(id)
  for _, b in ipairs(M.BRANDS) do if b.id == id then return b end end
end

local function display(minor)
  local major = math.floor(minor / 100)
  local s = tostring(major)
  if major < 1000 then return string.format("0.%03d", major) end
  local out = s:reverse():gsub("(%d%d%d)", "%1."):reverse()
  return (out:gsub("^%.", ""))
end

local function decimal(major)
  return string.format("%d.00", major)
end

-- The money extras of an order, fixed by its id (no draws from the generator, so the rest
-- of the data stays what it always was): a modifier on the first line, an item promo, an
-- order discount, VAT included or added on top, a service fee. All in whole rupiah.
local function extras(id)
  return { modifier = id % 6 == 1, promo = id % 8 == 3, discount = id % 4 == 0,
    vat = id % 9 == 2 and "excluded" or id % 5 == 3 and "included" or nil,
    additional_fee = id % 7 == 5 and 200000 or 0 }
end
M.extras = extras

local MODIFIER = { id = 91001, name = "Extra cheese", price = 3000 }

local function modifier_groups(with)
  if not with then return array() end
  return array { { id = 9100, name = "Add-ons", modifiers = array { { id = MODIFIER.id, name = MODIFIER.name,
    quantity = 1, price = decimal(MODIFIER.price) } } } }
end

--- The full klikit order object for a record (the shape of captured/list-orders).
function M.order(r)
  local brand = brand_of(r.brand_id)
  local b = { id = brand.id, logo = brand.logo, title = brand.title }
  local x = extras(r.id)
  local cart, cart_v2, item_price, count, promos = array(), array(), 0, 0, 0
  for i, line in ipairs(r.lines) do
    local it, qty = line.item, line.qty
    local mod = (x.modifier and i == 1) and MODIFIER.price or 0
    local price = (it[7] + mod) * qty
    local promo = (x.promo and i == 1) and math.floor(price * 15 / 100) * 100 or 0
    item_price = item_price + price * 100
    promos = promos + promo
    count = count + qty
    cart[#cart + 1] = {
      brand = b, comment = "", description = it[3], groups = modifier_groups(mod > 0), image = "",
      item_final_price = price * 100 - promo, item_id = it[1], klikit_category_id = it[4],
      klikit_category_name = it[5], klikit_id = it[1], klikit_name = it[3],
      klikit_price = it[7] * 100, klikit_section_id = it[6],
      klikit_section_name = brand.title .. " Master Menu", klikit_sku_id = it[2],
      price = price * 100, promo_discount = promo, quantity = qty, title = it[3],
      title_v2 = { en = it[3] }, unit_price = it[7] * 100, vat = 0,
    }
    cart_v2[#cart_v2 + 1] = {
      brand = b, description = it[3], id = tostring(it[1]), klikit_category_id = it[4],
      klikit_category_name = it[5], klikit_id = it[1], klikit_name = it[3],
      klikit_name_translation = { en = it[3] }, klikit_section_id = it[6],
      klikit_section_name = brand.title .. " Master Menu", klikit_sku_id = it[2],
      klikit_unit_price = decimal(it[7]), menu_version = 2, modifier_group_price = decimal(mod),
      modifier_groups = modifier_groups(mod > 0), name = it[3], price = decimal(price),
      price_display = display(price * 100), quantity = qty, unit_price = decimal(it[7]),
      unit_price_display = display(it[7] * 100),
    }
  end
  local discount = x.discount and math.floor((item_price - promos) / 100 * 10 / 100) * 100 or 0
  local net = item_price - promos - discount
  local vat = x.vat == "excluded" and math.floor(net / 100 * 11 / 100 + 0.5) * 100
    or x.vat == "included" and math.floor(net / 100 * 10 / 110 + 0.5) * 100 or 0
  local paid = net + (x.vat == "excluded" and vat or 0) + x.additional_fee + r.delivery_fee
  local created = M.format_time(r.created)
  local cancelled = r.status == 3
  local histories = array()
  for i, h in ipairs(r.history) do
    histories[i] = { id = r.id * 8 + i, order_id = r.id, status = h.status,
      processed_at = M.format_time(h.at), updated_by = null }
  end
  local updated = r.history[#r.history].at
  local first, last, user_id = r.customer[1], r.customer[2], r.customer[3]
  local manual = r.provider_id == 1
  local final = paid
  local o = {
    id = r.id, short_id = tostring(1000 + r.seq % 9000), external_id = r.external,
    identity = r.identity, business_id = M.BUSINESS.id, branch_id = r.branch.id,
    brands = array { b }, klikit_store_id = "KSID-" .. r.brand_id .. "-" .. r.branch.id,
    status = r.status, order_status_histories = histories, type = r.type,
    source = manual and 9 or 0, provider_id = r.provider_id, payment_status = 1,
    payment_method = r.payment_method, payment_channel_id = manual and 39 or 49,
    is_offline_payment = manual, is_manual_order = manual, is_vat_included = x.vat ~= "excluded",
    currency = "IDR", currency_symbol = "Rp",
    item_price = item_price, item_price_display = display(item_price),
    delivery_fee = r.delivery_fee, delivery_fee_display = display(r.delivery_fee),
    additional_fee = x.additional_fee, additional_fee_display = display(x.additional_fee),
    discount = discount, vat = vat,
    final_price = final, final_price_display = display(final),
    provider_sub_total = item_price, provider_sub_total_display = display(item_price),
    provider_grand_total = final, provider_grand_total_display = display(final),
    cart = cart, cart_v2 = cart_v2, campaigns = array(), item_count = count,
    unique_item_count = #r.lines,
    can_accept = r.status == 1, can_cancel = r.status == 1 or r.status == 2 or r.status == 4,
    can_ready = r.status == 2, can_deliver = r.status == 4, can_void = r.status == 5,
    auto_accept = false, auto_ready = true, preparation_time = r.prep, max_preparation_time = 60,
    created_at = created, updated_at = M.format_time(updated),
    delivery_address = "", delivery_info = null, fulfillment_status_id = null,
    fulfillments = array(), order_comment = "", additional_info = { vehicle_info = {} },
    qr_code_url = "https://me.klikit.io/order/SANDBOX" .. r.id,
  }
  if manual then
    o.created_by, o.created_by_user, o.user_full_name = 11745, "Sandbox Cashier", "Sandbox Cashier"
  else
    o.user_id, o.user_first_name, o.user_last_name = user_id, first, last
    o.user_email = string.lower(first .. "." .. last) .. "@example.com"
    o.user_phone = "+62812" .. tostring(1000000 + user_id)
  end
  if r.type == 2 then
    local addr = "Jl. Sandbox No. " .. (r.seq % 200 + 1) .. ", " .. r.branch.title:gsub("^%(DEMO%) ", "")
      .. ", Bali, Indonesia, 80" .. (100 + r.seq % 800)
    local coords = { latitude = r.branch.lat + 0.01, longitude = r.branch.lon + 0.01 }
    o.delivery_address = addr
    o.delivery_info = { address = addr, coordinates = coords, email = o.user_email or "",
      first_name = first, last_name = last, phone = o.user_phone or "" }
    o.fulfillment_status_id = cancelled and 9 or 6
    o.fulfillments = array { {
      delivery_fee = r.delivery_fee, fulfillment_provider_id = 5, order_id = r.id, sequence = 1,
      status_id = o.fulfillment_status_id,
      receiver = { address = addr, coordinates = coords, first_name = first, phone = o.user_phone or "" },
      sender = { address = r.branch.address, coordinates = { latitude = r.branch.lat,
        longitude = r.branch.lon }, country_code = "ID",
        first_name = brand.title .. ", Branch: " .. r.branch.title, phone = r.branch.phone },
    } }
  end
  if cancelled then
    o.cancellation_reason = r.cancellation_reason
      or (M.PROVIDERS[r.provider_id]:gsub("^%l", string.upper) .. " cancelled")
    o.cancelled_by = r.cancelled_by or 3
  end
  return o
end

--- GET /brands data (legacy outer array).
function M.brands_payload()
  local brands = array()
  for i, b in ipairs(M.BRANDS) do
    brands[i] = { id = b.id, business_id = M.BUSINESS.id, title = b.title, logo = b.logo, banner = b.banner }
  end
  return array { { brands = brands, business = M.BUSINESS } }
end

--- One branch object (the shape of captured/list-branches).
function M.branch(br)
  local titles = array()
  for i, id in ipairs(br.brand_ids) do titles[i] = brand_of(id).title end
  local times = {}
  for d = 0, 6 do
    times[tostring(d)] = { disabled = false, slots = array { { start_time = 800, end_time = 2200 } } }
  end
  for day, spec in pairs(br.available_times or {}) do -- updates arrive camelCase, reads are snake_case
    local slots = array()
    for i, slot in ipairs(spec.slots or {}) do slots[i] = { start_time = slot.startTime, end_time = slot.endTime } end
    times[tostring(day)] = { disabled = spec.disabled == true, slots = slots }
  end
  return {
    id = br.id, title = br.title, address = br.address, phone = br.phone, secondary_phone = "",
    lat = br.lat, lon = br.lon, business_id = M.BUSINESS.id, business_title = M.BUSINESS.title,
    business_vat_label = "VAT", business_vat_percentage = 12, brand_ids = array(br.brand_ids),
    brand_titles = titles, city_id = br.city_id, country_id = 4, country_code = "ID",
    currency_id = 4, currency_code = "IDR", currency_symbol = "Rp", language_id = "3",
    language_code = "id", language_title = "Bahasa Indonesia", availability_mask = 127,
    day_availability = array { 0, 1, 2, 3, 4, 5, 6 }, available_times = times,
  }
end

M.ORDER_TYPES = array {
  { id = 1, type = "pickup", translation = { en = "Pick up ", id = "Ambil", ja = "お持ち帰り",
      tl = "Pick up ", vi = "Nhặt lên" },
    translation_drive_thru = { en = "Pick up (Drive Thru) ", id = "Ambil (Drive Thru)",
      ja = "お持ち帰り(ドライブスルー)", vi = "Đón (Drive Thru)" } },
  { id = 2, type = "delivery", translation = { en = "Delivery ", id = "Pengiriman", ja = "配達",
      tl = "Delivery ", vi = "Giao hàng" }, translation_drive_thru = null },
  { id = 3, type = "dinein", translation = { en = "Dine in ", id = "Makan di tempat", ja = "店内",
      tl = "Dine in ", vi = "Ăn tại nhà hàng" }, translation_drive_thru = null },
}

M.FULFILLMENT_STATUSES = array {}
for i, s in ipairs { { "DISPATCHING", "Menugaskan" }, { "ALLOCATING", "Mengalokasikan" },
  { "PENDING_PICKUP", "Penjemputan Tertunda" }, { "PICKING_UP", "Mengambil" },
  { "IN_DELIVERY", "Dalam Pengiriman" }, { "COMPLETED", "Selesai" }, { "RETURNED", "Kembali" },
  { "FAILED", "Gagal" }, { "CANCELED", "Dibatalkan" }, { "IN_RETURN", "Dalam Pengembalian" } } do
  M.FULFILLMENT_STATUSES[i] = { id = i, status = s[1],
    translation = { en = (s[1]:gsub("_", " ")), id = s[2] } }
end

return M
