/* A single-pass JSON decoder: what lua-cjson 2.1.0 (decode_invalid_numbers off) followed by
 * kk_json.c's normalisation gave, built in one walk. lua-cjson is the model for what is
 * refused and where: a number is what strtod() reads after lua-cjson's checks (no leading
 * '+', no leading zeros, no hex, Inf or NaN; "1." and "-.5" pass as strtod takes them),
 * strings keep raw control bytes, "\u" escapes must pair surrogates, a NUL ends the text,
 * only space, tab, CR and LF are whitespace. Integral numbers within 2^53 become integers
 * on 5.3+, null object members are left out, null array elements are the NULL
 * lightuserdata. The count and depth limits are kk_json_within's, checked as each token is
 * read, so a body over them is refused before more than max_values values are built.
 *
 * Small containers are gathered on the Lua stack and created at their exact size. */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_decode.h"

#define KK_MAX_SAFE_INT 9007199254740992.0 /* 2^53: beyond it doubles skip integers */
#define KK_PAIRS 32                        /* object members gathered on the stack */
#define KK_ELEMS 64                        /* array elements gathered on the stack */
#define KK_SLACK 24                        /* free slots kept for nested calls and luaL_Buffer */
#define KK_GATHER_DEPTH 32                 /* deeper levels build directly: 5.1 and LuaJIT
                                              stacks hold 8,000 slots, 200 levels need ~600 */

int kk_dec_fail(kk_dec *d, int status) {
  d->status = status;
  return -1;
}

int kk_dec_syntax(kk_dec *d, const char *at, const char *expect) {
  d->status = KK_DEC_SYNTAX;
  d->err_at = at;
  d->expect = expect;
  return -1;
}

/* The string at p (a '"') when it holds escapes; q is its first backslash. */
static int push_escaped(kk_dec *d, const char *p, const char *q) {
  luaL_Buffer b;
  const char *run = p + 1;
  char u[4];
  size_t n;
  luaL_buffinit(d->L, &b);
  for (;;) {
    luaL_addlstring(&b, run, (size_t)(q - run));
    if (*q == '"') break;
    if (*q == '\0' || (q = kk_dec_unescape(q, u, &n)) == NULL) return -1; /* the caller resets the stack */
    luaL_addlstring(&b, u, n);
    run = q;
    q = kk_str_run(q);
  }
  luaL_pushresult(&b);
  d->p = q + 1;
  return 0;
}

static int push_string(kk_dec *d, const char *p) {
  const char *q = kk_str_run(p + 1);
  if (*q != '"') return push_escaped(d, p, q);
  lua_pushlstring(d->L, p + 1, (size_t)(q - p - 1));
  d->p = q + 1;
  return 0;
}

/* strtod over [p, end) whatever the C locale's decimal point. */
static double to_double(kk_dec *d, const char *p, const char *end) {
  char tmp[64], *buf = tmp, *stop;
  size_t n = (size_t)(end - p), i;
  double x;
  if (d->point == '.') return strtod(p, &stop);
  if (n >= sizeof tmp) buf = (char *)kk_newuserdata(d->L, n + 1); /* collected with the rest */
  for (i = 0; i < n; i++) {
    if (p[i] == '.') buf[i] = d->point;
    else buf[i] = p[i];
  }
  buf[n] = '\0';
  x = strtod(buf, &stop);
  if (buf != tmp) lua_pop(d->L, 1);
  return x;
}

static int push_number(kk_dec *d, const char *p) {
  int simple;
  uint64_t v;
  const char *q = kk_scan_number(p, &simple, &v);
  if (q == NULL) return -1;
  if (simple) {
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(d->L, *p == '-' ? -(lua_Integer)v : (lua_Integer)v);
#else
    lua_pushnumber(d->L, *p == '-' ? -(lua_Number)v : (lua_Number)v);
#endif
  } else {
    double x = to_double(d, p, q);
#if LUA_VERSION_NUM >= 503
    if (x == floor(x) && fabs(x) <= KK_MAX_SAFE_INT) lua_pushinteger(d->L, (lua_Integer)x);
    else lua_pushnumber(d->L, (lua_Number)x);
#else
    lua_pushnumber(d->L, (lua_Number)x);
#endif
  }
  d->p = q;
  return 0;
}

/* Room for a container level: `want` slots, else the few it cannot do without. 1: the
 * level may gather on the stack, 0: it builds directly, -1: no stack left. */
static int room(kk_dec *d, int want) {
  if (d->depth <= KK_GATHER_DEPTH && lua_checkstack(d->L, want + KK_SLACK)) return 1;
  if (lua_checkstack(d->L, KK_SLACK)) return 0;
  return kk_dec_fail(d, KK_DEC_STACK);
}

/* n pairs gathered above `top` become one table at top + 1, set in order (a later
 * duplicate key wins, as with lua-cjson). */
static void flush_pairs(lua_State *L, int top, int n, int extra) {
  int i;
  lua_createtable(L, 0, n + extra);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, top + 1 + 2 * i);
    lua_pushvalue(L, top + 2 + 2 * i);
    lua_rawset(L, -3);
  }
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
}

static void flush_elems(lua_State *L, int top, int n, int extra) {
  lua_createtable(L, n + extra, 0);
  lua_insert(L, top + 1);
  for (; n > 0; n--) lua_rawseti(L, top + 1, n);
}

