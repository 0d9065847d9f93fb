/* HTTP header syntax: checking the headers we send and parsing the ones we receive.
 * Pure functions over byte ranges (no libcurl), so `make fuzz` can drive them directly. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

int kk_header_name_ok(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c)) return 0;
  }
  return 1;
}

/* RFC 9110 field values: no control character but horizontal tab. */
int kk_header_value_ok(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
  }
  return 1;
}

/* Headers that frame the message or belong to one connection (RFC 9110 section 7.6.1,
 * RFC 9112): set by libcurl, never by a caller. A caller's Content-Length or
 * Transfer-Encoding would desynchronise a keep-alive connection. */
int kk_header_reserved(const char *s, size_t n) {
  static const char *const names[] = {"content-length", "transfer-encoding", "host", "connection",
                                      "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
                                      "expect", NULL};
  int i;
  for (i = 0; names[i] != NULL; i++)
    if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0) return 1;
  return 0;
}

#define KK_MAX_HEADER_LINE 8192 /* name and value of one request header */

const char *kk_header_problem(const char *name, size_t nn, const char *value, size_t vn) {
  if (!kk_header_name_ok(name, nn)) return "has a name that is not an RFC 9110 token";
  if (kk_header_reserved(name, nn)) return "is set by libcurl (framing or hop-by-hop)";
  if (!kk_header_value_ok(value, vn)) return "has a control character in its value (only tab is allowed)";
  if (nn + vn > KK_MAX_HEADER_LINE) return "is longer than 8192 bytes (name and value)";
  return NULL;
}

static int is_status_line(const char *p, size_t n) {
  return n >= 5 && memcmp(p, "HTTP/", 5) == 0;
}

int kk_headers_feed(kk_buf *head, const char *line, size_t n, size_t cap) {
  /* A new status line starts a new header block (100 Continue, proxy CONNECT). */
  if (is_status_line(line, n)) kk_buf_reset(head);
  if (n > cap || head->len > cap - n) return 1;
  return kk_buf_append(head, line, n);
}

/* Pushes {lowercase-name = value}. Repeats are joined with ", " as RFC 9110 allows;
 * lines whose name is not a token (status lines, obsolete folding, garbage) are skipped. */
void kk_headers_push(lua_State *L, const char *p, size_t len) {
  const char *end = p + len;
  lua_newtable(L);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon && !is_status_line(p, (size_t)(line_end - p)) &&
        kk_header_name_ok(p, (size_t)(colon - p))) {
      const char *v = colon + 1, *ve = line_end;
      luaL_Buffer name;
      const char *c;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      luaL_buffinit(L, &name);
      for (c = p; c < colon; c++) luaL_addchar(&name, (char)tolower((unsigned char)*c));
      luaL_pushresult(&name);
      lua_pushvalue(L, -1);
      lua_rawget(L, -3);
      if (ve == v && lua_isstring(L, -1)) { /* an empty repeat adds no list element */
        lua_pop(L, 2);
      } else {
        if (lua_isstring(L, -1) && kk_rawlen(L, -1) > 0) {
          lua_pushliteral(L, ", ");
          lua_pushlstring(L, v, (size_t)(ve - v));
          lua_concat(L, 3);
        } else {
          lua_pop(L, 1);
          lua_pushlstring(L, v, (size_t)(ve - v));
        }
        lua_rawset(L, -3);
      }
    }
    p = eol ? eol + 1 : end;
  }
}

/* header_problem(name, value) -> nil when the header may be sent, else what is wrong. */
static int header_problem(lua_State *L) {
  size_t nn, vn;
  const char *name = luaL_checklstring(L, 1, &nn);
  const char *value = luaL_checklstring(L, 2, &vn);
  const char *why = kk_header_problem(name, nn, value, vn);
  if (why == NULL) lua_pushnil(L);
  else lua_pushstring(L, why);
  return 1;
}

/* parse_headers(block) -> { lowercase-name = value }: the parser the curl transport uses,
 * for transports that read raw header blocks themselves. */
static int parse_headers(lua_State *L) {
  size_t n;
  const char *block = luaL_checklstring(L, 1, &n);
  kk_headers_push(L, block, n);
  return 1;
}

void kk_headers_register(lua_State *L) {
  lua_pushcfunction(L, header_problem);
  lua_setfield(L, -2, "header_problem");
  lua_pushcfunction(L, parse_headers);
  lua_setfield(L, -2, "parse_headers");
}
