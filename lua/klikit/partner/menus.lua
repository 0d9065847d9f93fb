--- Menus: the menu tree, business-level edits, the sync/populate/publish cycle, the
-- destructive reset and item availability, as endpoint rows (klikit.partner.endpoints).
-- Intended order: edit -> sync (or populate for new stores) -> publish; store-level
-- GET /menus serves a snapshot that only publish_menu refreshes.
local errors = require("klikit.errors")
local util = require("klikit.util")
local body = require("klikit.partner.validate")
local json = require("klikit.http.json")

local M = {}
local invalid = errors.invalid
local build = {} -- endpoint name -> function(fields) -> request body (raises request_invalid)

-- Both ids give the store-level menu (the published snapshot); neither gives the
-- business-level menu. One alone is refused, as klikit would.
local function menu_query(params)
  params = util.check_keys("menu", params, { brand_id = true, branch_id = true })
  local brand = util.check_int("brand_id", params.brand_id, 1)
  local branch = util.check_int("branch_id", params.branch_id, 1)
  if (brand == nil) ~= (branch == nil) then
    invalid("menu: brand_id and branch_id must be passed together (store menu) or omitted together (business menu)")
  end
  return { brand_id = brand, branch_id = branch }
end

local function optional(fields, key, check, name)
  if fields[key] ~= nil then fields[key] = check(name .. "." .. key, fields[key]) end
end

-- What every create takes: zoneStores turns a write into a per-store override, and
-- fromAPI = true is in every documented example.
local function common(name, fields)
  optional(fields, "zoneStores", body.stores, name)
  optional(fields, "description", body.locale, name)
  optional(fields, "isEnabled", body.boolean, name)
  if fields.fromAPI == nil then fields.fromAPI = true end
  return fields
end

-- A create body: the fields table copied, its title a locale map, then `rest`.
local function creation(name, rest)
  return function(fields)
    fields = body.fields(name, fields)
    fields.title = body.locale(name .. ".title", fields.title)
    rest(fields)
    return common(name, fields)
  end
end

build.create_section = creation("create_section", function(fields)
  fields.visibilities = body.visibilities("create_section.visibilities", fields.visibilities or {})
  optional(fields, "availableTimes", body.available_times, "create_section")
  util.check_int("create_section.sequence", fields.sequence, 0)
end)

build.create_category = creation("create_category", function(fields)
  if fields.visibilities == nil then invalid("create_category needs visibilities") end
  fields.visibilities = body.visibilities("create_category.visibilities", fields.visibilities)
  for _, flag in ipairs { "isAlcBeverages", "isAgeRestricted", "isHalal", "isMealForOne" } do
    optional(fields, flag, body.boolean, "create_category")
  end
end)

-- prices must include provider "1"; onlyModifier = true creates a modifier option
build.create_item = creation("create_item", function(fields)
  if type(fields.vat) ~= "number" or fields.vat < 0 then invalid("create_item needs vat, a number >= 0") end
  if fields.visibilities == nil then invalid("create_item needs visibilities") end
  fields.visibilities = body.visibilities("create_item.visibilities", fields.visibilities)
  fields.prices = body.prices("create_item.prices", fields.prices)
  optional(fields, "onlyModifier", body.boolean, "create_item")
end)

-- The visibility map is replaced as a whole: providers left out become hidden.
local function visibility(name)
  return function(fields)
    fields = util.check_keys(name, body.fields(name, fields), { visibilities = true, zoneStores = true })
    if fields.visibilities == nil then invalid(name .. " needs visibilities (the whole map)") end
    fields.visibilities = body.visibilities(name .. ".visibilities", fields.visibilities)
    optional(fields, "zoneStores", body.stores, name)
    return fields
  end
end

-- isEnabled is required here: klikit reads a missing isEnabled as false (disable).
function build.enable_categories(fields)
  fields = body.fields("enable_categories", fields)
  fields.ids = body.ids("enable_categories.ids", fields.ids, true)
  if type(fields.isEnabled) ~= "boolean" then
    invalid("enable_categories needs isEnabled = true or false (klikit reads a missing one as false)")
  end
  optional(fields, "zoneStores", body.stores, "enable_categories")
  optional(fields, "brandIDsToCascade", body.ids, "enable_categories")
  optional(fields, "isCascadeToModifierGroups", body.boolean, "enable_categories")
  return fields
