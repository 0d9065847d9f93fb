-- Sandbox brands, branches and providers, with the documented update rules: only the
-- fields sent change, id lists change only with *_list_changed = true, business_id is
-- rewritten, and branch updates take camelCase startTime/endTime.
local json = require "klikit_sandbox.json"
local http = require "klikit_sandbox.http"
local data = require "klikit_sandbox.data"

local M = {}
local unpack = table.unpack or unpack -- luacheck: ignore 143
local ok, fail, invalid = http.ok, http.fail, http.invalid

function M.init()
  -- data.BRANDS / data.BRANCHES are the live state; init restores the generated copies
  if not M.saved then
    M.saved = { brands = {}, branches = {} }
    for i, b in ipairs(data.BRANDS) do
      local c = {}
      for k, v in pairs(b) do c[k] = v end
      M.saved.brands[i] = c
    end
    for i, b in ipairs(data.BRANCHES) do
      local c = {}
      for k, v in pairs(b) do c[k] = v end
      c.brand_ids = { unpack(b.brand_ids) }
      M.saved.branches[i] = c
    end
  end
  for i, b in ipairs(M.saved.brands) do
    for k, v in pairs(b) do data.BRANDS[i][k] = v end
  end
  for i, b in ipairs(M.saved.branches) do
    for k, v in pairs(b) do data.BRANCHES[i][k] = v end
    data.BRANCHES[i].brand_ids = { unpack(b.brand_ids) }
    data.BRANCHES[i].available_times = nil
  end
end

local function find(list, id)
  for _, x in ipairs(list) do if x.id == id then return x end end
end

function M.brands(ctx) return ok(ctx.rid, data.brands_payload()) end

function M.providers(ctx)
  local list = json.array()
  for id, name in pairs(data.PROVIDERS) do list[#list + 1] = { id = id, name = name } end
  table.sort(list, function(a, b) return a.id < b.id end)
  return ok(ctx.rid, list)
end

function M.branches(ctx)
  local int_arg = require("klikit_sandbox.orders").int_arg
  local page, err = int_arg(ctx.args, "page", 1, nil, 1)
  if not page then return invalid(ctx.rid, err) end
  local size
  size, err = int_arg(ctx.args, "size", 1, 1000, 1000)
  if not size then return invalid(ctx.rid, err) end
  local quirks = require "klikit_sandbox.quirks"
  local first, last, used = quirks.slice(page, size, #data.BRANCHES)
  local results = json.array()
  for i = first, math.min(last, #data.BRANCHES) do
    results[#results + 1] = data.branch(data.BRANCHES[i])
  end
  return ok(ctx.rid, { page = page, size = quirks.echo(used, size), total = quirks.total(#data.BRANCHES),
    results = results })
end

local function id_list(v)
  if type(v) ~= "table" then return nil end
  for _, x in ipairs(v) do if type(x) ~= "number" then return nil end end
  return v
end

-- Applies an id-list change only when the flag is true, as klikit documents.
local function list_change(rid, body, ids_key, flag_key, valid_ids)
  if body[flag_key] ~= true then return nil end
  local ids = id_list(body[ids_key])
  if not ids then return nil, invalid(rid, ids_key .. " must be the full list of ids") end
  for _, id in ipairs(ids) do
    if not valid_ids[id] then return nil, fail(rid, 404, "resource_not_found", "no such id " .. id) end
  end
  local copy = {}
  for i, id in ipairs(ids) do copy[i] = id end
  return copy
end

local function id_set(list)
  local s = {}
  for _, x in ipairs(list) do s[x.id] = true end
  return s
end

-- The entity and body of an update: entity, body or nil, status, response body.
local function update_target(ctx, list, what)
  local entity = find(list, tonumber(ctx.id))
  if not entity then return nil, fail(ctx.rid, 404, "resource_not_found", what .. " not found") end
  local body, s, b = http.json_body(ctx.rid, ctx.body)
  if not body then return nil, s, b end
  if body.title ~= nil and (type(body.title) ~= "string" or #body.title < 1 or #body.title > 255) then
    return nil, invalid(ctx.rid, "title must be 1-255 characters")
  end
  return entity, body
end

function M.update_brand(ctx)
  local brand, body, e = update_target(ctx, data.BRANDS, "brand")
  if not brand then return body, e end
  local branch_ids, f1, f2 = list_change(ctx.rid, body, "branch_ids", "branch_list_changed", id_set(data.BRANCHES))
  if f1 then return f1, f2 end
  for _, k in ipairs { "title", "logo", "banner" } do
    if type(body[k]) == "string" then brand[k] = body[k] end
  end
  if branch_ids then
    local wanted = {}
    for _, id in ipairs(branch_ids) do wanted[id] = true end
    for _, br in ipairs(data.BRANCHES) do
      local kept = {}
      for _, bid in ipairs(br.brand_ids) do if bid ~= brand.id then kept[#kept + 1] = bid end end
      if wanted[br.id] then kept[#kept + 1] = brand.id end
      br.brand_ids = kept
    end
  end
  return ok(ctx.rid, "Brand updated.")
end

function M.update_branch(ctx)
  local branch, body, e = update_target(ctx, data.BRANCHES, "branch")
  if not branch then return body, e end
  if body.phone ~= nil and (type(body.phone) ~= "string" or not body.phone:find("^%+%d+$")) then
    return invalid(ctx.rid, "phone must be E.164")
  end
  if body.available_times ~= nil then
    if type(body.available_times) ~= "table" then return invalid(ctx.rid, "available_times must be an object") end
    for day, spec in pairs(body.available_times) do
      for _, slot in ipairs(type(spec) == "table" and type(spec.slots) == "table" and spec.slots or {}) do
        if slot.startTime == nil or slot.endTime == nil then
          return invalid(ctx.rid, "available_times[" .. day .. "].slots use startTime/endTime")
        end
      end
    end
  end
  local brand_ids, f1, f2 = list_change(ctx.rid, body, "brand_ids", "brand_list_changed", id_set(data.BRANDS))
  if f1 then return f1, f2 end
  for _, k in ipairs { "title", "address", "phone" } do
    if type(body[k]) == "string" then branch[k] = body[k] end
  end
  if brand_ids then branch.brand_ids = brand_ids end
  if body.available_times then branch.available_times = body.available_times end
  return ok(ctx.rid, { id = branch.id })
end

return M
