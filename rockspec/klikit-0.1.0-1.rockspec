-- Install on Debian (README "Install"): `luarocks --lua-version 5.4 make` in a checkout,
-- after telling LuaRocks once that Debian's lua-cjson package provides lua-cjson:
--   luarocks --lua-version 5.4 config --scope user rocks_provided.lua-cjson 2.1.0-1
-- `make check-rock` does exactly this, offline, into a temporary tree.
rockspec_format = "3.0"
package = "klikit"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/klikit/klikit-lua.git",
  tag = "v0.1.0", -- the tag of this version: v<version without the rockspec revision>
}
description = {
  summary = "Client for the klikit Partner API (restaurant orders, brands, branches, menus)",
  detailed = [[
    A small C core (libcurl transport, HTTP Basic auth, klikit envelope decoding) under an
    idiomatic Lua API: a client object, one method per endpoint, paginating iterators, and
    errors keyed by a stable code.
  ]],
  homepage = "https://github.com/klikit/klikit-lua",
  issues_url = "https://github.com/klikit/klikit-lua/issues",
  license = "MIT",
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson >= 2.1.0",
}
-- libcurl and OpenSSL's libcrypto (HMAC-SHA256 for webhook signatures). LuaRocks looks for
-- libraries in <prefix>/lib, lib/<multiarch> (Debian: lib/x86_64-linux-gnu) and lib64, but
-- for headers only in <prefix>/include, while Debian keeps curl/curl.h in
-- /usr/include/x86_64-linux-gnu, where the compiler finds it by itself. So the libraries are
-- what is checked. Elsewhere, point LuaRocks at them: CURL_DIR=/opt/curl (or CURL_INCDIR=,
-- CURL_LIBDIR=; e.g. CURL_INCDIR="$(pkg-config --variable=includedir libcurl)"), and
-- CRYPTO_DIR= (CRYPTO_INCDIR=, CRYPTO_LIBDIR=) for OpenSSL.
external_dependencies = {
  CURL = { library = "curl" },
  CRYPTO = { library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["klikit.core"] = {
      sources = { "csrc/kk_buf.c", "csrc/kk_core.c", "csrc/kk_crypto.c", "csrc/kk_envelope.c", "csrc/kk_files.c", "csrc/kk_json.c",
        "csrc/kk_decode.c", "csrc/kk_decode_err.c", "csrc/kk_scan.c", "csrc/kk_project.c",
        "csrc/kk_headers.c", "csrc/kk_helpers.c", "csrc/kk_multi.c", "csrc/kk_stray.c", "csrc/kk_trace.c",
        "csrc/kk_transfer.c", "csrc/kk_transport.c", "csrc/kk_url.c" },
      defines = { "_DEFAULT_SOURCE" },
      libraries = { "curl", "crypto" },
      incdirs = { "$(CURL_INCDIR)", "$(CRYPTO_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(CRYPTO_LIBDIR)" },
    },
    ["klikit"] = "lua/klikit/init.lua",
    ["klikit.errors"] = "lua/klikit/errors.lua",
    ["klikit.util"] = "lua/klikit/util.lua",
    ["klikit.http.session"] = "lua/klikit/http/session.lua",
    ["klikit.http.options"] = "lua/klikit/http/options.lua",
    ["klikit.http.request"] = "lua/klikit/http/request.lua",
    ["klikit.http.json"] = "lua/klikit/http/json.lua",
    ["klikit.http.url"] = "lua/klikit/http/url.lua",
    ["klikit.http.redact"] = "lua/klikit/http/redact.lua",
    ["klikit.http.retry"] = "lua/klikit/http/retry.lua",
    ["klikit.http.ratelimit"] = "lua/klikit/http/ratelimit.lua",
    ["klikit.http.pager"] = "lua/klikit/http/pager.lua",
    ["klikit.http.page"] = "lua/klikit/http/page.lua",
    ["klikit.http.passes"] = "lua/klikit/http/passes.lua",
    ["klikit.http.page_number"] = "lua/klikit/http/page_number.lua",
    ["klikit.http.time_cursor"] = "lua/klikit/http/time_cursor.lua",
    ["klikit.http.cursor_state"] = "lua/klikit/http/cursor_state.lua",
    ["klikit.http.parallel_walk"] = "lua/klikit/http/parallel_walk.lua",
    ["klikit.http.runner"] = "lua/klikit/http/runner.lua",
    ["klikit.http.prefetch"] = "lua/klikit/http/prefetch.lua",
    ["klikit.http.fields"] = "lua/klikit/http/fields.lua",
    ["klikit.day"] = "lua/klikit/day.lua",
    ["klikit.types"] = "lua/klikit/types.lua",
    ["klikit.partner.client"] = "lua/klikit/partner/client.lua",
    ["klikit.partner.endpoints"] = "lua/klikit/partner/endpoints.lua",
    ["klikit.partner.orders"] = "lua/klikit/partner/orders.lua",
    ["klikit.partner.stores"] = "lua/klikit/partner/stores.lua",
    ["klikit.partner.menus"] = "lua/klikit/partner/menus.lua",
    ["klikit.partner.validate"] = "lua/klikit/partner/validate.lua",
    ["klikit.partner.enums"] = "lua/klikit/partner/enums.lua",
    ["klikit.transport.curl"] = "lua/klikit/transport/curl.lua",
    ["klikit.transport.ngx"] = "lua/klikit/transport/ngx.lua",
    ["klikit.transport.http1"] = "lua/klikit/transport/http1.lua",
    ["klikit.transport.select"] = "lua/klikit/transport/select.lua",
    ["klikit.transport.multi"] = "lua/klikit/transport/multi.lua",
    ["klikit.webhook"] = "lua/klikit/webhook/init.lua",
    ["klikit.webhook.handler"] = "lua/klikit/webhook/handler.lua",
    ["klikit.klar"] = "lua/klikit/klar/init.lua",
    ["klikit.klar.client"] = "lua/klikit/klar/client.lua",
    ["klikit.klar.verdict"] = "lua/klikit/klar/verdict.lua",
    ["klikit.klar.money"] = "lua/klikit/klar/money.lua",
    ["klikit.klar.lines"] = "lua/klikit/klar/lines.lua",
    ["klikit.klar.parties"] = "lua/klikit/klar/parties.lua",
    ["klikit.klar.mapping_options"] = "lua/klikit/klar/mapping_options.lua",
    ["klikit.klar.mapping"] = "lua/klikit/klar/mapping.lua",
    ["klikit.klar.export_state"] = "lua/klikit/klar/export_state.lua",
    ["klikit.klar.export"] = "lua/klikit/klar/export.lua",
    ["klikit.klar.progress"] = "lua/klikit/klar/progress.lua",
    ["klikit.cli.args"] = "lua/klikit/cli/args.lua",
    ["klikit.cli.env"] = "lua/klikit/cli/env.lua",
    ["klikit.cli.fail"] = "lua/klikit/cli/fail.lua",
    ["klikit.cli.format"] = "lua/klikit/cli/format.lua",
    ["klikit.cli"] = "lua/klikit/cli/init.lua",
    ["klikit.cli.json_line"] = "lua/klikit/cli/json_line.lua",
    ["klikit.cli.klar_dry_run"] = "lua/klikit/cli/klar_dry_run.lua",
    ["klikit.cli.listing"] = "lua/klikit/cli/listing.lua",
    ["klikit.cli.output"] = "lua/klikit/cli/output.lua",
    ["klikit.cli.progress"] = "lua/klikit/cli/progress.lua",
    ["klikit.cli.range"] = "lua/klikit/cli/range.lua",
    ["klikit.cli.totals"] = "lua/klikit/cli/totals.lua",
    ["klikit.cli.walk"] = "lua/klikit/cli/walk.lua",
    ["klikit.cli.cmd.branches"] = "lua/klikit/cli/cmd/branches.lua",
    ["klikit.cli.cmd.brands"] = "lua/klikit/cli/cmd/brands.lua",
    ["klikit.cli.cmd.count"] = "lua/klikit/cli/cmd/count.lua",
    ["klikit.cli.cmd.export_klar"] = "lua/klikit/cli/cmd/export_klar.lua",
    ["klikit.cli.cmd.help"] = "lua/klikit/cli/cmd/help.lua",
    ["klikit.cli.cmd.order"] = "lua/klikit/cli/cmd/order.lua",
    ["klikit.cli.cmd.orders"] = "lua/klikit/cli/cmd/orders.lua",
    ["klikit.cli.cmd.sandbox"] = "lua/klikit/cli/cmd/sandbox.lua",
    ["klikit.cli.cmd.set_status"] = "lua/klikit/cli/cmd/set_status.lua",
    ["klikit.cli.cmd.webhook"] = "lua/klikit/cli/cmd/webhook.lua",
  },
  -- the command: a launcher that finds its tree from its own location
  install = {
    bin = { klikit = "bin/klikit" },
  },
}
-- `luarocks test`: the suite under the Lua LuaRocks runs, against a local sandbox. It
-- installs nothing (no apt-get): what `make deps` lists must be there already.
-- `luarocks test -- spec/day_spec.lua` runs one spec.
test = {
  type = "command",
  script = "spec/support/luarocks_test.lua",
}
