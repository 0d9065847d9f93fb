/* Projections: core.compile_fields(list) and the decode of an envelope whose rows are
 * built only along those fields.
 *
 *   fields = core.compile_fields { "id", "created_at", "brands.name", "cart_v2.items.name" }
 *   ok, data, request_id = core.decode_envelope(status, body, max_values, fields)
 *
 * Rows are the elements of data.orders, data.results, or data itself when it is an array
 * (klikit.http.page's places). Inside a row object only the named paths are built: an
 * object along a path keeps only the names below it, an array along a path is projected
 * element by element, and a path's last name is built in full whatever it holds. A scalar
 * met before a path's end is kept as it is. Everything else in a row is read by the
 * scanner, validated and counted against max_values and the depth limit, and never
 * becomes a Lua value. The rest of the envelope is built in full. */
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_decode.h"

#define KK_FIELDS_MT "klikit.core.fields"
#define KK_MAX_PATHS 100
#define KK_MAX_PATH_BYTES 200

typedef struct {
  uint64_t sieve;             /* a bit per (length, first byte) of the children's names */
  unsigned short name, len;   /* the name: names + name, len bytes */
  unsigned short child, next; /* first child, next sibling; 0: none (node 0, the root, is no child) */
  unsigned short nchild;
  unsigned char leaf; /* a path ends here: built in full */
} kk_fnode;

struct kk_fields {
  int nnodes, npaths; /* then nnodes kk_fnode, then the names */
};

#define NODES(f) ((kk_fnode *)(void *)((f) + 1))
#define NAMES(f) ((char *)(NODES(f) + (f)->nnodes))

enum { ROOT, DATA, ROW };

#define SIEVE_BIT(k, n) ((uint64_t)1 << (((n) * 7 + (unsigned char)(k)[0]) & 63))

static int find_child(const kk_fields *f, int node, const char *k, size_t n) {
  const kk_fnode *nodes = NODES(f);
  const char *names = NAMES(f);
  int c;
  if (n == 0 || n > KK_MAX_PATH_BYTES || !(nodes[node].sieve & SIEVE_BIT(k, n))) return 0;
  for (c = nodes[node].child; c != 0; c = nodes[c].next) {
    const char *name = names + nodes[c].name;
    if (nodes[c].len == n && name[0] == k[0] && memcmp(name, k, n) == 0) return c;
  }
  return 0;
}

static int proj_object(kk_dec *d, const kk_fields *f, int kind, int node, const char *p);

/* An array: rows (objects projected from the root of f) or one along a path at `node`. */
static int proj_array(kk_dec *d, const kk_fields *f, int rows, int node, const char *p) {
  lua_State *L = d->L;
  if (kk_dec_enter(d)) return -1;
  if (!lua_checkstack(L, 24)) return kk_dec_fail(d, KK_DEC_STACK);
  lua_newtable(L);
  p = kk_ws(p);
  if (*p != ']') {
    int n = 0;
    for (;;) {
      int rc;
      d->p = p;
      if (*p == '{') rc = proj_object(d, f, ROW, rows ? 0 : node, p + 1);
      else if (*p == '[' && !rows) rc = proj_array(d, f, 0, node, p + 1);
      else rc = kk_dec_value(d);
      if (rc) return -1;
      lua_rawseti(L, -2, ++n);
      p = d->p;
      if ((rc = kk_dec_next(d, &p, ']', "comma or array end")) < 0) return -1;
      if (rc == 0) break;
    }
  }
  d->p = p + 1;
  d->depth--;
  return 0;
}

static int is_key(lua_State *L, const char *name) {
  size_t n;
  const char *k = lua_tolstring(L, -1, &n);
  return n == strlen(name) && memcmp(k, name, n) == 0;
}

/* One member's value at p (after the colon) with its key pushed; pushes the value.
 * ROOT: the envelope (data is where rows are; null members kept for its checks). DATA:
 * data as an object (rows under orders or results). */
static int member(kk_dec *d, const kk_fields *f, int kind, const char *p) {
  lua_State *L = d->L;
  d->p = p;
  if (kind == ROOT && is_key(L, "data")) {
    if (*p == '[') return proj_array(d, f, 1, 0, p + 1);
    if (*p == '{') return proj_object(d, f, DATA, 0, p + 1);
  } else if (kind == DATA && *p == '[' && (is_key(L, "orders") || is_key(L, "results"))) {
    return proj_array(d, f, 1, 0, p + 1);
  }
  return kk_dec_value(d);
}

