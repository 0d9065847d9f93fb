--- Menus: the menu tree, business-level edits, the sync/populate/publish cycle, the
-- destructive reset, and item availability. Intended order: edit -> sync (or populate
-- for new stores) -> publish; store-level GET /menus serves a snapshot that only
-- publish_menu refreshes.
local client_mod = require "klikit.client"
local errors = require "klikit.errors"
local util = require "klikit.util"
local body = require "klikit.body"

local Client = client_mod.Client
local invalid = errors.invalid
local define = client_mod.define_write

--- menu, err = client:menu{ brand_id, branch_id }   -- GET /menus
-- Both ids give the store-level menu (the published snapshot); neither gives the
-- business-level menu. One alone is refused, as klikit would.
function Client:menu(params)
  local q, err = self:checked("GET", "/menus", function()
    params = util.check_keys("menu", params, { brand_id = true, branch_id = true })
    local brand = util.check_int("brand_id", params.brand_id, 1)
    local branch = util.check_int("branch_id", params.branch_id, 1)
    if (brand == nil) ~= (branch == nil) then
      invalid("menu: brand_id and branch_id must be passed together (store menu) or omitted together (business menu)")
    end
    return { brand_id = brand, branch_id = branch }
  end)
  if not q then return nil, err end
  return self:request("GET", "/menus", { query = q })
end

local function optional(fields, key, check, name)
  if fields[key] ~= nil then fields[key] = check(name .. "." .. key, fields[key]) end
end

-- zoneStores turns a write into a per-store override.
local function common(name, fields)
  optional(fields, "zoneStores", body.stores, name)
  optional(fields, "description", body.locale, name)
  optional(fields, "isEnabled", body.boolean, name)
  if fields.fromAPI == nil then fields.fromAPI = true end -- every documented example sends it
  return fields
end

--- client:create_section{ title, description, isEnabled, sequence, visibilities, availableTimes }
define("create_section", {
  method = "POST", path = "/menus/sections",
  body = function(fields)
    fields = body.fields("create_section", fields)
    fields.title = body.locale("create_section.title", fields.title)
    fields.visibilities = body.visibilities("create_section.visibilities", fields.visibilities or {})
    optional(fields, "availableTimes", body.available_times, "create_section")
    util.check_int("create_section.sequence", fields.sequence, 0)
    return common("create_section", fields)
  end,
})

-- The visibility map is replaced as a whole: providers left out become hidden.
local function visibility_body(name)
  return function(fields)
    fields = body.fields(name, fields)
    util.check_keys(name, fields, { visibilities = true, zoneStores = true })
    if fields.visibilities == nil then invalid(name .. " needs visibilities (the whole map)") end
    fields.visibilities = body.visibilities(name .. ".visibilities", fields.visibilities)
    optional(fields, "zoneStores", body.stores, name)
    return fields
  end
end

--- client:set_section_visibilities(section_id, { visibilities, zoneStores })
define("set_section_visibilities", {
  method = "PATCH", path = "/menus/sections/{id}/visibilities", id = "section id",
  body = visibility_body("set_section_visibilities"),
})

--- client:set_modifier_group_visibilities(group_id, { visibilities, zoneStores }) [inferred path]
define("set_modifier_group_visibilities", {
  method = "PATCH", path = "/menus/modifier-groups/{id}/visibilities", id = "modifier group id",
  inferred = true, body = visibility_body("set_modifier_group_visibilities"),
})

--- client:create_category{ title, visibilities, description, isEnabled, isAlcBeverages, ... }
define("create_category", {
  method = "POST", path = "/menus/categories",
  body = function(fields)
    fields = body.fields("create_category", fields)
    fields.title = body.locale("create_category.title", fields.title)
    if fields.visibilities == nil then invalid("create_category needs visibilities") end
    fields.visibilities = body.visibilities("create_category.visibilities", fields.visibilities)
    for _, flag in ipairs { "isAlcBeverages", "isAgeRestricted", "isHalal", "isMealForOne" } do
      optional(fields, flag, body.boolean, "create_category")
    end
    return common("create_category", fields)
  end,
})

--- client:enable_categories{ ids, isEnabled, zoneStores, brandIDsToCascade, isCascadeToModifierGroups }
-- isEnabled is required here: klikit reads a missing isEnabled as false (disable).
define("enable_categories", {
  method = "PATCH", path = "/menus/categories/enable",
  body = function(fields)
    fields = body.fields("enable_categories", fields)
    fields.ids = body.ids("enable_categories.ids", fields.ids, true)
    if type(fields.isEnabled) ~= "boolean" then
      invalid("enable_categories needs isEnabled = true or false (klikit reads a missing one as false)")
    end
    optional(fields, "zoneStores", body.stores, "enable_categories")
    optional(fields, "brandIDsToCascade", body.ids, "enable_categories")
    optional(fields, "isCascadeToModifierGroups", body.boolean, "enable_categories")
    return fields
  end,
})

