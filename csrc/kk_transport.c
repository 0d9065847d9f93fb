/* libcurl transport: one easy handle per transport object, reused across requests so
 * connections, DNS and TLS sessions are kept (curl_easy_reset keeps them).
 *
 *   t = core.new_transport{ user_agent=, ca_file=, proxy=, noproxy=, max_body_bytes=,
 *                           insecure_skip_tls_verify= (must be the boolean true) }
 *   t:request{ method=, url=, headers={name=value}, body=, timeout=, connect_timeout=,
 *              verbose= (true: capture curl's verbose output, credentials redacted) }
 *     -> { status=, headers={lowercase name=value}, body=, elapsed=, connects=, trace= }
 *     |  nil, code, message, curl_code, trace   (code: network_error | timeout |
 *                                                tls_verify_failed | response_too_large)
 *   t:close()   -- idempotent; also __gc / __close
 *
 * No Lua code runs inside libcurl callbacks: they only append to C buffers, so no Lua
 * error can longjmp through libcurl frames. */
#include <poll.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#define KK_TRANSPORT_MT "klikit.core.transport"
#define KK_DEFAULT_MAX_BODY ((size_t)8 * 1024 * 1024) /* a 100-order page is about 0.5 MiB */
#define KK_MAX_HEADER_BYTES ((size_t)256 * 1024)
#define KK_MAX_TRACE_BYTES ((size_t)256 * 1024)
#define KK_KEEP_BUFFER ((size_t)256 * 1024) /* larger buffers are freed after each transfer */

typedef struct {
  CURL *curl;
  char errbuf[CURL_ERROR_SIZE];
  kk_buf body;
  kk_buf head;
  kk_trace trace; /* filled only for requests with verbose = true */
  size_t max_body;
  int overflow; /* set by a callback that refused data over a cap: OVER_BODY or OVER_HEAD */
  curl_socket_t last_sock; /* the connection the last transfer left in libcurl's cache */
  char *user_agent;
  char *ca_file;
  char *proxy;   /* NULL: libcurl's default (environment) */
  char *noproxy; /* NULL: libcurl's default */
  int insecure;  /* TLS verification off: only from the explicit insecure_skip_tls_verify */
} kk_transport;

static char *dup_or_null(const char *s) {
  char *d;
  size_t n;
  if (s == NULL) return NULL;
  n = strlen(s) + 1;
  d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static kk_transport *check_transport(lua_State *L) {
  kk_transport *t = (kk_transport *)luaL_checkudata(L, 1, KK_TRANSPORT_MT);
  if (t->curl == NULL) luaL_error(L, "klikit.core: transport is closed");
  return t;
}

enum { OVER_BODY = 1, OVER_HEAD = 2 };

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  kk_transport *t = (kk_transport *)ud;
  size_t n = size * nmemb;
  if (t->body.len + n > t->max_body) {
    t->overflow = OVER_BODY;
    return 0; /* makes curl_easy_perform fail with CURLE_WRITE_ERROR */
  }
  return kk_buf_append(&t->body, ptr, n) == 0 ? n : 0;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  kk_transport *t = (kk_transport *)ud;
  size_t n = size * nmemb;
  int rc = kk_headers_feed(&t->head, ptr, n, KK_MAX_HEADER_BYTES);
  if (rc > 0) t->overflow = OVER_HEAD;
  return rc == 0 ? n : 0; /* 0 makes curl_easy_perform fail */
}

/* Is the connection the last transfer left idle still quiet? Bytes (or a close) waiting on
 * an idle HTTP/1.1 connection belong to no request: reusing it would read them as the
 * answer to the next one. */
static int idle_connection_dirty(kk_transport *t) {
  struct pollfd p;
  if (t->last_sock == CURL_SOCKET_BAD) return 0;
  p.fd = t->last_sock;
  p.events = POLLIN;
  p.revents = 0;
  return poll(&p, 1, 0) != 0;
}

/* Releases what a large answer left behind, so one big body does not stay for the
 * client's lifetime. */
static void release_buffers(kk_transport *t) {
  int freed = t->body.cap > KK_KEEP_BUFFER || t->head.cap > KK_KEEP_BUFFER || t->trace.buf.cap > KK_KEEP_BUFFER;
  if (t->body.cap > KK_KEEP_BUFFER) kk_buf_free(&t->body);
  else kk_buf_reset(&t->body);
  if (t->head.cap > KK_KEEP_BUFFER) kk_buf_free(&t->head);
  else kk_buf_reset(&t->head);
  if (t->trace.buf.cap > KK_KEEP_BUFFER) kk_buf_free(&t->trace.buf);
#if defined(__GLIBC__)
  /* glibc keeps freed heap pages (and, after one large free, serves the next large
   * buffers from the heap too): hand them back to the system */
  if (freed) (void)malloc_trim(0);
#else
  (void)freed;
#endif
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud) {
  kk_transport *t = (kk_transport *)ud;
  (void)h;
  if (type == CURLINFO_TEXT) kk_trace_append(&t->trace, KK_TRACE_INFO, data, size);
  else if (type == CURLINFO_HEADER_OUT) kk_trace_append(&t->trace, KK_TRACE_HEADER_OUT, data, size);
  else if (type == CURLINFO_HEADER_IN) kk_trace_append(&t->trace, KK_TRACE_HEADER_IN, data, size);
  return 0; /* bodies and TLS records are not traced */
}

