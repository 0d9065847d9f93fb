--- Brands, branches and providers: reads and updates, as endpoint rows (see
-- klikit.partner.endpoints).
local errors = require("klikit.errors")
local util = require("klikit.util")
local page = require("klikit.http.page")
local body = require("klikit.partner.validate")

local M = {}
local invalid = errors.invalid

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

local function brand_body(fields)
    fields = body.fields("update_brand", fields)
    for _, k in ipairs { "title", "logo", "banner" } do
      if fields[k] ~= nil then body.text("update_brand." .. k, fields[k], k == "title" and 1 or 0, 255) end
    end
    check_list_change("update_brand", fields, "branch_ids", "branch_list_changed")
    return fields
end

-- available_times slots may use the read shape (start_time/end_time): they are sent in the
-- camelCase (startTime/endTime) this endpoint expects.
local function branch_body(fields)
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
end

-- GET /brands answers a legacy outer array: data[1].brands (data[0] in klikit's docs).
local function brands(data)
  if type(data) ~= "table" then return nil, "data is not an array" end
  if #data == 0 then return {} end
  local first = data[1]
  if type(first) ~= "table" then return nil, "data[1] is not an object" end
  local list = first.brands or {}
  if type(list) ~= "table" then return nil, "data[1].brands is not a list" end
  return list
end

local function business(data)
  local first = type(data) == "table" and data[1]
  if type(first) ~= "table" or type(first.business) ~= "table" then return nil, "no data[1].business object" end
  return first.business
end

M.rows = {
  -- for brand in assert(client:brands()) do   -- one request; no paging fields
  { name = "brands", path = "/brands", pager = { style = "single", opts = function(params, session)
    util.check_keys("brands", params, {})
    return function(data, meta)
      local list, why = brands(data)
      if not list then return nil, session:fail(page.shape_error("/brands", meta, why), "GET", "/brands") end
      return list
    end
  end } },
  { name = "business", method = "GET", path = "/brands", shape = business },
  -- every page of GET /branches; size is not clamped (the docs echo size=1000), and without
  -- it the server's default applies
  { name = "branches", path = "/branches", pager = { style = "page_number", opts = function(params)
    params = util.check_keys("branches", params, { size = true, page = true, concurrency = true })
    local k = require("klikit.http.pager").check_concurrency(params.concurrency)
    return { keys = { "results" }, page = util.check_int("page", params.page, 1),
      size = util.check_int("size", params.size, 1), concurrency = k and k > 1 and k or nil }
  end } },
  { name = "providers", method = "GET", path = "/providers", inferred = true, shape = "list" },
  -- only the fields sent change; branches change with the full branch_ids and
  -- branch_list_changed = true; business_id is rewritten by klikit
  { name = "update_brand", method = "PATCH", path = "/brands/{id}", id = "brand id", inferred = true,
    body = brand_body },
  { name = "update_branch", method = "PATCH", path = "/branches/{id}", id = "branch id", body = branch_body },
}

return M
