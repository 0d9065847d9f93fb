-- Sandbox menus: business-level sections, categories, items and modifier groups that the
-- create/enable/visibility calls really change; per-store overrides (zoneStores); store
-- menus that sync/populate create and that only publish turns into the snapshot GET
-- /menus serves for a store; the destructive reset; and item availability by SKU.
local cjson = require "cjson.safe"
local json = require "klikit_sandbox.json"
local http = require "klikit_sandbox.http"
local data = require "klikit_sandbox.data"

local M = {}
local ok, fail, invalid = http.ok, http.fail, http.invalid
local array = json.array

local st
local unpack = table.unpack or unpack -- luacheck: ignore 143

local function copy(v)
  if type(v) ~= "table" then return v end
  local c = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do c[k] = copy(x) end
  return c
end

local function store_key(brand, branch) return brand .. ":" .. branch end

local function store_exists(brand, branch)
  for _, br in ipairs(data.BRANCHES) do
    if br.id == branch then
      for _, b in ipairs(br.brand_ids) do if b == brand then return true end end
    end
  end
  return false
end

local ALL_DAY = {}
for d = 0, 6 do ALL_DAY[tostring(d)] = { disabled = false, slots = array { { startTime = 0, endTime = 2359 } } } end

function M.init()
  st = { sections = {}, categories = {}, items = {}, groups = {}, overrides = {}, rows = {},
    snapshots = {}, next_id = 30000 }
  for _, brand in ipairs(data.BRANDS) do
    for _, line in ipairs(data.MENUS[brand.id]) do
      local item_id, sku, name, cat_id, cat_name, section_id, price = unpack(line)
      st.sections[section_id] = st.sections[section_id] or { id = section_id, sequence = 1,
        title = { en = brand.title .. " Master Menu" }, description = {}, isEnabled = true,
        visibilities = { ["1"] = true }, availableTimes = copy(ALL_DAY), brand_id = brand.id }
      st.categories[cat_id] = st.categories[cat_id] or { id = cat_id, title = { en = cat_name },
        isEnabled = true, visibilities = { ["1"] = true }, section_id = section_id }
      st.items[item_id] = { id = item_id, sku = sku, title = { en = name }, vat = 0, isEnabled = true,
        visibilities = { ["1"] = true }, prices = { ["1"] = { IDR = { price = price, takeAwayPrice = price } } },
        category_id = cat_id, available = true }
    end
  end
  st.groups[1549] = { id = 1549, title = { en = "Size" }, modifiers = {}, visibilities = { ["1"] = true } }
  for _, br in ipairs(data.BRANCHES) do
    for _, brand in ipairs(br.brand_ids) do
      st.rows[store_key(brand, br.id)] = true
      M.publish_store(brand, br.id)
    end
  end
end