/* Pushes the captured trace, or nil when the request was not verbose. */
static void push_trace(lua_State *L, kk_transport *t, int verbose) {
  if (verbose) lua_pushlstring(L, t->trace.buf.data ? t->trace.buf.data : "", t->trace.buf.len);
  else lua_pushnil(L);
  kk_trace_reset(&t->trace);
}

static long opt_ms(lua_State *L, int t, const char *field, double dflt) {
  double secs;
  lua_getfield(L, t, field);
  secs = luaL_optnumber(L, -1, dflt);
  lua_pop(L, 1);
  if (!(secs > 0) || secs > 86400.0)
    luaL_error(L, "klikit.core: %s must be a number of seconds in (0, 86400]", field);
  return (long)(secs * 1000.0 + 0.5) > 0 ? (long)(secs * 1000.0 + 0.5) : 1;
}

/* Checks every header before any allocation so no Lua error can leak a curl_slist. */
static void check_headers(lua_State *L, int h) {
  lua_pushnil(L);
  while (lua_next(L, h) != 0) {
    size_t kn, vn;
    const char *k, *v;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "klikit.core: header names and values must be strings");
    k = lua_tolstring(L, -2, &kn);
    v = lua_tolstring(L, -1, &vn);
    if (!kk_header_name_ok(k, kn)) luaL_error(L, "klikit.core: invalid header name");
    if (kk_header_reserved(k, kn)) luaL_error(L, "klikit.core: header %s is set by libcurl", k);
    if (!kk_header_value_ok(v, vn) || kn + vn > 8192)
      luaL_error(L, "klikit.core: invalid value for header %s", k);
    lua_pop(L, 1);
  }
}

/* Builds the header list; returns NULL with *failed set on allocation failure. */
static struct curl_slist *build_headers(lua_State *L, int h, int *failed) {
  struct curl_slist *list = NULL, *next;
  *failed = 0;
  if (h) {
    lua_pushnil(L);
    while (lua_next(L, h) != 0) {
      const char *k = lua_tostring(L, -2), *v = lua_tostring(L, -1);
      char line[8200]; /* check_headers bounds name + value to 8192 */
      if (*v)
        (void)snprintf(line, sizeof line, "%s: %s", k, v);
      else
        (void)snprintf(line, sizeof line, "%s;", k); /* curl's syntax for an empty value */
      next = curl_slist_append(list, line);
      lua_pop(L, 1);
      if (next == NULL) {
        lua_pop(L, 1);
        *failed = 1;
        curl_slist_free_all(list);
        return NULL;
      }
      list = next;
    }
  }
  /* No "Expect: 100-continue" round trip on bodies. */
  next = curl_slist_append(list, "Expect:");
  if (next == NULL) {
    *failed = 1;
    curl_slist_free_all(list);
    return NULL;
  }
  return next;
}

static const char *classify(CURLcode rc, int overflow, int got_status) {
  if (overflow) return "response_too_large";
  /* libcurl refuses a header line over its own limit (CURL_MAX_HTTP_HEADER, 100 KiB) with
   * "out of memory"; once a status line arrived, that is what it means */
  if (rc == CURLE_OUT_OF_MEMORY && got_status) return "response_too_large";
  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT:
    return "timeout";
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    return "tls_verify_failed";
  default:
    return "network_error";
  }
}

