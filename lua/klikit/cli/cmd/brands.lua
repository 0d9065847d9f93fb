--- `klikit brands`: the business's brands.
return require("klikit.cli.listing").new("brands", "brands", "List the business's brands",
  { "id", "title", "business_id", "logo" }, [[
GET /brands (one request). Default columns (csv, table): id, title, business_id, logo.]])
