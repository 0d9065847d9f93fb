/* Decoding of klikit's response envelope:
 *   {request_id, data}  or  {request_id, error{code, message, details}}
 * into (true, data, request_id) or (false, parts). `parts` is a plain table that the
 * Lua layer turns into an error object; the code vocabulary is policy and lives in Lua.
 *
 * JSON values are normalised for Lua as kk_json.c describes, by the single-pass decoder
 * (kk_decode.c); _decode_envelope_reference is the same function over the path it
 * replaced (guard, lua-cjson, normalisation), kept for the differential specs. */
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#define KK_SNIPPET_MAX 160

/* Pushes a one-line, printable excerpt of a non-JSON body (an HTML <title> if any). */
static void push_snippet(lua_State *L, const char *body, size_t len) {
  char out[KK_SNIPPET_MAX + 4];
  size_t i, o = 0;
  const char *start = body, *end = body + len;
  const char *p;
  int space = 0;
  for (p = body; p + 7 <= end; p++) {
    if (strncasecmp(p, "<title>", 7) == 0) {
      const char *q;
      for (q = p + 7; q + 8 <= end; q++) {
        if (strncasecmp(q, "</title>", 8) == 0) {
          start = p + 7;
          end = q;
          break;
        }
      }
      break;
    }
  }
  for (i = 0; start + i < end && o < KK_SNIPPET_MAX; i++) {
    unsigned char c = (unsigned char)start[i];
    if (c < 0x20 || c == 0x7f) {
      if (!space && o > 0) out[o++] = ' ';
      space = 1;
      continue;
    }
    if (c == ' ' && (space || o == 0)) continue;
    space = (c == ' ');
    out[o++] = (char)c;
  }
  while (o > 0 && out[o - 1] == ' ') o--;
  if (start + i < end) { /* out has room for the ellipsis beyond KK_SNIPPET_MAX */
    out[o++] = '.';
    out[o++] = '.';
    out[o++] = '.';
  }
  lua_pushlstring(L, out, o);
}

static void set_string(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* Pushes a new parts table {kind, status}. */
static void new_parts(lua_State *L, const char *kind, int status) {
  lua_createtable(L, 0, 8);
  set_string(L, "kind", kind);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
}

/* With `false` and a parts table on top: copies the request_id at rid (a string or nil)
 * into the parts table and returns the two values. */
static int finish_parts(lua_State *L, int rid) {
  if (lua_isstring(L, rid)) {
    lua_pushvalue(L, rid);
    lua_setfield(L, -2, "request_id");
  }
  return 2;
}

/* Expects the message string on top of the stack; returns false, {kind, status, message,
 * request_id}. */
static int fail_envelope(lua_State *L, const char *kind, int status, int rid) {
  lua_pushboolean(L, 0);
  new_parts(L, kind, status);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "message");
  return finish_parts(L, rid);
}

static int only_whitespace(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
  return 1;
}

/* decode_envelope(status, body [, max_values [, fields]]) -> true, data, request_id |
 * false, parts. max_values (default KK_MAX_JSON_VALUES) bounds the JSON values decoded;
 * nesting is bounded by KK_MAX_JSON_DEPTH. Over either: parts.kind = "too_large". fields
 * (core.compile_fields) builds only those paths of the rows (kk_project.c).
 * Upvalue 1: a private cjson.safe decode function; upvalue 2: true for the reference path. */