static int transport_request(lua_State *L) {
  kk_transport *t = check_transport(L);
  const char *method, *url, *body = NULL;
  size_t mlen, ulen, blen = 0, i;
  long timeout_ms, connect_ms, status = 0;
  int headers_idx = 0, failed, verbose, dirty;
  struct curl_slist *hdrs;
  CURLcode rc;
  CURL *c = t->curl;
  curl_off_t total_us = 0;
  long connects = 0;

  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_getfield(L, 2, "method");
  method = luaL_optlstring(L, -1, "GET", &mlen);
  lua_getfield(L, 2, "url");
  url = lua_tolstring(L, -1, &ulen);
  if (url == NULL || lua_type(L, -1) != LUA_TSTRING)
    return luaL_error(L, "klikit.core: request.url must be a string");
  if (mlen == 0 || mlen > 16) return luaL_error(L, "klikit.core: invalid request.method");
  for (i = 0; i < mlen; i++)
    if (method[i] < 'A' || method[i] > 'Z') return luaL_error(L, "klikit.core: invalid request.method");
  for (i = 0; i < ulen; i++)
    if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
      return luaL_error(L, "klikit.core: request.url contains a control character or space");
  lua_getfield(L, 2, "body");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "klikit.core: request.body must be a string");
    body = lua_tolstring(L, -1, &blen);
  }
  lua_getfield(L, 2, "headers");
  if (!lua_isnil(L, -1)) {
    luaL_checktype(L, -1, LUA_TTABLE);
    headers_idx = lua_gettop(L);
    check_headers(L, headers_idx);
  }
  lua_getfield(L, 2, "verbose");
  verbose = lua_toboolean(L, -1);
  timeout_ms = opt_ms(L, 2, "timeout", 30.0);
  connect_ms = opt_ms(L, 2, "connect_timeout", 10.0);
  if (connect_ms > timeout_ms) connect_ms = timeout_ms;

  hdrs = build_headers(L, headers_idx, &failed);
  if (failed) return luaL_error(L, "klikit.core: out of memory");

  dirty = idle_connection_dirty(t);
  curl_easy_reset(c); /* keeps live connections, DNS and TLS session caches */
  kk_buf_reset(&t->body);
  kk_buf_reset(&t->head);
  t->overflow = 0;
  /* a stray byte on the idle connection: a new one for this transfer, and a cache of one
   * connection, so the stale one is closed once this transfer is done */
  curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
  if (dirty) curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
  t->errbuf[0] = '\0';
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* credentials never go to another host */
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
  if (t->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
  if (t->proxy) curl_easy_setopt(c, CURLOPT_PROXY, t->proxy);
  if (t->noproxy) curl_easy_setopt(c, CURLOPT_NOPROXY, t->noproxy);
  curl_easy_setopt(c, CURLOPT_USERAGENT, t->user_agent);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever this libcurl can decode */
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  kk_trace_reset(&t->trace);
  if (verbose) {
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, t);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  }
  if (strcmp(method, "GET") == 0 && body == NULL) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL || strcmp(method, "GET") != 0) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
      curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    }
  }

  rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hdrs);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total_us);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  if (curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &t->last_sock) != CURLE_OK) t->last_sock = CURL_SOCKET_BAD;

  if (rc != CURLE_OK) {
    int got_status = t->head.len > 0;
    const char *code = classify(rc, t->overflow, got_status);
    lua_pushnil(L);
    lua_pushstring(L, code);
    if (t->overflow == OVER_BODY)
      lua_pushfstring(L, "response body larger than max_body_bytes (%d bytes); refused",
                      (int)(t->max_body > 0x7fffffff ? 0x7fffffff : t->max_body));
    else if (t->overflow == OVER_HEAD)
      lua_pushfstring(L, "response headers larger than %d KiB in all; refused", (int)(KK_MAX_HEADER_BYTES / 1024));
    else if (rc == CURLE_OUT_OF_MEMORY && got_status)
      lua_pushliteral(L, "a response header line is longer than libcurl takes (100 KiB); refused");
    else
      lua_pushstring(L, t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
    lua_pushinteger(L, (lua_Integer)rc);
    push_trace(L, t, verbose);
    release_buffers(t);
    return 5;
  }

  lua_createtable(L, 0, 6);
  lua_pushinteger(L, (lua_Integer)status);
  lua_setfield(L, -2, "status");
  kk_headers_push(L, t->head.data ? t->head.data : "", t->head.len);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
  lua_setfield(L, -2, "body");
  lua_pushnumber(L, (lua_Number)total_us / 1e6);
  lua_setfield(L, -2, "elapsed");
  lua_pushinteger(L, (lua_Integer)connects);
  lua_setfield(L, -2, "connects");
  push_trace(L, t, verbose);
  lua_setfield(L, -2, "trace");
  release_buffers(t);
  return 1;
}

static int transport_close(lua_State *L) {
  kk_transport *t = (kk_transport *)luaL_checkudata(L, 1, KK_TRANSPORT_MT);
  if (t->curl) {
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
  lua_pushfstring(L, "klikit.core.transport (%s)", t->curl ? "open" : "closed");
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
  if (luaL_newmetatable(L, KK_TRANSPORT_MT)) {
    lua_newtable(L);
    kk_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, transport_close);
    lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, transport_close);
    lua_setfield(L, -2, "__close");
#endif
    lua_pushcfunction(L, transport_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, transport_new);
}
