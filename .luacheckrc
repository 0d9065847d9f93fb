std = "lua54"
max_line_length = 120
files["spec"] = { std = "+busted" }
files["sandbox/lua"] = { std = "luajit", globals = { "ngx" } }
-- the library runs on Lua 5.1, 5.3, 5.4 and LuaJIT: only what all of them have
files["lua"] = { std = "min" }
files["bin/klikit"] = { std = "min" }
-- inside nginx only: the cosocket transport, its selection, and the webhook receiver
files["lua/klikit/transport"] = { std = "min", read_globals = { "ngx" } }
files["lua/klikit/webhook"] = { std = "min", globals = { "ngx" } }
files["lua/klikit/http/runner.lua"] = { std = "min", read_globals = { "ngx" } }
files["examples/openresty"] = { std = "luajit", globals = { "ngx" } }
files["spec/support/openresty"] = { std = "luajit", globals = { "ngx" } }
-- the bench server runs inside nginx (LuaJIT); its encoder runs under LuaJIT or Lua 5.4
files["bench/server"] = { std = "luajit", globals = { "ngx" } }
-- LuaLS definitions (---@meta): empty method stubs, long annotation lines
files["lua/klikit/types.lua"] = { std = "min", ignore = { "21.", "24." }, max_comment_line_length = false }
