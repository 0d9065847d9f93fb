--- Projection: `fields = { "id", "created_at", "final_price", "brands.name" }` on a list
-- read. The C decoder builds only those paths of each row (klikit.core.compile_fields);
-- every other value is scanned, checked and counted, never built. Dotted paths reach into
-- nested objects, and into each element of an array of objects on the way.
local core = require("klikit.core")
local errors = require("klikit.errors")

local M = {}
M.MAX = 100
local compiled = setmetatable({}, { __mode = "k" }) -- a list -> { [needed] = its projection }

--- Checks `list` (raises request_invalid) -> a projection that also holds `needed` (the
--- fields a walk reads itself), and the names of those the caller did not ask for (to be
--- removed from the rows handed out).
function M.compile(list, needed)
  local key = table.concat(needed or {}, ",")
  local cached = type(list) == "table" and compiled[list] and compiled[list][key]
  if cached then return cached end
  if type(list) ~= "table" or #list == 0 or #list > M.MAX then
    errors.invalid("fields must be a list of 1 to " .. M.MAX .. " field names such as \"id\" or \"brands.name\"")
  end
  local paths, asked = {}, {}
  for i, name in ipairs(list) do
    local good = type(name) == "string" and #name <= 200 and not name:find("..", 1, true)
      and (name:find("^[%w_]+$") or name:find("^[%w_][%w_.]*[%w_]$"))
    if not good then
      errors.invalid(string.format("fields[%d] must be a name of letters, digits and _, with dots between "
        .. "nested names (\"brands.name\"), got %s", i, errors.visible(tostring(name)):sub(1, 80)))
    end
    if not asked[name] then paths[#paths + 1], asked[name] = name, true end
  end
  for k in pairs(list) do
    if type(k) ~= "number" or k < 1 or k > #list or k ~= math.floor(k) then
      errors.invalid("fields must be a list (keys 1..n only)")
    end
  end
  local strip = {}
  for _, name in ipairs(needed or {}) do
    if not asked[name] then paths[#paths + 1], strip[#strip + 1] = name, name end
  end
  local ok, projection = pcall(core.compile_fields, paths)
  if not ok then errors.invalid("fields: " .. tostring(projection)) end
  cached = { projection = projection, strip = strip }
  compiled[list] = compiled[list] or {}
  compiled[list][key] = cached
  return cached
end

return M
