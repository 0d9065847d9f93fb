--- Command-line arguments against a command's spec, and the help text made from it.
--   spec.options = { { "--from", arg = "TIME", help = "..." }, { "--quiet", short = "-q", flag = true },
--                    { "--format", arg = "FMT", choices = { "jsonl", "csv", "table" } } }
--   spec.args    = { { "ID", required = true }, ... }   positional, in order
-- parse(spec, argv, first) -> { from = "...", quiet = true, positional = { ... } }; raises a
-- usage error (exit 2) for an unknown option, a missing value, a bad choice, a positional
-- argument too many or too few. Credentials and base URLs are never taken as options.
local fail = require("klikit.cli.fail")

local M = {}

--- Options every command takes.
M.COMMON = {
  { "--help", short = "-h", flag = true, help = "show this help" },
  { "--json", flag = true, help = "errors on stderr as one JSON object {code, status, message, request_id}" },
  { "--quiet", short = "-q", flag = true, help = "no progress line" },
}

local function key_of(opt)
  return opt.key or opt[1]:sub(3):gsub("-", "_")
end

-- Options that look like credentials or endpoints: refused with where they belong.
local SECRET_WORDS = { "key", "secret", "token", "password", "passwd", "credential", "auth", "bearer" }

local function refuse_unknown(name, command)
  local lower = name:lower()
  for _, w in ipairs(SECRET_WORDS) do
    if lower:find(w, 1, true) then
      fail.usage(name .. ": credentials are never taken as arguments (they would show in `ps` and in shell"
        .. " history); set KLIKIT_PARTNER_KEY and KLIKIT_SECRET_KEY (KLAR_TOKEN for Klar) in the environment")
    end
  end
  if lower:find("url", 1, true) or lower:find("host", 1, true) or lower == "--env" then
    fail.usage(name .. ": the API's address comes from the environment: set KLIKIT_BASE_URL (or KLIKIT_ENV=dev|prod;"
      .. " KLAR_BASE_URL for Klar)")
  end
  fail.usage("unknown option " .. name .. (command and (" for " .. command) or ""))
end

local function index(spec)
  local by_name = {}
  for _, list in ipairs { M.COMMON, spec.options or {} } do
    for _, opt in ipairs(list) do
      by_name[opt[1]] = opt
      if opt.short then by_name[opt.short] = opt end
    end
  end
  return by_name
end

local function check_choice(opt, value)
  if not opt.choices then return end
  for _, c in ipairs(opt.choices) do
    if c == value then return end
  end
  fail.usage(opt[1] .. " must be one of " .. table.concat(opt.choices, ", ") .. ", got " .. value:sub(1, 40))
end

--- argv[first..#argv] against spec -> args. Raises a usage error.
function M.parse(spec, argv, first, command)
  local by_name, out, positional = index(spec), {}, {}
  local i, n, only_positional = first or 1, #argv, false
  while i <= n do
    local a = argv[i]
    if type(a) ~= "string" then fail.usage("arguments must be strings") end
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" then
      positional[#positional + 1] = a
    elseif a == "--" then
      only_positional = true
    else
      local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local opt = by_name[name]
      if not opt then refuse_unknown(name, command) end
      if opt.flag then
        if inline then fail.usage(name .. " takes no value") end
        out[key_of(opt)] = true
      else
        local value = inline
        if value == nil then
          value = argv[i + 1]
          -- a value may start with one dash (--tz -05:00), not with two
          if value == nil or value:sub(1, 2) == "--" then
            fail.usage(name .. " needs a value (" .. (opt.arg or "VALUE") .. ")")
          end
          i = i + 1
        end
        check_choice(opt, value)
        out[key_of(opt)] = value
      end
    end
    i = i + 1
  end
  if out.help then return out end
  local want = spec.args or {}
  for k, p in ipairs(want) do
    if p.required and positional[k] == nil then fail.usage("missing " .. p[1]) end
  end
  if #positional > #want and not spec.rest then
    fail.usage("unexpected argument " .. positional[#want + 1]:sub(1, 60))
  end
  out.positional = positional
  return out
end

local function pad(s, w)
  return s .. string.rep(" ", w - #s)
end

--- The help text of a command module: usage, summary, description, options.
function M.help(cmd)
  local lines = { "usage: " .. cmd.usage, "", cmd.summary }
  if cmd.help and cmd.help ~= "" then
    lines[#lines + 1] = ""
    lines[#lines + 1] = (cmd.help:gsub("%s+$", ""))
  end
  local rows, width = {}, 0
  for _, list in ipairs { cmd.options or {}, M.COMMON } do
    for _, opt in ipairs(list) do
      local left = (opt.short and (opt.short .. ", ") or "") .. opt[1] .. (opt.arg and (" " .. opt.arg) or "")
      rows[#rows + 1] = { left, opt.help or "" }
      if #left > width then width = #left end
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Options:"
  for _, r in ipairs(rows) do lines[#lines + 1] = "  " .. pad(r[1], width) .. "  " .. r[2] end
  return table.concat(lines, "\n") .. "\n"
end

return M
