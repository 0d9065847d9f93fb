/* libFuzzer harness for the base_url check: klikit.http.url.check_base_url (Lua) over
 * kk_url_parse (libcurl's URL API, the parser that will connect).
 *
 * Input: a URL. Invariants: the check never fails with a plain Lua error (only a
 * request_invalid error object); and whatever it accepts for plain http, libcurl parses
 * to a loopback host (127.0.0.0/8, [::1], localhost) with no user, password, options,
 * query or fragment. The C parser on its own reports every part as a NUL-terminated,
 * non-empty-host string. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"

static lua_State *L;
static int check_ref;
static unsigned long runs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  char host[512];
  int has_host, has_userinfo, has_extra;
  char scheme[16];
} parsed_url;

static void collect(void *ud, const char *name, const char *value) {
  parsed_url *p = (parsed_url *)ud;
  if (value == NULL) fuzz_fail("a URL part without a value");
  if (strcmp(name, "host") == 0) {
    if (value[0] == '\0') fuzz_fail("an empty host");
    p->has_host = 1;
    (void)snprintf(p->host, sizeof p->host, "%s", value);
  } else if (strcmp(name, "scheme") == 0) {
    (void)snprintf(p->scheme, sizeof p->scheme, "%s", value);
  } else if (strcmp(name, "user") == 0 || strcmp(name, "password") == 0 || strcmp(name, "options") == 0) {
    p->has_userinfo = 1;
  } else if (strcmp(name, "query") == 0 || strcmp(name, "fragment") == 0 || strcmp(name, "zoneid") == 0) {
    p->has_extra = 1;
  }
}

/* "127." then three dot-separated decimal numbers up to 255, nothing else. */
static int loopback(const char *host) {
  const char *p;
  int part;
  if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0) return 1;
  if (strncmp(host, "127.", 4) != 0) return 0;
  p = host + 4;
  for (part = 0; part < 3; part++) {
    unsigned value = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) value = value * 10 + (unsigned)(*p++ - '0'), digits++;
    if (digits == 0 || value > 255) return 0;
    if (part < 2 && *p++ != '.') return 0;
  }
  return *p == '\0';
}

static void init(void) {
  L = fuzz_new_state();
  if (luaL_dostring(L, "package.path = 'lua/?.lua;' .. package.path; return require('klikit.http.url').check_base_url"))
    fuzz_fail(lua_tostring(L, -1));
  check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parsed_url p;
  if (L == NULL) init();
  memset(&p, 0, sizeof p);
  (void)kk_url_parse((const char *)data, size, collect, &p);

  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
  lua_pushlstring(L, (const char *)data, size);
  lua_pushboolean(L, 0);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    if (lua_type(L, -1) != LUA_TTABLE) fuzz_fail("check_base_url raised a plain Lua error");
    lua_getfield(L, -1, "code");
    if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "request_invalid") != 0)
      fuzz_fail("check_base_url raised something other than request_invalid");
  } else {
    memset(&p, 0, sizeof p);
    if (kk_url_parse((const char *)data, size, collect, &p) != 0) fuzz_fail("accepted a URL libcurl refuses");
    if (p.has_userinfo || p.has_extra) fuzz_fail("accepted a URL with userinfo, query, fragment or zone");
    if (!p.has_host) fuzz_fail("accepted a URL without a host");
    if (strcmp(p.scheme, "http") == 0 && !loopback(p.host)) fuzz_fail("accepted plain http to a non-loopback host");
    if (strcmp(p.scheme, "http") != 0 && strcmp(p.scheme, "https") != 0) fuzz_fail("accepted another scheme");
  }
  fuzz_settle(L, &runs);
  return 0;
}
