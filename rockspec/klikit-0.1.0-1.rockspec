rockspec_format = "3.0"
package = "klikit"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/klikit/klikit-lua.git",
  tag = "v0.1.0",
}
description = {
  summary = "Client for the klikit Partner API (restaurant orders, brands, branches, menus)",
  detailed = [[
    A small C core (libcurl transport, HTTP Basic auth, klikit envelope decoding) under an
    idiomatic Lua API: a client object, one method per endpoint, paginating iterators, and
    errors keyed by a stable code.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson >= 2.1.0",
}
external_dependencies = {
  CURL = { header = "curl/curl.h" },
}
build = {
  type = "builtin",
  modules = {
    ["klikit.core"] = {
      sources = { "csrc/kk_buf.c", "csrc/kk_core.c", "csrc/kk_envelope.c",
        "csrc/kk_headers.c", "csrc/kk_helpers.c", "csrc/kk_trace.c",
        "csrc/kk_transport.c", "csrc/kk_url.c" },
      defines = { "_DEFAULT_SOURCE" },
      libraries = { "curl" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
    ["klikit"] = "lua/klikit/init.lua",
    ["klikit.client"] = "lua/klikit/client.lua",
    ["klikit.body"] = "lua/klikit/body.lua",
    ["klikit.retry"] = "lua/klikit/retry.lua",
    ["klikit.ratelimit"] = "lua/klikit/ratelimit.lua",
    ["klikit.enums"] = "lua/klikit/enums.lua",
    ["klikit.orders"] = "lua/klikit/orders.lua",
    ["klikit.stores"] = "lua/klikit/stores.lua",
    ["klikit.menus"] = "lua/klikit/menus.lua",
    ["klikit.errors"] = "lua/klikit/errors.lua",
    ["klikit.pager"] = "lua/klikit/pager.lua",
    ["klikit.page"] = "lua/klikit/page.lua",
    ["klikit.passes"] = "lua/klikit/passes.lua",
    ["klikit.cursor"] = "lua/klikit/cursor.lua",
    ["klikit.url"] = "lua/klikit/url.lua",
    ["klikit.redact"] = "lua/klikit/redact.lua",
    ["klikit.util"] = "lua/klikit/util.lua",
    ["klikit.transport.curl"] = "lua/klikit/transport/curl.lua",
  },
}
test = {
  type = "command",
  command = "make test",
}
