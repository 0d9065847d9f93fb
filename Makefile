# klikit: Lua module with a C core. `make help` lists the targets.
SHELL := /bin/bash
LUA_VERSION  ?= 5.4
PKG_CONFIG   ?= pkg-config
# LUA_VERSION=jit builds for LuaJIT (the Lua of OpenResty), which loads 5.1 modules.
ifeq ($(LUA_VERSION),jit)
LUA          ?= luajit
LUA_PC       ?= luajit
LUA_ABI      := 5.1
else
LUA          ?= lua$(LUA_VERSION)
LUA_PC       ?= $(shell $(PKG_CONFIG) --exists lua$(LUA_VERSION) && echo lua$(LUA_VERSION) || echo lua)
LUA_ABI      := $(LUA_VERSION)
endif
LUA_INCDIR   ?= $(patsubst -I%,%,$(filter -I%,$(shell $(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null)))
CURL_CFLAGS  ?= $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS    ?= $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
# libcrypto (HMAC-SHA256 for webhook signatures): OpenSSL's, which libcurl's build loads anyway
CRYPTO_LIBS  ?= $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
LIBS         := $(CURL_LIBS) $(CRYPTO_LIBS)
CC           ?= cc
CFLAGS       ?= -O2 -g
WARN         ?= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
LIBFLAG      ?= -shared
PREFIX       ?= /usr/local
BUILD        ?= build/$(LUA_VERSION)
BUSTED       ?= /usr/bin/busted
DEMO_MONTH   ?= 2026-06
VERSION      := $(shell sed -n 's/^\#define KK_VERSION "\(.*\)"/\1/p' csrc/kk_internal.h)
ROCKSPEC     := rockspec/klikit-$(VERSION)-1.rockspec

# The suite runner shared by test, valgrind and asan (busted with the summary line CI reads).
SPEC_RUN = $(LUA) $(BUSTED) -o spec/support/summary_output.lua
SRCS := $(wildcard csrc/*.c)
HDRS := $(wildcard csrc/*.h)
LUA_SRCS := $(shell find lua -name '*.lua' | sort)
MODULE := $(BUILD)/klikit/core.so
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=c99 -D_DEFAULT_SOURCE -fPIC -fvisibility=hidden \
             $(addprefix -I,$(LUA_INCDIR)) $(CURL_CFLAGS)

# The module never links liblua: the host interpreter provides the Lua API.
$(MODULE): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIBFLAG) -o $@ $(SRCS) $(LIBS) $(LDFLAGS)

.PHONY: all build install deps deps-dev check-rock doc test test-suite test-every-lua test-parallel test-openresty test-long sandbox demo bench asan fuzz clang-tidy cppcheck valgrind check-c check-symbols lint clean help
all build: $(MODULE)

help:
	@echo "make            build $(MODULE) for Lua $(LUA_VERSION)"
	@echo "make deps       apt-get install the Debian packages the build, demo and tests need (when missing)"
	@echo "make deps-dev   deps, and what the development checks add (clang, valgrind, cppcheck, luacheck, LDoc, LuaRocks)"
	@echo "make test       build and run the busted suite against a local sandbox (walk specs on every Lua)"
	@echo "make test-suite LUA_VERSION=5.1|5.3|5.4|jit   the whole suite under one Lua"
	@echo "make test-every-lua LUA_VERSION=...   the walk, Klar, webhook, command-line and core specs under one Lua"
	@echo "make test-parallel    the walk specs with every walk a parallel walk (2 and 8 slices)"
	@echo "make test-openresty   the OpenResty group: klikit inside nginx through cosockets"
	@echo "make test-long  the model-based walk spec over 2,000 more seeds; the command's RSS over 100,000 orders"
	@echo "make demo       build, start the sandbox, run examples/quickstart.lua, examples/export_to_klar.lua and klikit (the command), stop it"
	@echo "make sandbox    run the sandbox in the foreground (prints URL and credentials)"
	@echo "make install PREFIX=DIR   LuaRocks-tree layout under DIR, the command DIR/bin/klikit, the sandbox in DIR/share/klikit"
	@echo "make bench      klikit's walk beside libcurl+cjson and luasocket+cjson, as paired ratios (BENCH_QUICK=1: smoke run)"
	@echo "make asan       the suite against an ASan+UBSan build of the C core"
	@echo "make valgrind   the suite under valgrind (no leaks, no invalid accesses)"
	@echo "make fuzz       libFuzzer+ASan+UBSan over envelope, decoder and header parsing (FUZZ_SECONDS=$(FUZZ_SECONDS))"
	@echo "make clang-tidy / make cppcheck   static analysis of csrc/ (any warning fails)"
	@echo "make check-c    -Werror builds with gcc and clang against Lua 5.4, 5.3, 5.1 and LuaJIT 2.1"
	@echo "make check-rock luarocks --lua-version 5.4 make of a clean copy, offline, into a temporary tree"
	@echo "make doc        the LDoc reference of the public API into build/doc (any warning fails)"
	@echo "make lint       luacheck"

# The command (bin/klikit) gets a shebang for the Lua it was built for; it finds the tree
# from its own location. The sandbox goes to share/klikit/sandbox (`klikit sandbox`).
LUA_BIN      ?= $(shell command -v $(LUA) 2>/dev/null || echo /usr/bin/env $(LUA))
SANDBOX_SRCS := sandbox/sandboxctl sandbox/nginx.conf.in $(wildcard sandbox/lua/klikit_sandbox/*.lua)
install: $(MODULE)
	@test -n "$(PREFIX)" || { echo "PREFIX is empty"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_ABI)/klikit
	install -m 755 $(MODULE) $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_ABI)/klikit/core.so
	@for f in $(LUA_SRCS); do \
	  dest=$(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)/$${f#lua/}; \
	  install -d "$$(dirname "$$dest")" && install -m 644 "$$f" "$$dest" || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/bin
	sed '1s|.*|#!$(LUA_BIN)|' bin/klikit > $(DESTDIR)$(PREFIX)/bin/klikit
	chmod 755 $(DESTDIR)$(PREFIX)/bin/klikit
	@for f in $(SANDBOX_SRCS); do \
	  dest=$(DESTDIR)$(PREFIX)/share/klikit/$$f; \
	  install -d "$$(dirname "$$dest")" && install -m $$([ -x "$$f" ] && echo 755 || echo 644) "$$f" "$$dest" || exit 1; \
	done
	@echo "installed klikit into $(DESTDIR)$(PREFIX) (the command: $(DESTDIR)$(PREFIX)/bin/klikit)"

# What the build, `make demo` and `make test` need (the sandbox is nginx + lua-nginx-module;
# the suite runs under Lua 5.4, 5.1, 5.3 and LuaJIT; nm for the symbol spec; luasocket for
# the hostile server).
DEB_PACKAGES := lua5.4 liblua5.4-dev lua-cjson lua-busted libcurl4-openssl-dev libssl-dev pkg-config gcc make \
                lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev luajit2 \
                nginx-light libnginx-mod-http-lua lua-resty-core libluajit2-5.1-dev openssl \
                lua-socket binutils
# What the development checks add: valgrind, ASan/UBSan and libFuzzer (clang and its
# runtimes), cppcheck, clang-tidy, luacheck, LDoc and LuaRocks (make check-rock).
DEB_PACKAGES_DEV := valgrind clang libclang-rt-14-dev clang-tidy cppcheck lua-check lua-ldoc luarocks

# $(call apt_install,TARGET,PACKAGES): apt-get install the PACKAGES that are missing.
define apt_install
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "$(1): not a Debian system; install the equivalents of: $(2)"; exit 0; fi; \
	missing=""; for p in $(2); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "$(1): installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	else echo "$(1): all Debian packages present"; fi
endef

# demo and test need these only; the development checks need deps-dev (which includes them).
deps:
	$(call apt_install,deps,$(DEB_PACKAGES))

deps-dev: deps
	$(call apt_install,deps-dev,$(DEB_PACKAGES_DEV))

# Everything the suite prints is kept and searched for the test secrets afterwards. The
# whole suite runs under Lua $(LUA_VERSION); the walk, decoder, Klar, webhook, command-line
# and core specs under the other Luas (LuaJIT, 5.1, 5.3: busted's Debian package runs on
# each, `luajit /usr/bin/busted`, `lua5.1 /usr/bin/busted`); then the parallel walks and the
# OpenResty group. The whole suite under LuaJIT is `make test-suite LUA_VERSION=jit` (CI runs
# it too). The last line sums all.
EVERY_LUA_SPECS := spec/walks_spec.lua spec/walk_servers_spec.lua spec/walk_model_spec.lua \
                   spec/klar_mapping_spec.lua spec/klar_client_spec.lua spec/klar_export_spec.lua \
                   spec/core_spec.lua spec/errors_spec.lua spec/client_spec.lua spec/webhook_spec.lua \
                   spec/transport_curl_spec.lua spec/parallel_walk_spec.lua spec/multi_spec.lua \
                   spec/cli_spec.lua spec/cli_commands_spec.lua spec/cli_output_spec.lua \
                   spec/decode_spec.lua spec/fields_spec.lua spec/day_spec.lua
# The specs run again with every request through klikit.transport.ngx inside nginx.
THROUGH_NGX_SPECS := spec/walks_spec.lua spec/walk_servers_spec.lua spec/walk_model_spec.lua \
                     spec/writes_spec.lua spec/retry_spec.lua spec/order_status_spec.lua spec/resume_spec.lua
OTHER_LUAS   ?= $(filter-out $(LUA_VERSION),jit 5.1 5.3 5.4)
TEST_LOGS     = $(BUILD)/test-output.log \
                $(foreach v,$(OTHER_LUAS),build/$(v)/test-every-lua.log) $(BUILD)/test-parallel.log \
                $(BUILD)/test-openresty.log
test: deps
	@$(MAKE) --no-print-directory $(MODULE)
	@set -o pipefail; KLIKIT_BUILD=$(BUILD) $(SPEC_RUN) --exclude-tags=openresty,long $(BUSTED_ARGS) \
	  2>&1 | tee $(BUILD)/test-output.log || true
	@for v in $(OTHER_LUAS); do \
	  $(MAKE) --no-print-directory LUA_VERSION=$$v build >/dev/null || exit 1; \
	  WALK_SEEDS=60 $(MAKE) --no-print-directory LUA_VERSION=$$v test-every-lua 2>&1 | tee build/$$v/test-every-lua.log; \
	done; true
	@$(MAKE) --no-print-directory test-parallel 2>&1 | tee $(BUILD)/test-parallel.log; true
	@$(MAKE) --no-print-directory test-openresty 2>&1 | tee $(BUILD)/test-openresty.log; true
	@spec/support/check-no-secrets $(TEST_LOGS)
	@spec/support/sum-results $(TEST_LOGS)

# The whole suite (but the OpenResty group) under Lua $(LUA_VERSION), without the rest of `make test`.
test-suite: $(MODULE)
	@KLIKIT_BUILD=$(BUILD) $(SPEC_RUN) --exclude-tags=openresty,long $(BUSTED_ARGS)

# The walk, Klar, webhook, command-line and core specs alone, under Lua $(LUA_VERSION)
# (WALK_SEEDS: model seeds, default 200).
test-every-lua: $(MODULE)
	@echo "== walk, decoder, Klar, webhook, command-line and core specs under $$($(LUA) -e 'print(type(jit) == "table" and jit.version or _VERSION)')"
	@KLIKIT_BUILD=$(BUILD) KLIKIT_DECODE_DOCS=$${KLIKIT_DECODE_DOCS:-3000} $(SPEC_RUN) $(EVERY_LUA_SPECS)

# The hostile-server, model-based and resume walk specs again, every walk a parallel walk
# of 2 and of 8 slices (spec/support/walk.lua reads WALK_CONCURRENCY).
test-parallel: $(MODULE)
	@failed=0; for k in 2 8; do \
	  echo "== walk specs as parallel walks of $$k slices"; \
	  KLIKIT_BUILD=$(BUILD) WALK_CONCURRENCY=$$k WALK_SEEDS=50 $(SPEC_RUN) spec/walk_servers_spec.lua \
	    spec/walk_model_spec.lua spec/resume_spec.lua || failed=1; \
	done; exit $$failed

# The OpenResty group: nginx with lua-nginx-module and klikit installed for LuaJIT; the
# transport contract, 20 concurrent calls, a walk under chaos, 100 webhook deliveries and
# TLS through cosockets; then the walk, write and retry specs with every request through
# klikit.transport.ngx (the spec process drives, nginx does the I/O).
test-openresty: $(MODULE)
	@echo "== OpenResty group (nginx + lua-nginx-module, klikit for LuaJIT)"; failed=0; \
	KLIKIT_BUILD=$(BUILD) $(SPEC_RUN) --tags=openresty spec/openresty_spec.lua || failed=1; \
	echo "== walk, write and retry specs through klikit.transport.ngx inside nginx"; \
	KLIKIT_BUILD=$(BUILD) KLIKIT_SPEC_TRANSPORT=ngx WALK_SEEDS=50 $(SPEC_RUN) $(THROUGH_NGX_SPECS) || failed=1; \
	exit $$failed

# The long run CI adds: the model-based walk spec over 2,000 more seeds, and the
# command's peak RSS over 100,000 orders (specs tagged #long, which `make test` skips).
test-long: deps
	@$(MAKE) --no-print-directory $(MODULE)
	KLIKIT_BUILD=$(BUILD) WALK_SEED=201 WALK_SEEDS=2000 $(SPEC_RUN) spec/walk_model_spec.lua
	KLIKIT_BUILD=$(BUILD) $(SPEC_RUN) --tags=long spec/cli_rss_spec.lua

valgrind: deps-dev
	@$(MAKE) --no-print-directory $(MODULE)
	KLIKIT_BUILD=$(BUILD) KLIKIT_UNDER_VALGRIND=1 WALK_SEEDS=20 valgrind -q --error-exitcode=99 --leak-check=full \
	  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	  --suppressions=spec/support/valgrind.supp \
	  $(SPEC_RUN) --exclude-tags=rss,timing,openresty,long $(BUSTED_ARGS)

sandbox: deps
	sandbox/sandboxctl run

LUA_ENV = LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" LUA_CPATH="$(CURDIR)/$(BUILD)/?.so;;"
# The quickstart, then the nightly Klar export of every sandbox order to the fake Klar, then
# the command-line tool, installed into a temporary tree: a month's totals by brand and
# one day's orders.
DEMO_TZ      ?= +07:00
demo: deps
	@$(MAKE) --no-print-directory $(MODULE)
	@state=$$(mktemp -d) && trap 'rm -rf "$$state"' EXIT && \
	$(MAKE) --no-print-directory install PREFIX="$$state/prefix" >/dev/null && \
	$(LUA_ENV) sandbox/sandboxctl with sh -c '$(LUA) examples/quickstart.lua $(DEMO_MONTH) && \
	  printf "\nExport to Klar (the sandbox'"'"'s fake Klar)\n" && \
	  $(LUA) examples/export_to_klar.lua "$$0/klar.state" 2025-11-01 && \
	  printf "\n$$ klikit count --from $(DEMO_MONTH)-01 --to $(DEMO_MONTH)-08 --tz $(DEMO_TZ) --by brand --format table\n" && \
	  "$$0/prefix/bin/klikit" count --from $(DEMO_MONTH)-01 --to $(DEMO_MONTH)-08 --tz $(DEMO_TZ) --by brand --format table && \
	  printf "\n$$ klikit orders --day $(DEMO_MONTH)-15 --tz $(DEMO_TZ) --format table --fields id,created_at,status,brands.title,final_price\n" && \
	  "$$0/prefix/bin/klikit" orders --day $(DEMO_MONTH)-15 --tz $(DEMO_TZ) --format table \
	    --fields id,created_at,status,brands.title,final_price' "$$state"

# bench/walk.lua (requests per walk against the sandbox), then bench/run.lua: klikit beside
# libcurl+cjson and luasocket+cjson on a fast bench server, as paired ratios (README
# "Performance"). BENCH_QUICK=1: a smoke run under a minute.
BENCH_ENV = LUA_PATH="$(CURDIR)/bench/?.lua;$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" \
            LUA_CPATH="$(CURDIR)/$(BUILD)/?.so;;" BENCH_ROOT="$(CURDIR)"
bench: deps
	@$(MAKE) --no-print-directory $(MODULE)
	@$(BENCH_ENV) sandbox/sandboxctl with sh -c '$(LUA) bench/walk.lua && echo && $(LUA) bench/run.lua && echo && $(LUA) bench/decode_page.lua'

# The suite against an ASan+UBSan build of the C core (the interpreter is not
# instrumented, so the sanitizer runtimes are preloaded; specs tagged #subprocess start a
# clean environment without the preload and are skipped here).
ASAN_BUILD := build/asan
asan: deps-dev
	@mkdir -p $(ASAN_BUILD)/klikit
	$(CC) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  $(WARN) -std=c99 -D_DEFAULT_SOURCE -fPIC -fvisibility=hidden $(addprefix -I,$(LUA_INCDIR)) $(CURL_CFLAGS) \
	  -shared -o $(ASAN_BUILD)/klikit/core.so $(SRCS) $(LIBS)
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  KLIKIT_BUILD=$(ASAN_BUILD) WALK_SEEDS=40 $(SPEC_RUN) --exclude-tags=subprocess,rss,openresty,long \
	  $(BUSTED_ARGS)

# libFuzzer (clang) with ASan+UBSan over the C that reads outside input: envelope
# decoding (JSON, normalisation, HTML snippet) and response-header parsing. Seeds in
# fuzz/seeds come from the captured klikit payloads; new corpus and any crash input go
# to $(FUZZ_BUILD). The fuzzers run at once for FUZZ_SECONDS each. The url harness drives
# the base_url check (lua/klikit/http/url.lua over libcurl's URL API); the decode harness
# compares the single-pass decoder and its projections with the old path (on the envelope
# seeds, through spec/support/decode_model.lua).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_TARGETS := envelope headers url decode
LUA_LIBS     ?= $(shell $(PKG_CONFIG) --libs $(LUA_PC) 2>/dev/null || echo -llua$(LUA_VERSION))
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  $(WARN) -Werror -std=c99 -D_DEFAULT_SOURCE $(addprefix -I,$(LUA_INCDIR)) $(CURL_CFLAGS) \
	  -o $@ $< $(SRCS) $(LUA_LIBS) $(LIBS) -lm

fuzz: deps-dev $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))
	@pids=""; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -dict=$$([ -f fuzz/$$t.dict ] && echo fuzz/$$t.dict || echo fuzz/json.dict) -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	    $(FUZZ_BUILD)/corpus/$$t fuzz/seeds/$$([ -d fuzz/seeds/$$t ] && echo $$t || echo envelope) \
	    >$(FUZZ_BUILD)/$$t.log 2>&1 & pids="$$pids $$!"; \
	done; failed=0; for p in $$pids; do wait $$p || failed=1; done; \
	for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $$t: $$(grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_BUILD)/$$t.log | tail -1 | sed 's/  */ /g')"; \
	  echo "fuzz $$t: $$(grep -E '^Done [0-9]+ runs' $(FUZZ_BUILD)/$$t.log | tail -1)"; \
	done; \
	if [ $$failed != 0 ] || ls $(FUZZ_BUILD)/crash-* >/dev/null 2>&1; then \
	  for t in $(FUZZ_TARGETS); do grep -B2 -A30 -E 'ERROR|finding|runtime error' $(FUZZ_BUILD)/$$t.log | head -60; done; \
	  echo "fuzz: FINDINGS (inputs: $(FUZZ_BUILD)/crash-*)"; exit 1; fi; \
	echo "fuzz: no findings"

cppcheck: deps-dev
	cppcheck --quiet --enable=warning,style,performance,portability --error-exitcode=1 \
	  --suppress=missingIncludeSystem --suppress=toomanyconfigs $(addprefix -I,$(LUA_INCDIR)) -I csrc csrc
	@echo "cppcheck: csrc/ clean"

# .clang-tidy holds the checks; any warning fails. The LuaJIT pass drops branch-clone:
# LuaJIT's luaL_addchar macro expands to a conditional that trips it on every call.
TIDY_FLAGS = -std=c99 -D_DEFAULT_SOURCE $(CURL_CFLAGS)
clang-tidy: deps-dev
	@set -o pipefail; clang-tidy --quiet $(SRCS) fuzz/*.c -- $(TIDY_FLAGS) $(addprefix -I,$(LUA_INCDIR)) \
	  2>&1 | { grep -v 'warnings generated' || true; }
	@set -o pipefail; clang-tidy --quiet --checks=-bugprone-branch-clone $(SRCS) -- $(TIDY_FLAGS) -I/usr/include/luajit-2.1 \
	  2>&1 | { grep -v 'warnings generated' || true; }
	@echo "clang-tidy: csrc/ and fuzz/ clean"

# Zero-warning builds (real ones: compiled, linked, then loaded by their interpreter, which
# resolves the Lua API the module does not link) with gcc and clang against every Lua the
# module supports.
CHECK_C_CCS ?= gcc clang
check-c: deps-dev
	@mkdir -p build; for cc in $(CHECK_C_CCS); do for v in 5.4 5.3 5.1 jit; do \
	  out=build/check-c/$$cc-$$v; lua=$$([ $$v = jit ] && echo luajit || echo lua$$v); \
	  $(MAKE) --no-print-directory -B CC=$$cc LUA_VERSION=$$v BUILD=$$out CFLAGS="$(CFLAGS) -Werror" build \
	    >build/check-c.log 2>&1 || { cat build/check-c.log; exit 1; }; \
	  $$lua -e "package.cpath = '$$out/?.so;' .. package.cpath; assert(require('klikit.core').version == '$(VERSION)')" \
	    || { echo "check-c: $$out/klikit/core.so does not load in $$lua"; exit 1; }; \
	done; done
	@echo "check-c: -Wall -Wextra -Werror builds ($(CHECK_C_CCS)) against Lua 5.4, 5.3, 5.1 and LuaJIT 2.1, each loaded"

check-symbols: $(MODULE)
	@syms=$$(nm -D --defined-only $(MODULE) | awk '$$2 ~ /^[TDBR]$$/ {print $$3}'); \
	if [ "$$syms" != "luaopen_klikit_core" ]; then echo "unexpected exports: $$syms"; exit 1; fi; \
	echo "check-symbols: only luaopen_klikit_core is exported"

lint: deps-dev
	luacheck lua spec sandbox examples bench bin/klikit

# What a user does (README "Install"), offline and from a clean copy of the sources (the
# work tree's files, without build/ and what .gitignore names): Debian's lua-cjson declared
# to LuaRocks in the user's config, then `luarocks --lua-version 5.4 make` into a temporary
# tree; then klikit and klikit.core load from that tree in a fresh lua5.4, from /, and the
# module exports luaopen_klikit_core alone. No rocks server is asked (--only-server is an
# empty directory): the install works without network.
check-rock: deps-dev
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; mkdir -p "$$tmp/src" "$$tmp/home/.luarocks" "$$tmp/no-server"; \
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files -co --exclude-standard | while IFS= read -r f; do [ -e "$$f" ] && printf '%s\n' "$$f"; done \
	    | tar -cf - -T - | tar -xf - -C "$$tmp/src"; \
	else tar --exclude=./build --exclude='*.o' --exclude='*.so' -cf - . | tar -xf - -C "$$tmp/src"; fi; \
	cd "$$tmp/src"; \
	HOME="$$tmp/home" luarocks --lua-version 5.4 config --scope user rocks_provided.lua-cjson 2.1.0-1 >/dev/null; \
	HOME="$$tmp/home" luarocks --lua-version 5.4 --only-server="$$tmp/no-server" make --tree "$$tmp/tree" \
	  >"$$tmp/make.log" 2>&1 || { cat "$$tmp/make.log"; echo "check-rock: luarocks make failed"; exit 1; }; \
	cd /; share="$$tmp/tree/share/lua/5.4"; lib="$$tmp/tree/lib/lua/5.4"; \
	env -i PATH=/usr/bin:/bin lua5.4 -e "package.path = '$$share/?.lua;$$share/?/init.lua;' .. package.path; \
	  package.cpath = '$$lib/?.so;' .. package.cpath; \
	  local klikit, core = require 'klikit', require 'klikit.core'; \
	  assert(package.searchpath('klikit.core', package.cpath) == '$$lib/klikit/core.so'); \
	  assert(package.searchpath('klikit', package.path) == '$$share/klikit/init.lua'); \
	  assert(require 'klikit.klar'.export and require 'klikit.webhook'.verify and require 'klikit.transport.multi'.new); \
	  assert(klikit.VERSION == '$(VERSION)' and core.version == '$(VERSION)'); \
	  print('check-rock: klikit ' .. klikit.VERSION .. ' from ' .. package.searchpath('klikit', package.path))"; \
	syms=$$(nm -D --defined-only "$$lib/klikit/core.so" | awk '$$2 ~ /^[TDBR]$$/ {print $$3}'); \
	[ "$$syms" = luaopen_klikit_core ] || { echo "check-rock: the rock's core.so exports: $$syms"; exit 1; }; \
	echo "check-rock: $(ROCKSPEC) installs offline with luarocks --lua-version 5.4 make; only luaopen_klikit_core exported"

# The LDoc reference of the public API (config.ld: doc/ldoc/*.luadoc) into build/doc; any
# LDoc warning fails.
doc: deps-dev
	@rm -rf build/doc && mkdir -p build/doc
	@ldoc --fatalwarnings . >build/doc.log 2>&1 || { cat build/doc.log; echo "doc: LDoc failed or warned"; exit 1; }
	@if grep -Ev '^(output written to|reading configuration from) ' build/doc.log | grep -q .; then \
	  cat build/doc.log; echo "doc: LDoc printed warnings"; exit 1; fi
	@echo "doc: build/doc/index.html, $$(ls build/doc/modules build/doc/classes 2>/dev/null | grep -c '\.html$$') pages, 0 LDoc warnings"

clean:
	rm -rf build
