std = "lua54"
max_line_length = 120
files["spec"] = { std = "+busted" }
files["sandbox/lua"] = { std = "luajit", globals = { "ngx" } }
