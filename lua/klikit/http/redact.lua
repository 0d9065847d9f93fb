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

-- Code points that reorder, hide or break lines: C1 controls, soft hyphen, combining
-- grapheme joiner, Arabic letter mark, Mongolian vowel separator, zero widths and marks
-- (U+200B-200F), line and paragraph separators and bidi embeddings and overrides
-- (U+2028-202E), word joiner to the deprecated format controls (U+2060-206F), variation
-- selectors (U+FE00-FE0F, U+E0100-E01EF), the BOM, interlinear annotations (U+FFF9-FFFB)
-- and tag characters (U+E0000-E007F, which can carry hidden ASCII).
local function codepoint(s)
  local a, b, c, d = s:byte(1, 4)
  local cp
  if #s == 2 then cp = (a - 0xC0) * 64 + (b - 0x80)
  elseif #s == 3 then cp = ((a - 0xE0) * 64 + (b - 0x80)) * 64 + (c - 0x80)
  else cp = (((a - 0xF0) * 64 + (b - 0x80)) * 64 + (c - 0x80)) * 64 + (d - 0x80) end
  return string.format("\\u%04X", cp)
end
local UNSAFE = { "\194[\128-\159]", "\194\173", "\205\143", "\216\156", "\225\160\142", "\226\128[\139-\143]",
  "\226\128[\168-\174]", "\226\129[\160-\175]", "\239\184[\128-\143]", "\239\187\191", "\239\191[\185-\187]",
  "\243\160[\128-\129][\128-\191]", "\243\160[\132-\135][\128-\191]" }

-- Bytes that are not well-formed UTF-8 (RFC 3629): stray continuation bytes, overlong
-- forms, surrogates, code points past U+10FFFF, truncated sequences.
local function escape_malformed(text)
  local out, n, i, len = {}, 0, 1, #text
  while i <= len do
    local c = text:byte(i)
    local need, lo, hi = nil, 0x80, 0xBF -- continuation bytes; lo/hi bound the first one
    if c < 0x80 then need = 0
    elseif c >= 0xC2 and c <= 0xDF then need = 1
    elseif c == 0xE0 then need, lo = 2, 0xA0
    elseif c == 0xED then need, hi = 2, 0x9F
    elseif c >= 0xE1 and c <= 0xEF then need = 2
    elseif c == 0xF0 then need, lo = 3, 0x90
    elseif c == 0xF4 then need, hi = 3, 0x8F
    elseif c >= 0xF1 and c <= 0xF3 then need = 3 end
    local ok = need ~= nil
    for k = 1, need or 0 do
      local d = text:byte(i + k)
      local min, max = k == 1 and lo or 0x80, k == 1 and hi or 0xBF
      if not d or d < min or d > max then ok = false break end
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

--- A server-supplied string made safe to keep or show: credentials removed, then cut to
--- `max` bytes (default MAX_TEXT), then invisible and line-forging characters escaped
--- (and cut again if the escapes made it much longer).
function M.safe(text, needles, max)
  if type(text) ~= "string" then return text end
  max = max or M.MAX_TEXT
  local out = M.visible(M.clip(M.scrub(text, needles), max))
  if #out > max + 32 then out = M.clip(out, max) end
  return out
end

--- A server-supplied value made safe to keep in an error: strings scrubbed and clipped,
-- tables copied to at most MAX_DETAILS values and 8 levels (keys scrubbed too).
function M.value(v, needles, budget, depth)
  if type(v) == "string" then return M.safe(v, needles) end
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
    out[type(k) == "string" and M.safe(k, needles, 128) or k] = M.value(x, needles, budget, depth + 1)
  end
  return out
end

return M
