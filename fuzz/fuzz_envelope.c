/* libFuzzer harness for klikit.core.decode_envelope(status, body), the C code that reads
 * every response body: JSON decoding and normalisation, envelope shape checks and the
 * HTML snippet for non-JSON error pages.
 *
 * Input: "NNN\n<body>" uses status NNN (the seed corpus is written that way); any other
 * input takes the status from its first byte and the body from the rest.
 *
 * Beyond "no crash, no sanitizer report", it checks what the Lua layer relies on:
 * decode_envelope never raises; it returns (true, data, request_id?) or (false, parts) with
 * a known kind and the given status; decoded objects hold no null members and no integral
 * floats within 2^53; a non-JSON page's snippet is short and free of control characters. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

#define SNIPPET_PREFIX "with a body that is not a klikit envelope: "

static lua_State *L;
static int decode_ref;
static unsigned long runs;
static const int statuses[] = {200, 201, 204, 299, 400, 401, 403, 404, 409, 422,
                               429, 500, 502, 503, 504, 302, 100, 0,   -1,  999};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void init(void) {
  L = fuzz_new_state();
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_getfield(L, -1, "klikit.core");
  lua_getfield(L, -1, "decode_envelope");
  decode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
}

/* Walks a decoded value (bounded by cjson's depth limit of 200). */
static void check_value(int idx, int depth) {
  if (depth > 256) fuzz_fail("decoded value nested deeper than the decoder allows");
  if (lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx)) {
    lua_Number n = lua_tonumber(L, idx);
    if (n == floor(n) && fabs(n) <= 9007199254740992.0) fuzz_fail("integral float left as a float");
  }
  if (lua_type(L, idx) != LUA_TTABLE) return;
  idx = lua_absindex(L, idx);
  if (!lua_checkstack(L, 4)) fuzz_fail("no Lua stack");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TLIGHTUSERDATA)
      fuzz_fail("an object member is null instead of absent");
    check_value(-1, depth + 1);
    lua_pop(L, 1);
  }
}

static void check_failure(int parts, int status) {
  const char *kind, *msg;
  size_t mlen;
  char prefix[64];
  if (lua_type(L, parts) != LUA_TTABLE) fuzz_fail("failure without a parts table");
  lua_getfield(L, parts, "kind");
  kind = lua_tostring(L, -1);
  if (kind == NULL ||
      (strcmp(kind, "api") != 0 && strcmp(kind, "http_error") != 0 && strcmp(kind, "decode_failed") != 0 &&
       strcmp(kind, "too_large") != 0))
    fuzz_fail("unknown parts.kind");
  lua_getfield(L, parts, "status");
  if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) != status) fuzz_fail("parts.status differs from the status");
  lua_getfield(L, parts, "request_id");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) fuzz_fail("parts.request_id is not a string");
  lua_getfield(L, parts, "message");
  msg = lua_tolstring(L, -1, &mlen);
  if (msg == NULL) {
    if (strcmp(kind, "api") != 0) fuzz_fail("a non-api failure without a message");
    return;
  }
  (void)snprintf(prefix, sizeof prefix, "HTTP %d " SNIPPET_PREFIX, status);
  if (mlen >= strlen(prefix) && memcmp(msg, prefix, strlen(prefix)) == 0) {
    size_t i, n = mlen - strlen(prefix);
    if (n > 163) fuzz_fail("snippet longer than 160 bytes plus ...");
    for (i = strlen(prefix); i < mlen; i++)
      if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f) fuzz_fail("control character in a snippet");
  }
  lua_getfield(L, parts, "details");
  check_value(-1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *body;
  size_t blen;
  int status, nres;
  if (L == NULL) init();
  if (size >= 4 && data[3] == '\n' && isdigit(data[0]) && isdigit(data[1]) && isdigit(data[2])) {
    status = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
    body = (const char *)data + 4;
    blen = size - 4;
  } else if (size >= 1) {
    status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])];
    body = (const char *)data + 1;
    blen = size - 1;
  } else {
    return 0;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, decode_ref);
  lua_pushinteger(L, status);
  lua_pushlstring(L, body, blen);
  if (lua_pcall(L, 2, LUA_MULTRET, 0) != LUA_OK) fuzz_fail(lua_tostring(L, -1));
  nres = lua_gettop(L);
  if (lua_type(L, 1) != LUA_TBOOLEAN) fuzz_fail("first result is not a boolean");
  if (lua_toboolean(L, 1)) {
    if (nres != 3) fuzz_fail("success without exactly three results");
    if (status < 200 || status > 299) fuzz_fail("success for a non-2xx status");
    if (!lua_isnil(L, 3) && lua_type(L, 3) != LUA_TSTRING) fuzz_fail("request_id is not a string");
    if (lua_type(L, 2) == LUA_TLIGHTUSERDATA) fuzz_fail("top-level null not turned into nil");
    check_value(2, 0);
  } else {
    if (nres != 2) fuzz_fail("failure without exactly two results");
    check_failure(2, status);
  }
  fuzz_settle(L, &runs);
  return 0;
}