static int envelope_decode(lua_State *L) {
  int status = (int)luaL_checkinteger(L, 1);
  size_t len;
  const char *body = luaL_optlstring(L, 2, "", &len);
  lua_Number max_values = luaL_optnumber(L, 3, (lua_Number)KK_MAX_JSON_VALUES);
  int reference = lua_toboolean(L, lua_upvalueindex(2));
  const kk_fields *fields = reference ? NULL : kk_fields_opt(L, 4);
  int ok2xx = status >= 200 && status < 300;
  int env, has_rid, within;

  if (!(max_values >= 1) || max_values > 1e12) return luaL_argerror(L, 3, "max_values must be >= 1");
  lua_settop(L, 4); /* the fields stay referenced while they are read */
  if (only_whitespace(body, len)) {
    if (ok2xx) { /* a 204 (or an empty 200) carries no data */
      lua_pushboolean(L, 1);
      lua_pushnil(L);
      lua_pushnil(L);
      return 3;
    }
    lua_pushboolean(L, 0);
    new_parts(L, "http_error", status);
    lua_pushfstring(L, "HTTP %d with an empty body", status);
    lua_setfield(L, -2, "message");
    return 2;
  }

  if (reference) {
    within = kk_json_within(body, len, (size_t)max_values, KK_MAX_JSON_DEPTH);
  } else {
    within = kk_decode(L, body, len, (size_t)max_values, 1, fields);
    if (within == KK_DEC_SYNTAX) {
      lua_pushnil(L);
      lua_insert(L, -2); /* nil, message: as cjson.safe answers */
      within = 0;
    } else if (within == KK_DEC_OK) {
      lua_pushnil(L);
    }
  }
  if (within != 0) {
    lua_pushboolean(L, 0);
    new_parts(L, "too_large", status);
    if (within == 1)
      lua_pushfstring(L, "the body holds more than %d JSON values (max_json_values); refused",
                      (int)(max_values > 2147483647.0 ? 2147483647.0 : max_values));
    else
      lua_pushfstring(L, "the body nests JSON deeper than %d levels; refused", KK_MAX_JSON_DEPTH);
    lua_setfield(L, -2, "message");
    return 2;
  }

  if (reference) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 2);
    lua_call(L, 1, 2); /* cjson.safe: value | nil, message */
  }
  if (lua_type(L, -2) != LUA_TTABLE || kk_rawlen(L, -2) > 0) {
    const char *why = lua_tostring(L, -1);
    lua_pushboolean(L, 0);
    if (ok2xx) {
      new_parts(L, "decode_failed", status);
      if (why)
        lua_pushfstring(L, "HTTP %d body is not valid JSON (%s)", status, why);
      else
        lua_pushfstring(L, "HTTP %d body is JSON but not a klikit envelope object", status);
    } else {
      new_parts(L, "http_error", status);
      lua_pushfstring(L, "HTTP %d with a body that is not a klikit envelope: ", status);
      push_snippet(L, body, len);
      lua_concat(L, 2);
    }
    lua_setfield(L, -2, "message");
    return 2;
  }
  lua_pop(L, 1);
  env = lua_gettop(L);

  lua_getfield(L, env, "request_id");
  has_rid = lua_type(L, -1) == LUA_TSTRING;
  if (!has_rid) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  /* stack: env, request_id|nil */

  lua_getfield(L, env, "error");
  if (lua_type(L, -1) == LUA_TTABLE || (!ok2xx && lua_type(L, -1) == LUA_TSTRING)) {
    int e = lua_gettop(L);
    lua_pushboolean(L, 0);
    if (lua_type(L, e) == LUA_TSTRING) { /* {"error": "text"}: not klikit's shape */
      new_parts(L, "http_error", status);
      lua_pushvalue(L, e);
      lua_setfield(L, -2, "message");
    } else {
      new_parts(L, "api", status);
      lua_getfield(L, e, "code");
      if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
        lua_pushstring(L, lua_tostring(L, -1));
        lua_setfield(L, -3, "raw_code");
      }
      lua_pop(L, 1);
      lua_getfield(L, e, "message");
      if (lua_type(L, -1) == LUA_TSTRING) lua_setfield(L, -2, "message");
      else lua_pop(L, 1);
      lua_getfield(L, e, "details");
      if (lua_type(L, -1) == LUA_TTABLE) {
        if (reference) kk_json_normalize_table(L);
        lua_setfield(L, -2, "details");
      } else {
        lua_pop(L, 1);
      }
    }
    return finish_parts(L, env + 1);
  }
  lua_pop(L, 1);

  if (!ok2xx) {
    lua_pushfstring(L, "HTTP %d with a JSON body that has no error object", status);
    return fail_envelope(L, "http_error", status, env + 1);
  }

  lua_pushliteral(L, "data");
  lua_rawget(L, env);
  if (lua_isnil(L, -1)) { /* absent, as opposed to JSON null */
    lua_pushfstring(L, "HTTP %d body is JSON but has neither data nor error", status);
    return fail_envelope(L, "decode_failed", status, env + 1);
  }
  if (reference) {
    kk_json_normalize_top(L);
  } else if (lua_type(L, -1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL) {
    lua_pop(L, 1); /* "data": null reads as nil */
    lua_pushnil(L);
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -2);
  lua_pushvalue(L, env + 1);
  return 3;
}

void kk_envelope_open(lua_State *L) {
  /* stack: module table, decode */
  lua_pushvalue(L, -1);
  lua_pushboolean(L, 0);
  lua_pushcclosure(L, envelope_decode, 2);
  lua_setfield(L, -3, "decode_envelope");
  lua_pushvalue(L, -1);
  lua_pushboolean(L, 1);
  lua_pushcclosure(L, envelope_decode, 2);
  lua_setfield(L, -3, "_decode_envelope_reference");
  lua_pop(L, 1);
}
