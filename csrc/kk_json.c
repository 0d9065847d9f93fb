/* JSON as klikit reads it, whatever the API. Object members that are null are dropped (so
 * they read as nil, like the many fields klikit omits), null array elements stay as the
 * null sentinel (klikit.null) so `#` and ipairs stay right, and integral numbers become
 * Lua integers on 5.3+. Bodies with more than max_values JSON values, or nested deeper
 * than KK_MAX_JSON_DEPTH, are refused.
 *
 *   value = core.decode_json(body [, max_values]) | nil, kind ("too_large" | "decode_failed"), message
 *
 * decode_json is the single-pass decoder (kk_decode.c). The path it replaced stays here as
 * the reference the differential specs and the fuzzer compare it with:
 * core._decode_json_reference runs the guard (kk_json_within, which counts values and
 * depth before anything is built), lua-cjson's decode (2.1.0 decodes every number as a
 * float) and the normalisation pass. */
#include <math.h>
#include <string.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#define KK_MAX_SAFE_INT 9007199254740992.0 /* 2^53: beyond it doubles skip integers */

static int is_null(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* Replaces the integral float at the top of the stack by an integer (5.3+ only). */
static void integerize_top(lua_State *L) {
#if LUA_VERSION_NUM >= 503
  if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
    lua_Number n = lua_tonumber(L, -1);
    if (n == floor(n) && fabs(n) <= KK_MAX_SAFE_INT) {
      lua_pop(L, 1);
      lua_pushinteger(L, (lua_Integer)n);
    }
  }
#else
  (void)L;
#endif
}

/* Normalises the table at the top of the stack in place. cjson's depth limit bounds
 * the recursion. */
void kk_json_normalize_table(lua_State *L) {
  int t = lua_gettop(L);
  luaL_checkstack(L, 6, "klikit.core: JSON too deeply nested");
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    int vt = lua_type(L, -1);
    if (vt == LUA_TTABLE) {
      kk_json_normalize_table(L);
    } else if (vt == LUA_TNUMBER) {
#if LUA_VERSION_NUM >= 503
      if (!lua_isinteger(L, -1)) {
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        integerize_top(L);
        lua_rawset(L, t);
      }
#endif
    } else if (is_null(L, -1) && lua_type(L, -2) == LUA_TSTRING) {
      lua_pushvalue(L, -2);
      lua_pushnil(L);
      lua_rawset(L, t); /* clearing an existing field during lua_next is allowed */
    }
    lua_pop(L, 1);
  }
}

void kk_json_normalize_top(lua_State *L) {
  if (lua_type(L, -1) == LUA_TTABLE) {
    kk_json_normalize_table(L);
  } else if (is_null(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  } else {
    integerize_top(L);
  }
}

/* Counts the JSON values of a body without building any (strings skipped, escapes
 * honoured) and tracks nesting: 0 within the limits, 1 more than max_values values,
 * 2 nested deeper than max_depth. A decoded value costs far more memory than its text
 * (a Lua table for "{}"), so this bounds what decoding may allocate. */
int kk_json_within(const char *s, size_t n, size_t max_values, int max_depth) {
  size_t i, values = 1;
  int depth = 0, in_string = 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = 0;
      continue;
    }
    switch (c) {
    case '"':
      in_string = 1;
      break;
    case '{':
    case '[':
      if (++depth > max_depth) return 2;
      values++;
      break;
    case '}':
    case ']':
      depth--;
      break;
    case ',':
    case ':':
      values++;
      break;
    default:
      continue;
    }
    if (values > max_values) return 1;
  }
  return 0;
}

static int push_too_large(lua_State *L, int within) {
  lua_pushnil(L);
  lua_pushliteral(L, "too_large");
  if (within == 1) lua_pushliteral(L, "the body holds more JSON values than max_json_values; refused");
  else lua_pushfstring(L, "the body nests JSON deeper than %d levels; refused", KK_MAX_JSON_DEPTH);
  return 3;
}

static size_t check_max_values(lua_State *L, int idx) {
  lua_Number max_values = luaL_optnumber(L, idx, (lua_Number)KK_MAX_JSON_VALUES);
  if (!(max_values >= 1) || max_values > 1e12) luaL_argerror(L, idx, "max_values must be >= 1");
  return (size_t)max_values;
}

/* _decode_json_reference(body [, max_values]): upvalue 1 is the private cjson.safe decode
 * function. */
static int decode_json_reference(lua_State *L) {
  size_t len;
  const char *body = luaL_checklstring(L, 1, &len);
  size_t max_values = check_max_values(L, 2);
  int within = kk_json_within(body, len, max_values, KK_MAX_JSON_DEPTH);
  if (within != 0) return push_too_large(L, within);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_call(L, 1, 2); /* cjson.safe: value | nil, message */
  if (lua_isnil(L, -2) && !lua_isnil(L, -1)) {
    lua_pushnil(L);
    lua_pushliteral(L, "decode_failed");
    lua_pushfstring(L, "the body is not valid JSON (%s)", lua_tostring(L, -3));
    return 3;
  }
  lua_pop(L, 1);
  kk_json_normalize_top(L);
  return 1;
}

/* decode_json(body [, max_values]) */
static int decode_json(lua_State *L) {
  size_t len;
  const char *body = luaL_checklstring(L, 1, &len);
  size_t max_values = check_max_values(L, 2);
  int rc;
  lua_settop(L, 1);
  rc = kk_decode(L, body, len, max_values, 0, NULL);
  if (rc == KK_DEC_VALUES || rc == KK_DEC_DEPTH) return push_too_large(L, rc);
  if (rc == KK_DEC_SYNTAX) {
    lua_pushnil(L);
    lua_pushliteral(L, "decode_failed");
    lua_pushfstring(L, "the body is not valid JSON (%s)", lua_tostring(L, -3));
    return 3;
  }
  if (lua_type(L, -1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL) {
    lua_pop(L, 1);
    lua_pushnil(L); /* a top-level null reads as nil */
  }
  return 1;
}

void kk_json_open(lua_State *L) {
  /* stack: module table, decode */
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, decode_json_reference, 1);
  lua_setfield(L, -3, "_decode_json_reference");
  lua_pushcfunction(L, decode_json);
  lua_setfield(L, -3, "decode_json");
}
