/* libcurl transport object: one easy handle per transport, reused across requests so
 * connections, DNS and TLS sessions are kept (curl_easy_reset keeps them). The transfer
 * itself is kk_transfer.c.
 *
 *   t = core.new_transport{ user_agent=, ca_file=, proxy=, noproxy=, max_body_bytes=,
 *                           insecure_skip_tls_verify= (must be the boolean true) }
 *   t:request{ method=, url=, headers={name=value}, body=, timeout=, connect_timeout=,
 *              verbose= (true: capture curl's verbose output, credentials redacted) }
 *     -> { status=, headers={lowercase name=value}, body=, elapsed=, connects=, trace= }
 *     |  nil, code, message, curl_code, trace   (code: network_error | timeout |
 *                                                tls_verify_failed | response_too_large)
 *   t:close()   -- idempotent; also __gc / __close. Closing a transport whose transfer is in
 *               -- a multi (kk_multi.c) takes it out; that multi reports it failed. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#define KK_DEFAULT_MAX_BODY ((size_t)8 * 1024 * 1024) /* a 100-order page is about 0.5 MiB */
#define KK_MAX_TRACE_BYTES ((size_t)256 * 1024)

static char *dup_or_null(const char *s) {
  char *d;
  size_t n;
  if (s == NULL) return NULL;
  n = strlen(s) + 1;
  d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

kk_transport *kk_check_transport(lua_State *L, int idx) {
  kk_transport *t = (kk_transport *)luaL_checkudata(L, idx, KK_TRANSPORT_MT);
  if (t->curl == NULL) luaL_error(L, "klikit.core: transport is closed");
  return t;
}

static int transport_request(lua_State *L) {
  kk_transport *t = kk_check_transport(L, 1);
  kk_outcome o;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  /* the handle and its buffers belong to the multi transfer until it is done */
  if (t->multi) return luaL_error(L, "klikit.core: transport is busy in a multi transfer");
  kk_transfer_setup(L, t, 2, 0);
  kk_transfer_finish(t, curl_easy_perform(t->curl), &o);
  return kk_transfer_push(L, t, &o);
}

static int transport_close(lua_State *L) {
  kk_transport *t = (kk_transport *)luaL_checkudata(L, 1, KK_TRANSPORT_MT);
  if (t->multi && !t->cancelled) kk_multi_cancel(t); /* before the handle is gone */
  if (t->curl) {
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(t->xfer.headers);
    t->xfer.headers = NULL;
    curl_easy_cleanup(t->curl);
    t->curl = NULL;
  }
  kk_buf_free(&t->body);
  kk_buf_free(&t->head);
  kk_buf_free(&t->trace.buf);
  free(t->user_agent);
  free(t->ca_file);
  free(t->proxy);
  free(t->noproxy);
  t->user_agent = t->ca_file = t->proxy = t->noproxy = NULL;
  return 0;
}

static int transport_tostring(lua_State *L) {
  kk_transport *t = (kk_transport *)luaL_checkudata(L, 1, KK_TRANSPORT_MT);
  lua_pushfstring(L, "klikit.core.transport (%s)", t->curl ? (t->multi ? "in a multi transfer" : "open") : "closed");
  return 1;
}

static char *opt_string(lua_State *L, int o, const char *field, int *bad) {
  char *s = NULL;
  lua_getfield(L, o, field);
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t n;
    const char *v = lua_tolstring(L, -1, &n);
    if (strlen(v) != n || !kk_header_value_ok(v, n)) *bad = 1;
    else if ((s = dup_or_null(v)) == NULL) *bad = 2;
  } else if (!lua_isnil(L, -1)) {
    *bad = 1;
  }
  lua_pop(L, 1);
  return s;
}

static int transport_new(lua_State *L) {
  kk_transport *t;
  int bad = 0;
  double max_body;
  if (lua_isnoneornil(L, 1)) lua_newtable(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "max_body_bytes");
  max_body = luaL_optnumber(L, -1, (double)KK_DEFAULT_MAX_BODY);
  lua_pop(L, 1);
  if (!(max_body >= 1) || max_body > 4294967295.0)
    return luaL_error(L, "klikit.core: max_body_bytes must be between 1 and 4 GiB");

  t = (kk_transport *)kk_newuserdata(L, sizeof *t);
  memset(t, 0, sizeof *t);
  luaL_getmetatable(L, KK_TRANSPORT_MT);
  lua_setmetatable(L, -2); /* from here on __gc frees whatever gets allocated */
  t->max_body = (size_t)max_body;
  t->trace.cap = KK_MAX_TRACE_BYTES;
  t->last_sock = CURL_SOCKET_BAD;
  t->mref = LUA_NOREF;
  lua_getfield(L, 1, "insecure_skip_tls_verify");
  t->insecure = lua_toboolean(L, -1) && lua_type(L, -1) == LUA_TBOOLEAN;
  lua_pop(L, 1);
  t->user_agent = opt_string(L, 1, "user_agent", &bad);
  t->ca_file = opt_string(L, 1, "ca_file", &bad);
  t->proxy = opt_string(L, 1, "proxy", &bad);
  t->noproxy = opt_string(L, 1, "noproxy", &bad);
  if (bad == 1) return luaL_error(L, "klikit.core: transport options must be strings without control characters");
  if (bad == 2) return luaL_error(L, "klikit.core: out of memory");
  if (t->user_agent == NULL && (t->user_agent = dup_or_null("klikit-lua/" KK_VERSION)) == NULL)
    return luaL_error(L, "klikit.core: out of memory");
  t->curl = curl_easy_init();
  if (t->curl == NULL) return luaL_error(L, "klikit.core: curl_easy_init failed");
  return 1;
}

void kk_transport_open(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"request", transport_request},
      {"close", transport_close},
      {NULL, NULL},
  };
  kk_class_register(L, KK_TRANSPORT_MT, methods, transport_close, transport_tostring);
  lua_pushcfunction(L, transport_new);
}
