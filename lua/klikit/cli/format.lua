--- The --format and --fields options every listing command shares, and the writer they
-- choose: the default format is a table when stdout is a terminal, else JSON lines.
local output = require("klikit.cli.output")
local fail = require("klikit.cli.fail")

local M = {}

M.OPTIONS = {
  { "--format", arg = "FMT", choices = output.FORMATS,
    help = "jsonl, csv or table (default: table on a terminal, else jsonl)" },
  { "--fields", arg = "LIST", help = "comma-separated fields, dotted paths (id,created_at,brands.title)" },
}

--- format, fields for the command line; `default_fields`: the columns of csv and table
--- when --fields is not given (jsonl then writes whole rows).
function M.choose(ctx, args, default_fields)
  local format = args.format or (ctx.isatty(ctx.out) == true and "table" or "jsonl")
  local fields
  if args.fields then
    fields = output.split_fields(args.fields)
    if #fields == 0 then fail.usage("--fields needs at least one field name") end
    for _, f in ipairs(fields) do
      if not f:find("^[%w_]+[%w_.]*$") or f:find("%.%.") or f:find("%.$") then
        fail.usage("--fields: " .. f:sub(1, 60) .. " is not a dotted path (letters, digits, _ and .)")
      end
    end
  elseif format ~= "jsonl" then
    fields = default_fields
  end
  return format, fields, args.fields ~= nil
end

--- A writer on ctx.out. project: cut jsonl rows to the fields here (no walk did).
function M.writer(ctx, format, fields, project)
  return output.writer(format, fields, ctx.out, { project = project })
end

--- The answer of a one-object call (`value, err`) as one row -> exit code; a failure is
--- reported on stderr instead.
function M.one(ctx, format, fields, project, value, err)
  if value == nil then
    fail.report(ctx, err)
    return fail.exit_code(err)
  end
  local writer = M.writer(ctx, format, fields, project)
  writer:row(value)
  writer:finish()
  return fail.OK
end

return M