local function sorted(map)
  local list = array()
  for _, v in pairs(map) do list[#list + 1] = v end
  table.sort(list, function(a, b) return a.id < b.id end)
  return list
end

-- The read shape of a section (reads say `enabled`, writes say `isEnabled`).
local function section_view(s, key)
  local o = st.overrides[key] and st.overrides[key].sections[s.id] or {}
  local cats = array()
  for _, c in ipairs(sorted(st.categories)) do
    if c.section_id == s.id then
      local items = array()
      for _, it in ipairs(sorted(st.items)) do
        if it.category_id == c.id then
          local view = { id = it.id, title = it.title, isEnabled = it.isEnabled, prices = it.prices,
            visibilities = it.visibilities }
          if key then view.isAvailable = it.available end -- store menus only
          items[#items + 1] = view
        end
      end
      cats[#cats + 1] = { id = c.id, title = c.title, enabled = c.isEnabled, items = items }
    end
  end
  return { id = s.id, sequence = s.sequence, title = s.title, description = s.description or {},
    enabled = s.isEnabled, image = "", isMealForOne = false,
    visibilities = o.visibilities or s.visibilities, availableTimes = s.availableTimes, categories = cats }
end

function M.publish_store(brand, branch)
  local key = store_key(brand, branch)
  local sections = array()
  for _, s in ipairs(sorted(st.sections)) do
    if s.brand_id == nil or s.brand_id == brand then sections[#sections + 1] = section_view(s, key) end
  end
  st.snapshots[key] = sections
end

function M.get(ctx)
  local brand, branch = ctx.args.brand_id, ctx.args.branch_id
  if (brand == nil) ~= (branch == nil) then
    return invalid(ctx.rid, "brand_id and branch_id must be passed together or omitted together")
  end
  if brand then
    brand, branch = tonumber(brand), tonumber(branch)
    local snap = brand and branch and st.snapshots[store_key(brand, branch)]
    if not snap then return fail(ctx.rid, 404, "resource_not_found", "store menu not found") end
    return ok(ctx.rid, { menu = {
      branchInfo = { branchID = branch, brandID = brand, businessID = data.BUSINESS.id, countryID = 4,
        currencyCode = "IDR", currencyID = 4, currencySymbol = "", languageCode = "id",
        providerIDs = "1,6,9,11,16,17" },
      sections = snap } })
  end
  local sections = array()
  for _, s in ipairs(sorted(st.sections)) do sections[#sections + 1] = section_view(s, nil) end
  return ok(ctx.rid, { menu = {
    businessInfo = { businessID = data.BUSINESS.id, title = data.BUSINESS.title },
    sections = sections, categories = sorted(st.categories), items = sorted(st.items),
    modifierGroups = sorted(st.groups) } })
end

---------------------------------------------------------------------------------------
-- Validation of the documented body shapes

local function locale(v)
  if type(v) ~= "table" or next(v) == nil then return false end
  for k, x in pairs(v) do if type(k) ~= "string" or type(x) ~= "string" then return false end end
  return true
end

local function visibility_map(v)
  if type(v) ~= "table" or (next(v) ~= nil and v[1] ~= nil) then return false end
  for k, x in pairs(v) do
    if type(k) ~= "string" or not k:find("^%d+$") or type(x) ~= "boolean" then return false end
  end
  return true
end

local function stores(v)
  if type(v) ~= "table" or #v == 0 then return nil end
  for _, s in ipairs(v) do
    if type(s) ~= "table" or type(s.brandID) ~= "number" or type(s.branchID) ~= "number" then return nil end
  end
  return v
end

local function body_of(ctx)
  return http.json_body(ctx.rid, ctx.body)
end

-- The body of a call aimed at stores: b, stores or nil, status, body.
local function store_call(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return nil, s1, s2 end
  local list = stores(b.stores)
  if not list then return nil, invalid(ctx.rid, "stores needs at least one { brandID, branchID }") end
  return b, list
end

local function new_id()
  st.next_id = st.next_id + 1
  return st.next_id
end

function M.create_section(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  if not locale(b.title) then return invalid(ctx.rid, "title must be a locale map") end
  if b.visibilities ~= nil and not visibility_map(b.visibilities) then
    return invalid(ctx.rid, "visibilities must map provider id strings to booleans")
  end
  local id = new_id()
  st.sections[id] = { id = id, title = b.title, description = b.description, sequence = b.sequence or 1,
    isEnabled = b.isEnabled == true, visibilities = b.visibilities or {},
    availableTimes = b.availableTimes or copy(ALL_DAY) }
  return ok(ctx.rid, { id = id })
end

function M.create_category(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  if not locale(b.title) then return invalid(ctx.rid, "title must be a locale map") end
  if not visibility_map(b.visibilities) then return invalid(ctx.rid, "visibilities is required") end
  local id = new_id()
  st.categories[id] = { id = id, title = b.title, description = b.description,
    isEnabled = b.isEnabled ~= false, visibilities = b.visibilities,
    isHalal = b.isHalal == true, isAlcBeverages = b.isAlcBeverages == true }
  return ok(ctx.rid, { id = id })
end

function M.create_item(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  if not locale(b.title) then return invalid(ctx.rid, "title must be a locale map") end
  if type(b.vat) ~= "number" or b.vat < 0 then return invalid(ctx.rid, "vat must be a number >= 0") end
  if not visibility_map(b.visibilities) then return invalid(ctx.rid, "visibilities is required") end
  if type(b.prices) ~= "table" or type(b.prices["1"]) ~= "table" then
    return invalid(ctx.rid, "prices must include provider \"1\"")
  end
  local id = new_id()
  st.items[id] = { id = id, title = b.title, vat = b.vat, visibilities = b.visibilities, prices = b.prices,
    isEnabled = b.isEnabled ~= false, onlyModifier = b.onlyModifier == true, available = true }
  return ok(ctx.rid, { id = id })
end

-- Applies fn(entity) at business level, or per store when zoneStores is given.
local function override_or_apply(b, kind, entity, fields)
  if b.zoneStores ~= nil and b.zoneStores ~= cjson.null then
    for _, z in ipairs(b.zoneStores) do
      local key = store_key(z.brandID, z.branchID)
      st.overrides[key] = st.overrides[key] or { sections = {}, categories = {}, groups = {} }
      local o = st.overrides[key][kind]
      o[entity.id] = o[entity.id] or {}
      for k, v in pairs(fields) do o[entity.id][k] = v end
    end
  else
    for k, v in pairs(fields) do entity[k] = v end
  end
end

function M.enable_categories(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  if type(b.ids) ~= "table" or #b.ids == 0 then return invalid(ctx.rid, "ids needs at least one id") end
  if b.zoneStores ~= nil and not stores(b.zoneStores) then return invalid(ctx.rid, "zoneStores is malformed") end
  for _, id in ipairs(b.ids) do
    if not st.categories[id] then
      return fail(ctx.rid, 404, "not_found", "category " .. tostring(id) .. " not found")
    end
  end
  local enabled = b.isEnabled == true -- a missing or null isEnabled reads as false
  for _, id in ipairs(b.ids) do override_or_apply(b, "categories", st.categories[id], { isEnabled = enabled }) end
  return ok(ctx.rid, {})
end

local function set_visibilities(ctx, map, kind)
  local entity = map[tonumber(ctx.id)]
  if not entity then return fail(ctx.rid, 404, "resource_not_found", kind .. " not found") end
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  if not visibility_map(b.visibilities) then
    return invalid(ctx.rid, "visibilities must map provider id strings to booleans")
  end
  if b.zoneStores ~= nil and not stores(b.zoneStores) then return invalid(ctx.rid, "zoneStores is malformed") end
  override_or_apply(b, kind, entity, { visibilities = b.visibilities }) -- replaced whole
  return ok(ctx.rid, {})
end

function M.section_visibilities(ctx) return set_visibilities(ctx, st.sections, "sections") end
function M.group_visibilities(ctx) return set_visibilities(ctx, st.groups, "groups") end

function M.attach_modifiers(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  local group = st.groups[b.modifierGroupID]
  if not group then return fail(ctx.rid, 404, "resource_not_found", "modifier group not found") end
  if type(b.attach) ~= "table" then return invalid(ctx.rid, "attach is required") end
  for _, a in ipairs(b.attach) do
    if type(a) ~= "table" or not st.items[a.id] then
      return fail(ctx.rid, 404, "resource_not_found", "item " .. tostring(a and a.id) .. " not found")
    end
  end
  local drop = {}
  for _, id in ipairs(type(b.deleteModifierIDs) == "table" and b.deleteModifierIDs or {}) do drop[id] = true end
  local kept = {}
  for _, m in ipairs(group.modifiers) do if not drop[m.id] then kept[#kept + 1] = m end end
  for _, a in ipairs(b.attach) do kept[#kept + 1] = { id = a.id, sequence = a.sequence or 0 } end
  group.modifiers = array(kept)
  return ok(ctx.rid, {})
end

function M.sync(ctx)
  local b, list, e = store_call(ctx)
  if not b then return list, e end
  for id, sec in pairs(type(b.sections) == "table" and b.sections or {}) do
    if type(sec) == "table" and type(sec.availableTimes) == "table" and next(sec.availableTimes) ~= nil then
      return invalid(ctx.rid, "section " .. id .. ": availableTimes overlaps a schedule already attached to the store")
    end
  end
  for _, s in ipairs(list) do
    if not store_exists(s.brandID, s.branchID) then
      return fail(ctx.rid, 404, "resource_not_found", "store not found")
    end
    st.rows[store_key(s.brandID, s.branchID)] = true
  end
  return ok(ctx.rid, {})
end

function M.populate(ctx)
  local b, list, e = store_call(ctx)
  if not b then return list, e end
  for _, s in ipairs(list) do
    local key = store_key(s.brandID, s.branchID)
    if not st.rows[key] then st.rows[key] = true end -- stores with a menu are skipped silently
  end
  return ok(ctx.rid, {})
end

function M.publish(ctx)
  local b, list, e = store_call(ctx)
  if not b then return list, e end
  if type(b.providerIDs) ~= "table" or #b.providerIDs == 0 then
    return invalid(ctx.rid, "providerIDs needs at least one provider id")
  end
  local success, failed = 0, 0
  for _, s in ipairs(list) do
    if store_exists(s.brandID, s.branchID) and st.rows[store_key(s.brandID, s.branchID)] then
      M.publish_store(s.brandID, s.branchID)
      success = success + 1
    else
      failed = failed + 1
    end
  end
  return ok(ctx.rid, { success = success, failed = failed })
end

function M.reset(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  st.overrides = {}
  return ok(ctx.rid, {})
end

function M.availability(ctx)
  local b, s1, s2 = body_of(ctx)
  if not b then return s1, s2 end
  if type(b.available) ~= "boolean" then return invalid(ctx.rid, "available must be true or false") end
  local sku = ngx.unescape_uri(ctx.id)
  for _, it in pairs(st.items) do
    if it.sku == sku then
      it.available = b.available
      return ok(ctx.rid, { sku = sku, available = b.available })
    end
  end
  return fail(ctx.rid, 404, "resource_unmapped", "no mapping for SKU " .. sku)
end

return M