--- client:create_item{ title, vat, visibilities, prices, description, isEnabled, onlyModifier }
-- prices must include provider "1"; onlyModifier = true creates a modifier option.
define("create_item", {
  method = "POST", path = "/menus/items",
  body = function(fields)
    fields = body.fields("create_item", fields)
    fields.title = body.locale("create_item.title", fields.title)
    if type(fields.vat) ~= "number" or fields.vat < 0 then invalid("create_item needs vat, a number >= 0") end
    if fields.visibilities == nil then invalid("create_item needs visibilities") end
    fields.visibilities = body.visibilities("create_item.visibilities", fields.visibilities)
    fields.prices = body.prices("create_item.prices", fields.prices)
    optional(fields, "onlyModifier", body.boolean, "create_item")
    return common("create_item", fields)
  end,
})

--- client:attach_modifiers{ modifierGroupID, attach = { { id, sequence } }, deleteModifierIDs }
define("attach_modifiers", {
  method = "POST", path = "/menus/modifier-groups/modifiers",
  body = function(fields)
    fields = body.fields("attach_modifiers", fields)
    if not util.is_integer(fields.modifierGroupID) or fields.modifierGroupID < 1 then
      invalid("attach_modifiers needs modifierGroupID, a positive integer")
    end
    if type(fields.attach) ~= "table" then invalid("attach_modifiers needs attach = { { id, sequence }, ... }") end
    local attach = body.array {}
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
  end,
})

-- sync and populate share a body: stores, sections { [id] = { sequence, availableTimes } },
-- fieldIncludeOnSync. A non-empty availableTimes is overlap-checked by klikit (send {}).
local function sync_body(name)
  return function(fields)
    fields = body.fields(name, fields)
    fields.stores = body.stores(name .. ".stores", fields.stores)
    if fields.sections ~= nil then
      if type(fields.sections) ~= "table" then invalid(name .. ".sections must be a map of section id -> {...}") end
      local sections = {}
      for id, s in pairs(fields.sections) do
        local key = tostring(id)
        if not key:find("^%d+$") or type(s) ~= "table" then
          invalid(name .. ".sections: keys are section ids, values { sequence, availableTimes }")
        end
        local copy = {}
        for k, v in pairs(s) do copy[k] = v end
        if copy.availableTimes ~= nil then
          copy.availableTimes = body.available_times(name .. ".sections[" .. key .. "].availableTimes",
            copy.availableTimes)
        end
        sections[key] = copy
      end
      fields.sections = sections
    end
    if fields.fieldIncludeOnSync ~= nil then
      local list = body.array {}
      for i, f in ipairs(fields.fieldIncludeOnSync) do
        if type(f) ~= "string" then invalid(name .. ".fieldIncludeOnSync must be a list of field names") end
        list[i] = f
      end
      fields.fieldIncludeOnSync = list
    end
    return fields
  end
end

--- client:sync_menu{ stores, sections, fieldIncludeOnSync }   -- POST /menus/sync
define("sync_menu", { method = "POST", path = "/menus/sync", body = sync_body("sync_menu") })

--- client:populate_menu{ stores, sections } [inferred path] -- stores that already have a
-- menu are skipped silently by klikit.
define("populate_menu", { method = "POST", path = "/menus/populate", inferred = true,
  body = sync_body("populate_menu") })

--- client:publish_menu{ stores, providerIDs, scheduledAt } -> { success, failed }
define("publish_menu", {
  method = "POST", path = "/menus/publish",
  body = function(fields)
    fields = body.fields("publish_menu", fields)
    util.check_keys("publish_menu", fields, { stores = true, providerIDs = true, scheduledAt = true })
    fields.stores = body.stores("publish_menu.stores", fields.stores)
    fields.providerIDs = body.ids("publish_menu.providerIDs", fields.providerIDs, true)
    if fields.scheduledAt ~= nil then fields.scheduledAt = util.check_time("scheduledAt", fields.scheduledAt) end
    return fields
  end,
})

--- client:reset_store_overrides(fields, { confirm = true }) [inferred path]
-- DESTRUCTIVE: every store-level override is lost. The body is passed through as given.
define("reset_store_overrides", {
  method = "POST", path = "/menus/reset", inferred = true, confirm = true,
  body = function(fields)
    if fields == nil then return {} end
    if type(fields) ~= "table" then invalid("reset_store_overrides expects a table of fields") end
    return fields
  end,
})

--- client:set_item_availability(sku, available, opts) [inferred path]
-- PATCH /items/{sku}/availability with { available }; an unknown SKU is resource_unmapped.
define("set_item_availability", {
  method = "PATCH", path = "/items/{id}/availability", id = "item sku", inferred = true,
  body = function(available)
    if type(available) ~= "boolean" then invalid("set_item_availability: available must be true or false") end
    return { available = available }
  end,
})
