--- klikit: a Lua client for the klikit Partner API.
--   local klikit = require("klikit")
--   local client = klikit.new{ partner_key = ..., secret_key = ..., env = "dev" }
local core = require("klikit.core")
local client = require("klikit.partner.client")
local errors = require("klikit.errors")
local json = require("klikit.http.json")
local enums = require("klikit.partner.enums")

return {
  VERSION = core.version,
  new = client.new,
  ENVIRONMENTS = client.ENVIRONMENTS,
  --- code -> { status, retryable (true | false | "by_status"), meaning, source, api }
  ---@type table<klikit.ErrorCode, klikit.ErrorEntry>
  errors = errors.codes,
  is_error = errors.is_error,
  --- JSON null inside arrays (object members that are null read as nil).
  null = core.null,
  --- Marks a table as a JSON array in request bodies, so an empty one is sent as [].
  array = json.array,
  --- Integer code tables: ORDER_STATUS, ORDER_TYPES, PROVIDERS, FULFILLMENT_STATUSES.
  enums = enums,
  --- A projection of list rows for klikit.core.decode_envelope's fourth argument:
  --- fields { "id", "created_at", "brands.title" }. An unusable list raises request_invalid.
  ---@param list string[]
  ---@return userdata projection
  fields = function(list) return require("klikit.http.fields").compile(list).projection end,
  --- from, to of a day in the business's time zone: day("2026-11-28", "+07:00"), day("today", "+07:00").
  ---@param date string "YYYY-MM-DD", "today" or "yesterday"
  ---@param utc_offset string "+07:00"
  ---@param now? number Unix seconds
  ---@return string from
  ---@return string to
  day = function(date, utc_offset, now) return require("klikit.day").day(date, utc_offset, now) end,
}
