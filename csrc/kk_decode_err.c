/* lua-cjson's messages for the bodies it refuses, so that the single-pass decoder fails
 * with the very words the old path gave ("Expected comma or array end but found invalid
 * token at character 12"). The decoder reports where lua-cjson read its failing token and
 * what it expected there; the token is re-read here as lua-cjson's tokenizer reads it:
 * its type name, or the error it raises (and where inside the token). */
#include <string.h>

#include <lauxlib.h>

#include "kk_decode.h"

/* What lua-cjson's json_next_token finds at p (whitespace skipped); *where is the index it
 * reports. */
static const char *token_at(const char *p, const char **where) {
  const char *q, *next;
  char u[4];
  size_t n;
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  *where = p;
  switch (*p) {
  case '{': return "T_OBJ_BEGIN";
  case '}': return "T_OBJ_END";
  case '[': return "T_ARR_BEGIN";
  case ']': return "T_ARR_END";
  case ',': return "T_COMMA";
  case ':': return "T_COLON";
  case '\0': return "T_END";
  case '"':
    for (q = p + 1; *q != '"';) {
      if (*q == '\0') {
        *where = q;
        return "unexpected end of string";
      }
      if (*q != '\\') {
        q++;
        continue;
      }
      if (q[1] != '\0' && q[1] != 'u' && strchr("\"\\/bfnrt", q[1]) != NULL) {
        q += 2;
        continue;
      }
      next = kk_dec_unescape(q, u, &n);
      if (next == NULL) {
        *where = q;
        return q[1] == 'u' ? "invalid unicode escape code" : "invalid escape code";
      }
      q = next;
    }
    return "T_STRING";
  case '-': case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    return kk_dec_number_end(p) ? "T_NUMBER" : "invalid number";
  default:
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) return "T_BOOLEAN";
    if (strncmp(p, "null", 4) == 0) return "T_NULL";
    return "invalid token";
  }
}

void kk_dec_push_message(lua_State *L, const char *s, const char *at, const char *expect) {
  const char *where, *found;
  if (at == NULL) {
    lua_pushliteral(L, "JSON parser does not support UTF-16 or UTF-32");
    return;
  }
  found = token_at(at, &where);
  lua_pushfstring(L, "Expected %s but found %s at character %d", expect, found, (int)(where - s) + 1);
}