int kk_dec_object(kk_dec *d, const char *p, int keep_nulls) {
  lua_State *L = d->L;
  int top = lua_gettop(L), n = 0, t = 0, gather, more;
  if (kk_dec_enter(d) || (gather = room(d, 2 * KK_PAIRS)) < 0) return -1;
  p = kk_ws(p);
  if (*p == '}') {
    lua_createtable(L, 0, 0);
    d->p = p + 1;
    d->depth--;
    return 0;
  }
  if (!gather) lua_newtable(L), t = top + 1;
  for (;;) {
    if (*p != '"' || push_string(d, p)) return kk_dec_syntax(d, p, "object key string");
    p = kk_ws(d->p);
    if (*p != ':') return kk_dec_syntax(d, p, "colon");
    if (kk_dec_count(d)) return -1;
    p = kk_ws(p + 1);
    if (kk_is_null(p)) {
      if (keep_nulls) lua_pushlightuserdata(L, NULL);
      else lua_pushnil(L); /* still set: it clears an earlier duplicate */
      p += 4;
    } else {
      d->p = p;
      if (kk_dec_value(d)) return -1;
      p = d->p;
    }
    if (t) lua_rawset(L, t);
    else if (++n == KK_PAIRS) flush_pairs(L, top, n, n), t = top + 1;
    if ((more = kk_dec_next(d, &p, '}', "comma or object end")) <= 0) break;
  }
  if (more < 0) return -1;
  if (!t) flush_pairs(L, top, n, 0);
  d->p = p + 1;
  d->depth--;
  return 0;
}

static int build_array(kk_dec *d, const char *p) {
  lua_State *L = d->L;
  int top = lua_gettop(L), n = 0, t = 0, gather, more;
  if (kk_dec_enter(d) || (gather = room(d, KK_ELEMS)) < 0) return -1;
  p = kk_ws(p);
  if (*p == ']') {
    lua_createtable(L, 0, 0);
    d->p = p + 1;
    d->depth--;
    return 0;
  }
  if (!gather) lua_newtable(L), t = top + 1;
  for (;;) {
    d->p = p;
    if (kk_dec_value(d)) return -1;
    if (t) lua_rawseti(L, t, ++n);
    else if (++n == KK_ELEMS) flush_elems(L, top, n, n), t = top + 1;
    p = d->p;
    if ((more = kk_dec_next(d, &p, ']', "comma or array end")) <= 0) break;
  }
  if (more < 0) return -1;
  if (!t) flush_elems(L, top, n, 0);
  d->p = p + 1;
  d->depth--;
  return 0;
}

int kk_dec_value(kk_dec *d) {
  const char *p = d->p;
  switch (*p) {
  case '"':
    if (push_string(d, p) == 0) return 0;
    break;
  case '{': return kk_dec_object(d, p + 1, 0);
  case '[': return build_array(d, p + 1);
  case 't':
    if (p[1] != 'r' || p[2] != 'u' || p[3] != 'e') break;
    lua_pushboolean(d->L, 1);
    d->p = p + 4;
    return 0;
  case 'f':
    if (p[1] != 'a' || p[2] != 'l' || p[3] != 's' || p[4] != 'e') break;
    lua_pushboolean(d->L, 0);
    d->p = p + 5;
    return 0;
  case 'n':
    if (!kk_is_null(p)) break;
    lua_pushlightuserdata(d->L, NULL);
    d->p = p + 4;
    return 0;
  case '-': case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    if (push_number(d, p) == 0) return 0;
    break;
  default: break;
  }
  return kk_dec_syntax(d, p, "value");
}

int kk_decode(lua_State *L, const char *s, size_t len, size_t max_values, int envelope, const kk_fields *f) {
  kk_dec d;
  int top = lua_gettop(L), rc, guard;
  memset(&d, 0, sizeof d);
  d.L = L;
  d.s = s;
  d.values = 1;
  d.max_values = max_values;
  d.point = localeconv()->decimal_point[0];
  if (len >= 2 && (s[0] == '\0' || s[1] == '\0')) { /* lua-cjson's UTF-16/32 refusal */
    rc = kk_dec_syntax(&d, NULL, NULL);
  } else {
    d.p = kk_ws(s);
    if (f != NULL) rc = kk_project_root(&d, f);
    else if (envelope && *d.p == '{') rc = kk_dec_object(&d, d.p + 1, 1);
    else rc = kk_dec_value(&d);
    if (rc == 0) {
      const char *p = kk_ws(d.p);
      if (*p != '\0') rc = kk_dec_syntax(&d, p, "the end");
      else if (p == s + len) return KK_DEC_OK;
      /* else a NUL ended the text: lua-cjson stops there, the guard read on */
    }
  }
  if (rc != 0 && d.status != KK_DEC_SYNTAX && d.status != KK_DEC_STACK) {
    lua_settop(L, top);
    return d.status;
  }
  /* The guard ran over the whole body before lua-cjson: it wins wherever it refuses. */
  guard = kk_json_within(s, len, max_values, KK_MAX_JSON_DEPTH);
  if (guard != 0) {
    lua_settop(L, top);
    return guard;
  }
  if (rc == 0) return KK_DEC_OK;
  lua_settop(L, top);
  if (d.status == KK_DEC_STACK)
    lua_pushfstring(L, "Found too many nested data structures (%d) at character %d", d.depth,
                    (int)(d.p - s));
  else
    kk_dec_push_message(L, s, d.err_at, d.expect);
  return KK_DEC_SYNTAX;
}


int kk_dec_string(kk_dec *d, const char *p) { return push_string(d, p); }
