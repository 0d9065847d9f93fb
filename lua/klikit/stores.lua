--- Brands, branches and providers: reads and updates.
local client_mod = require "klikit.client"
local errors = require "klikit.errors"
local util = require "klikit.util"
local pager = require "klikit.pager"
local page = require "klikit.page"
local body = require "klikit.body"

local Client = client_mod.Client
local invalid = errors.invalid

-- GET /brands answers a legacy outer array: data[1].brands (data[0] in klikit's docs).
local function extract_brands(data)
  if type(data) ~= "table" then return nil, "data is not an array" end
  if #data == 0 then return {} end
  local first = data[1]
  if type(first) ~= "table" then return nil, "data[1] is not an object" end
  local list = first.brands or {}
  if type(list) ~= "table" then return nil, "data[1].brands is not a list" end
  return list
end

--- for brand in client:brands() do   -- GET /brands (one request; no paging fields)
function Client:brands()
  return pager.single(self, "/brands", function(data, meta)
    local list, why = extract_brands(data)
    if not list then return nil, self:fail(page.shape_error("/brands", meta, why), "GET", "/brands") end
    return list
  end)
end

--- business, err = client:business()  -- data[1].business of GET /brands
function Client:business()
  local data, err = self:request("GET", "/brands")
  if err then return nil, err end
  return type(data) == "table" and type(data[1]) == "table" and data[1].business or nil
end

--- for branch in client:branches{ size, page } do   -- GET /branches, every page
-- The branch page limit is undocumented (the docs echo size=1000), so size is not
-- clamped to 100 here; without size the server's default applies.
function Client:branches(params)
  local p, err = self:checked("GET", "/branches", function()
    local checked = util.check_keys("branches", params, { size = true, page = true })
    util.check_int("size", checked.size, 1)
    util.check_int("page", checked.page, 1)
    return checked
  end)
  if not p then return pager.new(self, "/branches", nil, err) end
  return pager.page_number(self, "/branches", { keys = { "results" }, page = p.page, size = p.size })
end

--- list, err = client:providers()   -- GET /providers [inferred: no page was captured]
function Client:providers(opts)
  opts = opts or {}
  return self:request("GET", opts.path or "/providers")
end

-- Many-to-many lists are replaced wholesale and only when the *_list_changed flag is true.
local function check_list_change(what, fields, ids_key, flag_key)
  if fields[ids_key] ~= nil then body.ids(what .. "." .. ids_key, fields[ids_key]) end
  if fields[flag_key] ~= nil and type(fields[flag_key]) ~= "boolean" then
    invalid(what .. ": " .. flag_key .. " must be a boolean")
  end
  if fields[flag_key] == true and fields[ids_key] == nil then
    invalid(what .. ": " .. flag_key .. " = true needs the full " .. ids_key .. " list")
  end
end

--- data, err = client:update_brand(id, fields, opts)   -- PATCH /brands/{id} [inferred]
-- Only the fields sent change. To change its branches send the full branch_ids list with
-- branch_list_changed = true. business_id is rewritten by klikit to the credential's.
client_mod.define_write("update_brand", {
  method = "PATCH", path = "/brands/{id}", id = "brand id", inferred = true,
  body = function(fields)
    fields = body.fields("update_brand", fields)
    for _, k in ipairs { "title", "logo", "banner" } do
      if fields[k] ~= nil then body.text("update_brand." .. k, fields[k], k == "title" and 1 or 0, 255) end
    end
    check_list_change("update_brand", fields, "branch_ids", "branch_list_changed")
    return fields
  end,
})

--- data, err = client:update_branch(id, fields, opts)   -- PATCH /branches/{id}
-- Send the full brand_ids with brand_list_changed = true to change its brands.
-- available_times slots may use the read shape (start_time/end_time): they are sent in
-- the camelCase (startTime/endTime) this endpoint expects.
client_mod.define_write("update_branch", {
  method = "PATCH", path = "/branches/{id}", id = "branch id",
  body = function(fields)
    fields = body.fields("update_branch", fields)
    if fields.title ~= nil then body.text("update_branch.title", fields.title, 1, 255) end
    if fields.address ~= nil then body.text("update_branch.address", fields.address, 5, 255) end
    if fields.phone ~= nil and (type(fields.phone) ~= "string" or not fields.phone:find("^%+%d%d%d%d%d+$")) then
      invalid("update_branch.phone must be E.164, e.g. +6285172191644")
    end
    check_list_change("update_branch", fields, "brand_ids", "brand_list_changed")
    if fields.available_times ~= nil then
      fields.available_times = body.available_times("update_branch.available_times", fields.available_times)
    end
    return fields
  end,
})
