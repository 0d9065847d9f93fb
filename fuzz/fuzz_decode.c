/* libFuzzer harness for the single-pass decoder (kk_decode.c, kk_scan.c, kk_decode_err.c,
 * kk_project.c): core.decode_json and core.decode_envelope must give exactly what the path
 * they replaced gives (core._decode_json_reference, core._decode_envelope_reference: the
 * guard, lua-cjson and the normalisation pass): values, integer subtypes, error kinds and
 * lua-cjson's messages. With a projection, decode_envelope must give the full decode with
 * its rows restricted to the fields. The comparison is spec/support/decode_model.lua, the
 * model spec/decode_spec.lua uses (run from the repository root, as `make fuzz` does).
 *
 * Input: "NNN\n<body>" uses status NNN and the default max_values (the envelope seeds are
 * written that way); any other input takes the status, a small max_values or none, and one
 * of three projections from its first byte and the body from the rest. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static lua_State *L;
static int check_ref;
static unsigned long runs;
static const int statuses[] = {200, 201, 204, 299, 400, 401, 403, 404, 409, 422,
                               429, 500, 502, 503, 504, 302, 100, 0,   -1,  999};

/* check(status, body, max_values, which) -> nil | the first difference */
static const char checker[] =
    "package.path = 'spec/?.lua;lua/?.lua;' .. package.path\n"
    "local model = require 'support.decode_model'\n"
    "local core = require 'klikit.core'\n"
    "local lists = { { 'id', 'created_at', 'brands.title', 'cart_v2.name', 'a.b' },\n"
    "  { 'data', 'orders', 'results', 'x.y.z', 'items' }, { 'a', 'a.b.c', 'id', 'name' } }\n"
    "local compiled = {}\n"
    "for i, list in ipairs(lists) do compiled[i] = core.compile_fields(list) end\n"
    "return function(status, body, max_values, which)\n"
    "  return model.differs(body, max_values, status)\n"
    "    or model.projection_differs(body, lists[which], max_values, status, compiled[which])\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void init(void) {
  L = fuzz_new_state();
  if (luaL_loadbuffer(L, checker, sizeof checker - 1, "=decode_checker") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
    fuzz_fail(lua_tostring(L, -1));
  check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *body;
  size_t blen;
  int status, max_values = 0, which = 1;
  if (L == NULL) init();
  if (size >= 4 && data[3] == '\n' && isdigit(data[0]) && isdigit(data[1]) && isdigit(data[2])) {
    status = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
    body = (const char *)data + 4;
    blen = size - 4;
  } else if (size >= 1) {
    status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])];
    if (data[0] >= 0xC0) max_values = data[0] - 0xBF; /* 1..64 */
    which = 1 + data[0] % 3;
    body = (const char *)data + 1;
    blen = size - 1;
  } else {
    return 0;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
  lua_pushinteger(L, status);
  lua_pushlstring(L, body, blen);
  if (max_values > 0) lua_pushinteger(L, max_values);
  else lua_pushnil(L);
  lua_pushinteger(L, which);
  if (lua_pcall(L, 4, 1, 0) != LUA_OK) fuzz_fail(lua_tostring(L, -1)); /* the decoders never raise */
  if (!lua_isnil(L, -1)) fuzz_fail(lua_tostring(L, -1));
  fuzz_settle(L, &runs);
  return 0;
}
