/* URLs parsed by the parser that will connect: libcurl's URL API. A check written as a
 * Lua pattern can read a different host than libcurl connects to (userinfo, backslashes,
 * numeric IPv4 forms); this one cannot. Mechanism only: which hosts are acceptable is
 * decided in Lua. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

static const struct {
  const char *name;
  CURLUPart part;
} parts[] = {
    {"scheme", CURLUPART_SCHEME},     {"user", CURLUPART_USER},       {"password", CURLUPART_PASSWORD},
    {"options", CURLUPART_OPTIONS},   {"host", CURLUPART_HOST},       {"zoneid", CURLUPART_ZONEID},
    {"port", CURLUPART_PORT},         {"path", CURLUPART_PATH},       {"query", CURLUPART_QUERY},
    {"fragment", CURLUPART_FRAGMENT},
};

int kk_url_parse(const char *url, size_t len, kk_url_cb cb, void *ud) {
  CURLU *h;
  CURLUcode rc;
  size_t i;
  char *copy;
  if (len == 0 || memchr(url, '\0', len) != NULL) return -1;
  copy = malloc(len + 1); /* libcurl reads a C string; the caller's bytes need not end in NUL */
  if (copy == NULL) return -2;
  memcpy(copy, url, len);
  copy[len] = '\0';
  h = curl_url();
  if (h == NULL) {
    free(copy);
    return -2;
  }
  /* no guessing of a missing scheme, no percent-decoding of what is returned */
  rc = curl_url_set(h, CURLUPART_URL, copy, 0);
  free(copy);
  if (rc != CURLUE_OK) {
    curl_url_cleanup(h);
    return (int)rc;
  }
  for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    char *value = NULL;
    if (curl_url_get(h, parts[i].part, &value, 0) == CURLUE_OK && value != NULL) {
      cb(ud, parts[i].name, value);
      curl_free(value);
    }
  }
  curl_url_cleanup(h);
  return 0;
}

static void set_part(void *ud, const char *name, const char *value) {
  lua_State *L = (lua_State *)ud;
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

/* url_parts(url) -> { scheme, user, password, options, host, zoneid, port, path, query,
 * fragment } (absent parts are nil) | nil, message */
static int url_parts(lua_State *L) {
  size_t len;
  const char *url = luaL_checklstring(L, 1, &len);
  int rc;
  lua_newtable(L);
  rc = kk_url_parse(url, len, set_part, L);
  if (rc == 0) return 1;
  lua_pushnil(L);
  if (rc == -1) lua_pushliteral(L, "empty URL or a URL with a NUL byte");
  else if (rc == -2) lua_pushliteral(L, "out of memory");
  else lua_pushstring(L, curl_url_strerror((CURLUcode)rc));
  return 2;
}

void kk_url_register(lua_State *L) {
  lua_pushcfunction(L, url_parts);
  lua_setfield(L, -2, "url_parts");
}
