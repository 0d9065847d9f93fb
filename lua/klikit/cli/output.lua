--- Output formats of the command-line tool, each a streaming writer (constant memory):
--   jsonl  one JSON object a line (klikit.cli.json_line: lua-cjson with exact numbers; JSON
--          null stays null; an empty list comes out as {}, which lua-cjson cannot tell apart)
--   csv    RFC 4180: a header row of the fields, CRLF line ends, fields with a comma, quote,
--          CR or LF quoted (quotes doubled)
--   table  aligned columns for a terminal; widths from the first rows, at most 40 columns
--          each, longer values cut with "…"; control characters shown as escapes
-- Fields are dotted paths (brands.title); a list met on the way is followed into each
-- element and the values are joined with ";".
--   local w = output.writer("csv", { "id", "brands.title" }, io.stdout)
--   w:row(order) ... w:finish()
local core = require("klikit.core")
local errors = require("klikit.errors")
local json_line = require("klikit.cli.json_line")

local M = {}

M.FORMATS = { "jsonl", "csv", "table" }
M.MAX_WIDTH = 40
M.SAMPLE = 100 -- rows the table looks at before it fixes its column widths

--- "a,b.c" -> { "a", "b.c" }; raises nothing (the walk or client checks the names).
function M.split_fields(text)
  local list = {}
  for name in tostring(text):gmatch("[^,]+") do
    name = name:match("^%s*(.-)%s*$")
    if name ~= "" then list[#list + 1] = name end
  end
  return list
end

local function split_path(path)
  local names = {}
  for name in path:gmatch("[^.]+") do names[#names + 1] = name end
  return names
end

local function is_list(t)
  return type(t) == "table" and (t[1] ~= nil or next(t) == nil)
end

-- The values at names[i..] below v, appended to out (lists followed into each element).
local function collect(v, names, i, out)
  if v == nil then return end
  if is_list(v) and i <= #names then
    for _, el in ipairs(v) do collect(el, names, i, out) end
  elseif i > #names or type(v) ~= "table" then
    out[#out + 1] = v
  else
    collect(v[names[i]], names, i + 1, out)
  end
end

local function scalar_text(v)
  if v == nil or v == core.null then return "" end
  local t = type(v)
  if t == "number" then return json_line.number(v) end
  if t == "string" then return v end
  if t == "table" then
    if is_list(v) then
      local parts = {}
      for k, x in ipairs(v) do parts[k] = scalar_text(x) end
      return table.concat(parts, ";")
    end
    return json_line.encode(v) or "?"
  end
  return tostring(v)
end

--- The text of field `path` of `row`: lists joined with ";", objects as JSON, null empty.
function M.field_text(row, path)
  local values = {}
  collect(row, split_path(path), 1, values)
  if #values == 1 then return scalar_text(values[1]) end
  for k, v in ipairs(values) do values[k] = scalar_text(v) end
  return table.concat(values, ";")
end

-- Copies the part of `src` on names[i..] into `dst` (as the walk's projections do).
local function project_into(src, names, i, dst)
  local k = names[i]
  local v = src[k]
  if v == nil then return end
  if i == #names or type(v) ~= "table" then
    dst[k] = v
  elseif is_list(v) then
    dst[k] = dst[k] or {}
    for j, el in ipairs(v) do
      if type(el) == "table" then
        dst[k][j] = dst[k][j] or {}
        project_into(el, names, i + 1, dst[k][j])
      else
        dst[k][j] = el
      end
    end
  else
    dst[k] = dst[k] or {}
    project_into(v, names, i + 1, dst[k])
  end
end

--- The fields of `row` on `paths`, as a new table (for rows no walk projected).
function M.project(row, paths)
  if type(row) ~= "table" then return row end
  local out = {}
  for _, p in ipairs(paths) do project_into(row, split_path(p), 1, out) end
  return out
end

local function csv_cell(s)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- UTF-8 aware width and cut (code points; wide East Asian characters count as one).
local function width(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function cut(s, w)
  if width(s) <= w then return s end
  local out, n = {}, 0
  for ch in s:gmatch("[%z\1-\127\192-\255][\128-\191]*") do
    if n == w - 1 then break end
    out[#out + 1], n = ch, n + 1
  end
  return table.concat(out) .. "…"
end

local Writer = {}
Writer.__index = Writer

local function line_of(self, cells)
  local parts = {}
  for k, c in ipairs(cells) do
    local w = self.widths[k]
    c = cut(c, w)
    parts[k] = k < #cells and (c .. string.rep(" ", w - width(c))) or c
  end
  return table.concat(parts, "  ")
end

local function fix_widths(self)
  local widths = {}
  for k, name in ipairs(self.fields) do widths[k] = math.min(width(name), M.MAX_WIDTH) end
  for _, cells in ipairs(self.sample) do
    for k, c in ipairs(cells) do widths[k] = math.max(widths[k], math.min(width(c), M.MAX_WIDTH)) end
  end
  self.widths = widths
  local rule = {}
  for k, w in ipairs(widths) do rule[k] = string.rep("-", w) end
  self.stream:write(line_of(self, self.fields), "\n", line_of(self, rule), "\n")
  for _, cells in ipairs(self.sample) do self.stream:write(line_of(self, cells), "\n") end
  self.sample = nil
end

local function start(self)
  self.started = true
  if self.format == "csv" then
    local header = {}
    for k, f in ipairs(self.fields) do header[k] = csv_cell(f) end
    self.stream:write(table.concat(header, ","), "\r\n")
  elseif self.format == "table" then
    self.sample = {}
  end
end

--- Writes one row (the csv header before the first).
function Writer:row(row)
  local fmt, fields = self.format, self.fields
  if not self.started then start(self) end
  if fmt == "jsonl" then
    if fields and self.project then row = M.project(row, fields) end
    local text, why = json_line.encode(row)
    if not text then text = json_line.encode { error = "cannot encode this row as JSON: " .. tostring(why) } end
    self.stream:write(text, "\n")
  else
    local cells = {}
    for k, path in ipairs(fields) do cells[k] = M.field_text(row, path) end
    if fmt == "csv" then
      for k, c in ipairs(cells) do cells[k] = csv_cell(c) end
      self.stream:write(table.concat(cells, ","), "\r\n")
    else
      for k, c in ipairs(cells) do cells[k] = errors.visible(c) end
      if self.sample then
        self.sample[#self.sample + 1] = cells
        if #self.sample >= M.SAMPLE then fix_widths(self) end
      else
        self.stream:write(line_of(self, cells), "\n")
      end
    end
  end
  self.rows = self.rows + 1
end

--- Ends the output: the csv header or table of no rows, a table shorter than its sample.
function Writer:finish()
  if not self.started then start(self) end
  if self.sample then fix_widths(self) end
  if self.stream.flush then self.stream:flush() end
end

--- format: jsonl | csv | table; fields: a list of paths (required for csv and table);
--- opts.project: jsonl rows are cut to the fields here (rows no walk projected). Nothing
--- is written before the first row or finish(): a command that fails first writes nothing.
function M.writer(format, fields, stream, opts)
  return setmetatable({ format = format, fields = fields, stream = stream, rows = 0,
    project = opts and opts.project }, Writer)
end

return M
