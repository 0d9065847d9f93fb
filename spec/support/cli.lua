-- Runs the command-line tool in-process through require("klikit.cli").main(argv, io) with
-- fake streams, a fake environment (the sandbox's credentials unless replaced) and fake
-- terminals; and parsers for what it writes (JSON lines, CSV, tables).
local sandbox = require "support.sandbox"
local cjson = require "cjson.safe"
local core = require "klikit.core"

local M = {}

local function stream(buffer)
  return { write = function(_, ...)
    for i = 1, select("#", ...) do buffer[#buffer + 1] = tostring((select(i, ...))) end
  end, flush = function() end }
end

--- The sandbox's environment for the tool.
function M.env()
  sandbox.start()
  return { KLIKIT_PARTNER_KEY = sandbox.partner_key, KLIKIT_SECRET_KEY = sandbox.secret_key,
    KLIKIT_BASE_URL = sandbox.base_url, KLAR_TOKEN = sandbox.klar_token, KLAR_BASE_URL = sandbox.url .. "/klar" }
end

--- argv, opts { env = { K = V | false }, tty = { stdout = bool, stderr = bool }, stdin = "..." }
--- -> exit code, stdout text, stderr text
function M.run(argv, opts)
  opts = opts or {}
  local env = M.env()
  for k, v in pairs(opts.env or {}) do env[k] = v or nil end
  local out, err = {}, {}
  local stdout, stderr = stream(out), stream(err)
  local tty = opts.tty or {}
  local input = opts.stdin or ""
  local code = require("klikit.cli").main(argv, {
    stdout = stdout, stderr = stderr,
    stdin = { read = function() local s = input; input = ""; return s end },
    getenv = function(k) return env[k] end,
    isatty = function(s) return (s == stdout and tty.stdout == true) or (s == stderr and tty.stderr == true) end,
  })
  return code, table.concat(out), table.concat(err)
end

--- JSON lines -> list of decoded values, as the client decodes JSON (integers stay
--- integers); raises on a line that is not JSON.
function M.jsonl(text)
  local list = {}
  for line in text:gmatch("([^\n]*)\n") do
    local v, _, why = core.decode_json(line)
    assert(v ~= nil, "not JSON: " .. tostring(why) .. ": " .. line:sub(1, 200))
    list[#list + 1] = v
  end
  return list
end

--- RFC 4180 text -> list of records (lists of fields); checks every record ends in CRLF.
function M.csv(text)
  local records, fields, i, n = {}, {}, 1, #text
  local field = {}
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' and #field == 0 then
      local j = i + 1
      while true do
        local q = assert(text:find('"', j, true), "unterminated quoted field")
        if text:sub(q + 1, q + 1) == '"' then
          field[#field + 1] = text:sub(j, q)
          j = q + 2
        else
          field[#field + 1] = text:sub(j, q - 1)
          i = q + 1
          break
        end
      end
    elseif c == "," then
      fields[#fields + 1] = table.concat(field)
      field = {}
      i = i + 1
    elseif c == "\r" then
      assert(text:sub(i + 1, i + 1) == "\n", "a bare CR outside quotes")
      fields[#fields + 1] = table.concat(field)
      records[#records + 1] = fields
      fields, field = {}, {}
      i = i + 2
    else
      assert(c ~= "\n", "a bare LF outside quotes (records end in CRLF)")
      field[#field + 1] = c
      i = i + 1
    end
  end
  assert(#fields == 0 and #field == 0, "the last record does not end in CRLF")
  return records
end

--- A table written for a terminal -> header names, rows (lists of trimmed cells); the
--- columns are read from the rule line of dashes under the header.
function M.table(text)
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local spans, pos = {}, 1
  while true do
    local s, e = lines[2]:find("%-+", pos)
    if not s then break end
    spans[#spans + 1] = { s, e }
    pos = e + 1
  end
  -- cells are cut by characters, not bytes: split on the column starts counted in characters
  local function cells(line)
    local chars = {}
    for ch in line:gmatch("[%z\1-\127\194-\244][\128-\191]*") do chars[#chars + 1] = ch end
    local out = {}
    for k, span in ipairs(spans) do
      local last = spans[k + 1] and (spans[k + 1][1] - 1) or #chars
      out[k] = table.concat(chars, "", span[1], math.min(last, #chars)):match("^%s*(.-)%s*$")
    end
    return out
  end
  local rows = {}
  for k = 3, #lines do rows[#rows + 1] = cells(lines[k]) end
  return cells(lines[1]), rows
end

--- The last line of stderr, decoded (for --json).
function M.json_error(text)
  local line = text:match("([^\n]*)\n$")
  return assert(cjson.decode(line), "stderr is not one JSON object: " .. text)
end

return M
