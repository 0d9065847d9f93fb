--- `klikit branches`: the business's branches.
return require("klikit.cli.listing").new("branches", "branches", "List the business's branches",
  { "id", "title", "address", "phone", "brand_ids", "currency_code" }, [[
GET /branches, every page. Default columns (csv, table): id, title, address, phone,
brand_ids (joined with ;), currency_code.]])
