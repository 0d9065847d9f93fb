-- A model of what klikit.core's single-pass decoder must give, shared by spec/decode_spec.lua
-- and the decode fuzzer (fuzz/fuzz_decode.c): the old path's results (core._decode_*_reference)
-- and, for projections, the full decode with its rows restricted to the fields' paths.
local core = require "klikit.core"

local mtype = math.type or function() return "number" end
-- How many bodies were compared: differs (each through decode_json and decode_envelope)
-- and projection_differs.
local counts = { bodies = 0, projections = 0 }

local function pack(...) return { n = select("#", ...), ... } end

-- The first difference between a and b, described; nil when they are the same.
local function diff(a, b, path)
  if type(a) ~= type(b) then
    return string.format("%s: %s %s vs %s %s", path, type(a), tostring(a), type(b), tostring(b))
  end
  if type(a) == "number" then
    if mtype(a) ~= mtype(b) then return path .. ": " .. mtype(a) .. " vs " .. mtype(b) end
    if a ~= b then return string.format("%s: %.17g vs %.17g", path, a, b) end
    if a == 0 and 1 / a ~= 1 / b then return path .. ": signed zeros differ" end
    return nil
  end
  if type(a) ~= "table" then
    if a ~= b then return string.format("%s: %q vs %q", path, tostring(a), tostring(b)) end
    return nil
  end
  for k, v in pairs(a) do
    local d = diff(v, b[k], path .. "[" .. string.format("%q", tostring(k)) .. "]")
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. "[" .. string.format("%q", tostring(k)) .. "]: only on the right" end
  end
  return nil
end

-- new vs reference for one body: nil, or the first difference. One difference is meant:
-- the old path turned a numeric error.code into raw_code before normalising it, so on
-- 5.3+ {"code":429} gave "429.0"; now it is "429", as on 5.1 and LuaJIT.
local function differs(body, max_values, status)
  counts.bodies = counts.bodies + 1
  local d = diff(pack(core.decode_json(body, max_values)), pack(core._decode_json_reference(body, max_values)),
    "decode_json")
  if d then return d end
  status = status or 200
  local new = pack(core.decode_envelope(status, body, max_values))
  local ref = pack(core._decode_envelope_reference(status, body, max_values))
  if new[1] == false and ref[1] == false and new[2].raw_code ~= ref[2].raw_code
    and tostring(new[2].raw_code):match("^%-?%d+$") and (ref[2].raw_code == new[2].raw_code .. ".0"
      or ref[2].raw_code == string.format("%.14g", tonumber(new[2].raw_code))) then
    ref[2].raw_code = new[2].raw_code
  end
  return diff(new, ref, "decode_envelope " .. status)
end

-- Projections, modelled in Lua: the full decode restricted to the paths. ----------------
local function tree_of(list)
  local tree = {}
  for _, path in ipairs(list) do
    local node, segs = tree, {}
    for seg in path:gmatch("[^.]+") do segs[#segs + 1] = seg end
    for i, seg in ipairs(segs) do
      if node[seg] == true then break end -- a shorter path already takes it whole
      if i == #segs then node[seg] = true else
        node[seg] = node[seg] or {}
        node = node[seg]
      end
    end
  end
  return tree
end

local function is_object(t) -- a decoded JSON object has string keys, an array integer ones
  local k = next(t)
  return type(k) == "string"
end

local function restrict(v, node)
  if node == true or type(v) ~= "table" then return v end
  local out = {}
  if is_object(v) then
    for k, sub in pairs(node) do
      if v[k] ~= nil then out[k] = restrict(v[k], sub) end
    end
  else
    for i = 1, #v do out[i] = restrict(v[i], node) end
  end
  return out
end

-- What decode_envelope(status, body, mv, fields) must give: the full result with its rows
-- (objects in data.orders, data.results, or data as a list) restricted.
local function expected_projection(tree, ...)
  local r = pack(...)
  if r[1] ~= true or type(r[2]) ~= "table" then return r end
  local function rows(list)
    local out = {}
    for i = 1, #list do
      local row = list[i]
      out[i] = (type(row) == "table" and is_object(row)) and restrict(row, tree) or row
    end
    return out
  end
  local data = r[2]
  if is_object(data) then
    local copy = {}
    for k, v in pairs(data) do copy[k] = v end
    for _, key in ipairs { "orders", "results" } do
      if type(copy[key]) == "table" and not is_object(copy[key]) then copy[key] = rows(copy[key]) end
    end
    r[2] = copy
  else
    r[2] = rows(data)
  end
  return r
end

local function projection_differs(body, list, max_values, status, fields)
  counts.projections = counts.projections + 1
  fields = fields or core.compile_fields(list)
  status = status or 200
  local want = expected_projection(tree_of(list), core.decode_envelope(status, body, max_values))
  return diff(pack(core.decode_envelope(status, body, max_values, fields)), want, "projected")
end

return { counts = counts, pack = pack, diff = diff, differs = differs, tree_of = tree_of, restrict = restrict,
  expected_projection = expected_projection, projection_differs = projection_differs }