static int proj_object(kk_dec *d, const kk_fields *f, int kind, int node, const char *p) {
  lua_State *L = d->L;
  if (kk_dec_enter(d)) return -1;
  if (!lua_checkstack(L, 24)) return kk_dec_fail(d, KK_DEC_STACK);
  lua_createtable(L, 0, kind == ROW ? NODES(f)[node].nchild : 4);
  p = kk_ws(p);
  if (*p != '}') {
    for (;;) {
      char buf[KK_MAX_PATH_BYTES + 1];
      const char *key = p, *k = NULL;
      size_t n = 0;
      int c = 0;
      if (*p != '"') return kk_dec_syntax(d, p, "object key string");
      if (kind == ROW ? kk_dec_key(d, p, &k, &n, buf, sizeof buf) : kk_dec_string(d, p))
        return kk_dec_syntax(d, key, "object key string");
      p = kk_ws(d->p);
      if (*p != ':') return kk_dec_syntax(d, p, "colon");
      if (kk_dec_count(d)) return -1;
      p = kk_ws(p + 1);
      if (kind == ROW && (c = find_child(f, node, k, n)) == 0) {
        d->p = p;
        if (kk_dec_skip(d)) return -1;
        p = d->p;
      } else {
        if (kind == ROW) lua_pushlstring(L, k, n);
        if (kk_is_null(p)) {
          if (kind == ROOT) lua_pushlightuserdata(L, NULL);
          else lua_pushnil(L); /* clears an earlier duplicate */
          p += 4;
        } else {
          if (kind != ROW) {
            if (member(d, f, kind, p)) return -1;
          } else {
            d->p = p;
            if (NODES(f)[c].leaf ? kk_dec_value(d)
                : *p == '{'      ? proj_object(d, f, ROW, c, p + 1)
                : *p == '['      ? proj_array(d, f, 0, c, p + 1)
                                 : kk_dec_value(d))
              return -1;
          }
          p = d->p;
        }
        lua_rawset(L, -3);
      }
      if ((c = kk_dec_next(d, &p, '}', "comma or object end")) < 0) return -1;
      if (c == 0) break;
    }
  }
  d->p = p + 1;
  d->depth--;
  return 0;
}

int kk_project_root(kk_dec *d, const kk_fields *f) {
  if (*d->p == '{') return proj_object(d, f, ROOT, 0, d->p + 1);
  return kk_dec_value(d);
}

/* ---- compile_fields ---- */

/* 0 if path is names of [A-Za-z0-9_] joined by single dots; counts them into *segs. */
static int path_ok(const char *s, size_t n, int *segs) {
  size_t i, run = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (run == 0) return -1;
      run = 0;
      (*segs)++;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
      run++;
    } else {
      return -1;
    }
  }
  if (run == 0) return -1;
  (*segs)++;
  return 0;
}

static int compile_fields(lua_State *L) {
  size_t n, i, len, total = 0, off = 0;
  int segs = 0, count = 0;
  kk_fields *f;
  kk_fnode *nodes;
  char *names;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = kk_rawlen(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) count++, lua_pop(L, 1);
  if (n == 0) return luaL_argerror(L, 1, "an empty list of fields");
  if (n > KK_MAX_PATHS) return luaL_argerror(L, 1, "more than 100 fields");
  if ((size_t)count != n) return luaL_argerror(L, 1, "not a list (keys other than 1..n)");
  for (i = 1; i <= n; i++) {
    const char *s;
    lua_rawgeti(L, 1, (int)i);
    if (lua_type(L, -1) != LUA_TSTRING)
      return luaL_argerror(L, 1, lua_pushfstring(L, "field %d is not a string", (int)i));
    s = lua_tolstring(L, -1, &len);
    if (len == 0 || len > KK_MAX_PATH_BYTES)
      return luaL_argerror(L, 1, lua_pushfstring(L, "field %d is empty or longer than 200 bytes", (int)i));
    if (path_ok(s, len, &segs) != 0)
      return luaL_argerror(L, 1, lua_pushfstring(L, "field %d is not names of [A-Za-z0-9_] joined by single dots",
                                                 (int)i));
    total += len;
    lua_pop(L, 1);
  }
  f = (kk_fields *)kk_newuserdata(L, sizeof(kk_fields) + (size_t)(segs + 1) * sizeof(kk_fnode) + total);
  memset(f, 0, sizeof(kk_fields) + (size_t)(segs + 1) * sizeof(kk_fnode));
  f->nnodes = segs + 1;
  f->npaths = (int)n;
  nodes = NODES(f);
  names = NAMES(f);
  segs = 1; /* nodes in use: the root */
  for (i = 1; i <= n; i++) {
    const char *s, *end, *seg;
    int at = 0;
    lua_rawgeti(L, 1, (int)i);
    s = lua_tolstring(L, -1, &len);
    memcpy(names + off, s, len);
    for (seg = names + off, end = seg + len; seg < end;) {
      const char *dot = memchr(seg, '.', (size_t)(end - seg));
      size_t sl = (size_t)((dot ? dot : end) - seg);
      int c = find_child(f, at, seg, sl);
      if (c == 0) {
        c = segs++;
        nodes[c].name = (unsigned short)(seg - names);
        nodes[c].len = (unsigned short)sl;
        nodes[c].next = nodes[at].child;
        nodes[at].child = (unsigned short)c;
        nodes[at].nchild++;
        nodes[at].sieve |= SIEVE_BIT(seg, sl);
      }
      at = c;
      seg += sl + 1;
    }
    nodes[at].leaf = 1;
    off += len;
    lua_pop(L, 1);
  }
  luaL_getmetatable(L, KK_FIELDS_MT);
  lua_setmetatable(L, -2);
  return 1;
}

static int fields_tostring(lua_State *L) {
  const kk_fields *f = (const kk_fields *)luaL_checkudata(L, 1, KK_FIELDS_MT);
  lua_pushfstring(L, "klikit.core.fields (%d paths)", f->npaths);
  return 1;
}

const kk_fields *kk_fields_opt(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return NULL;
  return (const kk_fields *)luaL_checkudata(L, idx, KK_FIELDS_MT);
}

void kk_fields_register(lua_State *L) {
  if (luaL_newmetatable(L, KK_FIELDS_MT)) {
    lua_pushcfunction(L, fields_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "klikit.core.fields");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, compile_fields);
  lua_setfield(L, -2, "compile_fields");
}
