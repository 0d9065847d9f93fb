--- Exit codes and errors of the command-line tool. Every error goes to stderr as one line
-- (tostring of a klikit error: code, message, HTTP status, request_id, secrets redacted),
-- or with --json as one JSON object {code, status, message, request_id}.
local errors = require("klikit.errors")
local cjson = require("cjson.safe").new()

local M = {}

M.OK = 0      -- done
M.API = 1     -- an API or network error (or invalid signature, for webhook verify)
M.USAGE = 2   -- the command line is wrong, or the environment lacks what it needs
M.PARTIAL = 3 -- some of the work was done: a walk that failed after writing output, an
              -- export that failed after Klar stored batches or ended with orders pending

local Usage = { __tostring = function(e) return e.message end }

--- Raises a usage error (exit code 2) with a message for the user.
function M.usage(message)
  error(setmetatable({ code = "usage", message = errors.visible(message) }, Usage), 0)
end

function M.is_usage(e)
  return getmetatable(e) == Usage
end

--- The exit code for an error: 2 for usage errors and for arguments the library refused
--- before sending anything (request_invalid without an HTTP status), else 1.
function M.exit_code(err)
  if M.is_usage(err) then return M.USAGE end
  if type(err) == "table" and err.code == "request_invalid" and err.status == nil then return M.USAGE end
  return M.API
end

local function json_value(v)
  if v == nil then return cjson.null end
  return v
end

--- Writes `err` to ctx.err: one line, or one JSON object with --json. `extra`: fields added
--- to the JSON object and, as "(k v, ...)", to the line (e.g. { written = 100 }).
function M.report(ctx, err, extra, command)
  local obj
  if M.is_usage(err) then
    obj = { code = "usage", message = err.message }
  elseif errors.is_error(err) then
    obj = { code = err.code, status = err.status, message = err.message, request_id = err.request_id }
  else -- a bug: still one line
    obj = { code = "internal", message = "internal error (please report): " .. errors.visible(tostring(err)) }
  end
  if ctx.json then
    local out = { code = obj.code, status = json_value(obj.status), message = json_value(obj.message),
      request_id = json_value(obj.request_id) }
    for k, v in pairs(extra or {}) do out[k] = v end
    ctx.err:write((cjson.encode(out) or '{"code":"internal"}'), "\n")
    return
  end
  local line
  if M.is_usage(err) then
    line = "klikit" .. (command and (" " .. command) or "") .. ": " .. err.message
      .. " (see: klikit " .. (command and (command .. " ") or "") .. "--help)"
  elseif errors.is_error(err) then
    line = tostring(err)
  else
    line = "klikit: " .. obj.message
  end
  local notes = {}
  for k, v in pairs(extra or {}) do notes[#notes + 1] = k .. " " .. tostring(v) end
  table.sort(notes)
  if #notes > 0 then line = line .. " (" .. table.concat(notes, ", ") .. ")" end
  ctx.err:write((line:gsub("[\r\n]", " ")), "\n")
end

return M