end

-- attach = { { id, sequence } }; deleteModifierIDs goes out as an array
function build.attach_modifiers(fields)
  fields = body.fields("attach_modifiers", fields)
  if not util.is_integer(fields.modifierGroupID) or fields.modifierGroupID < 1 then
    invalid("attach_modifiers needs modifierGroupID, a positive integer")
  end
  if type(fields.attach) ~= "table" then invalid("attach_modifiers needs attach = { { id, sequence }, ... }") end
  local attach = json.array {}
  for i, a in ipairs(fields.attach) do
    if type(a) ~= "table" or not util.is_integer(a.id) or a.id < 1 then
      invalid(string.format("attach_modifiers.attach[%d] needs a positive integer id", i))
    end
    util.check_int(string.format("attach_modifiers.attach[%d].sequence", i), a.sequence, 0)
    attach[i] = { id = a.id, sequence = a.sequence }
  end
  fields.attach = attach
  optional(fields, "deleteModifierIDs", body.ids, "attach_modifiers")
  return fields
end

-- { stores, providerIDs, scheduledAt } -> { success, failed }
function build.publish_menu(fields)
  fields = util.check_keys("publish_menu", body.fields("publish_menu", fields),
    { stores = true, providerIDs = true, scheduledAt = true })
  fields.stores = body.stores("publish_menu.stores", fields.stores)
  fields.providerIDs = body.ids("publish_menu.providerIDs", fields.providerIDs, true)
  if fields.scheduledAt ~= nil then fields.scheduledAt = util.check_time("scheduledAt", fields.scheduledAt) end
  return fields
end

-- DESTRUCTIVE: every store-level override is lost. The body is passed through as given.
function build.reset_store_overrides(fields)
  if fields == nil then return {} end
  if type(fields) ~= "table" then invalid("reset_store_overrides expects a table of fields") end
  return fields
end

-- { available }; an unknown SKU is resource_unmapped
function build.set_item_availability(available)
  if type(available) ~= "boolean" then invalid("set_item_availability: available must be true or false") end
  return { available = available }
end

-- Create endpoints answer only { id } (klikit's docs).
local function created(data)
  if type(data) ~= "table" or (type(data.id) ~= "number" and type(data.id) ~= "string") then
    return nil, "data is not { id }"
  end
  return data
end

M.rows = {
  { name = "menu", method = "GET", path = "/menus", query = menu_query, shape = "object" },
  { name = "create_section", method = "POST", path = "/menus/sections", body = build.create_section, shape = created },
  { name = "set_section_visibilities", method = "PATCH", path = "/menus/sections/{id}/visibilities",
    id = "section id", body = visibility("set_section_visibilities") },
  { name = "set_modifier_group_visibilities", method = "PATCH", path = "/menus/modifier-groups/{id}/visibilities",
    id = "modifier group id", inferred = true, body = visibility("set_modifier_group_visibilities") },
  { name = "create_category", method = "POST", path = "/menus/categories", body = build.create_category,
    shape = created },
  { name = "enable_categories", method = "PATCH", path = "/menus/categories/enable", body = build.enable_categories },
  { name = "create_item", method = "POST", path = "/menus/items", body = build.create_item, shape = created },
  { name = "attach_modifiers", method = "POST", path = "/menus/modifier-groups/modifiers",
    body = build.attach_modifiers },
  -- sync keeps store overrides of persisted fields unless named in fieldIncludeOnSync
  { name = "sync_menu", method = "POST", path = "/menus/sync", body = body.sync("sync_menu") },
  -- stores that already have a menu are skipped silently by klikit
  { name = "populate_menu", method = "POST", path = "/menus/populate", inferred = true,
    body = body.sync("populate_menu") },
  { name = "publish_menu", method = "POST", path = "/menus/publish", body = build.publish_menu },
  { name = "reset_store_overrides", method = "POST", path = "/menus/reset", inferred = true, confirm = true,
    body = build.reset_store_overrides },
  { name = "set_item_availability", method = "PATCH", path = "/items/{id}/availability", id = "item sku",
    inferred = true, body = build.set_item_availability },
}

return M
