--- Making text safe to show: secrets removed, length bounded, invisible and
-- line-forging characters escaped. Used for everything that came from a server (error
-- fields, request ids, log lines) before it reaches an error, a log or tostring.
local M = {}

M.MAX_TEXT = 512      -- bytes kept of one server-supplied string (message, request_id, code, ...)
M.MAX_LINE = 4096     -- bytes kept of one log line
M.MAX_DETAILS = 200   -- values kept of an error's details (depth at most 8)

M.MIN_TAIL = 4 -- the shortest start of a secret redacted at the end of a cut text

-- A text cut short (a body excerpt, "..." at its end) may end in the first bytes of a
-- secret: those are redacted too.
local function scrub_tail(text, needle)
  local body = text:sub(-3) == "..." and text:sub(1, -4) or text
  local first = needle:byte(1)
  for p = math.max(1, #body - #needle + 2), #body - M.MIN_TAIL + 1 do
    if body:byte(p) == first and body:sub(p) == needle:sub(1, #body - p + 1) then
      return body:sub(1, p - 1) .. "[redacted]" .. text:sub(#body + 1)
    end
  end
  return text
end

--- Replaces every occurrence of each needle by [redacted], and a start of one at the end
-- of the text. One scan per needle, pieces joined once: linear in the length of `text`,
-- however many occurrences it holds.
function M.scrub(text, needles)
  if type(text) ~= "string" then return text end
  for _, needle in ipairs(needles or {}) do
    if #needle > 0 then text = scrub_tail(text, needle) end
    if #needle > 0 and text:find(needle, 1, true) then
      local parts, n, pos = {}, 0, 1
      while true do
        local i, j = text:find(needle, pos, true)
        if not i then break end
        parts[n + 1], parts[n + 2] = text:sub(pos, i - 1), "[redacted]"
        n, pos = n + 2, j + 1
      end
      parts[n + 1] = text:sub(pos)
      text = table.concat(parts)
    end
  end
  return text
end

--- At most `max` bytes of `text` (never cutting a UTF-8 sequence), then a marker.
function M.clip(text, max)
  max = max or M.MAX_TEXT
  if type(text) ~= "string" or #text <= max then return text end
  local cut = max
  while cut > 0 and text:byte(cut + 1) and text:byte(cut + 1) >= 0x80 and text:byte(cut + 1) < 0xC0 do
    cut = cut - 1
  end
  return text:sub(1, cut) .. string.format("...[%d more bytes]", #text - cut)
end

local ESCAPES = { ["\r"] = "\\r", ["\n"] = "\\n", ["\t"] = "\\t", ["\0"] = "\\0" }

local function hex(c) return ESCAPES[c] or string.format("\\x%02X", c:byte()) end

-- Code points that reorder, hide or break lines: C1 controls, Arabic letter mark, zero
-- widths and marks (U+200B-200F), line and paragraph separators and bidi embeddings and
-- overrides (U+2028-202E), word joiner to bidi isolates (U+2060-2069), the BOM.
local function codepoint(s)
  local a, b, c = s:byte(1, 3)
  local cp
  if #s == 2 then cp = (a - 0xC0) * 64 + (b - 0x80) else cp = ((a - 0xE0) * 64 + (b - 0x80)) * 64 + (c - 0x80) end
  return string.format("\\u%04X", cp)
end
local UNSAFE = { "\194[\128-\159]", "\216\156", "\226\128[\139-\143]", "\226\128[\168-\174]",
  "\226\129[\160-\169]", "\239\187\191" }

-- Bytes that are not part of well-formed UTF-8 (a C1 control in Latin-1, say).
local function escape_malformed(text)
  local out, n, i, len = {}, 0, 1, #text
  while i <= len do
    local c = text:byte(i)
    local need = c < 0x80 and 0 or (c >= 0xC2 and c <= 0xDF and 1) or (c >= 0xE0 and c <= 0xEF and 2)
      or (c >= 0xF0 and c <= 0xF4 and 3) or nil
    local ok = need ~= nil
    for k = 1, need or 0 do
      local d = text:byte(i + k)
      if not d or d < 0x80 or d > 0xBF then ok = false break end
    end
    n = n + 1
    if ok then
      out[n] = text:sub(i, i + need)
      i = i + need + 1
    else
      out[n] = string.format("\\x%02X", c)
      i = i + 1
    end
  end
  return table.concat(out)
end

--- Control characters, malformed UTF-8 and the invisible code points above as escapes:
--- text that echoes a server or a caller cannot forge or hide lines in a log.
function M.visible(text)
  text = text:gsub("%c", hex)
  if not text:find("[\128-\255]") then return text end
  text = escape_malformed(text)
  for _, pattern in ipairs(UNSAFE) do text = text:gsub(pattern, codepoint) end
  return text
end

--- A server-supplied value made safe to keep in an error: strings scrubbed and clipped,
-- tables copied to at most MAX_DETAILS values and 8 levels (keys scrubbed too).
function M.value(v, needles, budget, depth)
  if type(v) == "string" then return M.clip(M.scrub(v, needles)) end
  if type(v) ~= "table" then return v end
  budget = budget or { left = M.MAX_DETAILS }
  depth = depth or 1
  if depth > 8 then return "[nested too deep]" end
  local out = {}
  for k, x in pairs(v) do
    if budget.left <= 0 then
      out["[truncated]"] = true
      break
    end
    budget.left = budget.left - 1
    out[type(k) == "string" and M.clip(M.scrub(k, needles), 128) or k] = M.value(x, needles, budget, depth + 1)
  end
  return out
end

return M
