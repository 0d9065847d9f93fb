/* One HTTP transfer on a transport's easy handle, in steps that the blocking request
 * (kk_transport.c) and the multi driver (kk_multi.c) share: setup (read and check the Lua
 * request, set every libcurl option), perform (curl_easy_perform here, the multi's own
 * loop there), finish (read libcurl's info, free the request's allocations) and push (the
 * Lua answer). Both paths therefore send and answer exactly alike.
 *
 * No Lua code runs inside libcurl callbacks: they only append to C buffers, so no Lua
 * error can longjmp through libcurl frames. */
#include <poll.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>

#include <lauxlib.h>

#include "kk_compat.h"
#include "kk_internal.h"

#define KK_MAX_HEADER_BYTES ((size_t)256 * 1024)
/* Buffers up to this size are kept for the next transfer: a page of 100 orders (~500 KB)
 * reuses its buffer instead of a free, a trim and page faults on every request. Larger
 * ones are freed and handed back to the system after each transfer. */
#define KK_KEEP_BUFFER ((size_t)2 * 1024 * 1024)
#define KK_MAX_HEADER_LINE 8192               /* name and value of one request header */

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

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud) {
  kk_transport *t = (kk_transport *)ud;
  (void)h;
  if (type == CURLINFO_TEXT) kk_trace_append(&t->trace, KK_TRACE_INFO, data, size);
  else if (type == CURLINFO_HEADER_OUT) kk_trace_append(&t->trace, KK_TRACE_HEADER_OUT, data, size);
  else if (type == CURLINFO_HEADER_IN) kk_trace_append(&t->trace, KK_TRACE_HEADER_IN, data, size);
  return 0; /* bodies and TLS records are not traced */
}

/* Is the connection the last transfer left idle still quiet? Bytes (or a close) waiting on
 * an idle HTTP/1.1 connection belong to no request: reusing it would read them as the
 * answer to the next one. */
static int idle_connection_dirty(const kk_transport *t) {
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
  kk_trace_reset(&t->trace);
#if defined(__GLIBC__)
  /* glibc keeps freed heap pages (and, after one large free, serves the next large
   * buffers from the heap too): hand them back to the system */
  if (freed) (void)malloc_trim(0);
#else
  (void)freed;
#endif
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
    const char *k, *v, *why;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "klikit.core: header names and values must be strings");
    k = lua_tolstring(L, -2, &kn);
    v = lua_tolstring(L, -1, &vn);
    why = kk_header_problem(k, kn, v, vn);
    if (why != NULL) luaL_error(L, "klikit.core: header %s %s", kk_header_name_ok(k, kn) ? k : "?", why);
    lua_pop(L, 1);
  }
}

/* Builds the header list; NULL on allocation failure. */
static struct curl_slist *build_headers(lua_State *L, int h) {
  struct curl_slist *list = NULL, *next;
  if (h) {
    lua_pushnil(L);
    while (lua_next(L, h) != 0) {
      const char *k = lua_tostring(L, -2), *v = lua_tostring(L, -1);
      char line[KK_MAX_HEADER_LINE + 8]; /* kk_header_problem bounds name + value */
      if (*v)
        (void)snprintf(line, sizeof line, "%s: %s", k, v);
      else
        (void)snprintf(line, sizeof line, "%s;", k); /* curl's syntax for an empty value */
      next = curl_slist_append(list, line);
      lua_pop(L, 1);
      if (next == NULL) {
        lua_pop(L, 1);
        curl_slist_free_all(list);
        return NULL;
      }
      list = next;
    }
  }
  /* No "Expect: 100-continue" round trip on bodies. */
  next = curl_slist_append(list, "Expect:");
  if (next == NULL) curl_slist_free_all(list);
  return next;
}

/* Reads method, url and body of the request table at `req`; raises on bad input. */
static void read_request(lua_State *L, int req, const char **method, const char **url, const char **body,
                         size_t *blen) {
  size_t mlen, ulen, i;
  const char *m, *u;
  lua_getfield(L, req, "method");
  m = luaL_optlstring(L, -1, "GET", &mlen);
  lua_getfield(L, req, "url");
  u = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &ulen) : NULL;
  if (u == NULL) {
    (void)luaL_error(L, "klikit.core: request.url must be a string");
    return;
  }
  if (mlen == 0 || mlen > 16) (void)luaL_error(L, "klikit.core: invalid request.method");
  for (i = 0; i < mlen; i++)
    if (m[i] < 'A' || m[i] > 'Z') (void)luaL_error(L, "klikit.core: invalid request.method");
  for (i = 0; i < ulen; i++)
    if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
      (void)luaL_error(L, "klikit.core: request.url contains a control character or space");
  *method = m;
  *url = u;
  lua_getfield(L, req, "body");
  *body = NULL;
  *blen = 0;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) (void)luaL_error(L, "klikit.core: request.body must be a string");
    *body = lua_tolstring(L, -1, blen);
  }
}

static void set_method(CURL *c, const char *method, const char *body, size_t blen) {
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
}

void kk_transfer_setup(lua_State *L, kk_transport *t, int req, int in_multi) {
  const char *method = "GET", *url = NULL, *body = NULL;
  size_t blen = 0;
  long timeout_ms, connect_ms;
  int headers_idx = 0, dirty;
  CURL *c = t->curl;
  kk_transfer *x = &t->xfer;

  read_request(L, req, &method, &url, &body, &blen);
  lua_getfield(L, req, "headers");
  if (!lua_isnil(L, -1)) {
    luaL_checktype(L, -1, LUA_TTABLE);
    headers_idx = lua_gettop(L);
    check_headers(L, headers_idx);
  }
  lua_getfield(L, req, "verbose");
  x->verbose = lua_toboolean(L, -1);
  lua_getfield(L, req, "direct");
  x->direct = lua_toboolean(L, -1);
  timeout_ms = opt_ms(L, req, "timeout", 30.0);
  connect_ms = opt_ms(L, req, "connect_timeout", 10.0);
  if (connect_ms > timeout_ms) connect_ms = timeout_ms;

  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(x->headers); /* left by a transfer a Lua error cut short */
  x->headers = build_headers(L, headers_idx);
  if (x->headers == NULL) luaL_error(L, "klikit.core: out of memory");

  x->in_multi = in_multi;
  dirty = !in_multi && idle_connection_dirty(t);
  curl_easy_reset(c); /* keeps live connections, DNS and TLS session caches */
  kk_buf_reset(&t->body);
  kk_buf_reset(&t->head);
  kk_trace_reset(&t->trace);
  t->overflow = 0;
  t->errbuf[0] = '\0';
  /* a stray byte on the idle connection: a new one for this transfer, and a cache of one
   * connection, so the stale one is closed once this transfer is done (a multi ignores
   * both: kk_stray.c checks its connections) */
  curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
  if (dirty) curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
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
  if (x->direct) curl_easy_setopt(c, CURLOPT_PROXY, ""); /* no proxy, not even from the environment */
  curl_easy_setopt(c, CURLOPT_USERAGENT, t->user_agent);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* whatever this libcurl can decode */
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
  if (x->verbose) {
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, t);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
  }
  set_method(c, method, body, blen);
}

/* libcurl's own header limits: a line over CURL_MAX_HTTP_HEADER (100 KiB, a status line
 * too) ends in "out of memory", and all header blocks together (interim 1xx ones too) over
 * 300 KiB in "Too large response headers". Either is an answer too large, not a network
 * failure to retry. */
static int curl_header_limit(CURLcode rc, const char *errbuf) {
  return rc == CURLE_OUT_OF_MEMORY || strstr(errbuf, "oo large response header") != NULL;
}

static const char *classify(CURLcode rc, int overflow, const char *errbuf) {
  if (overflow) return "response_too_large";
  if (curl_header_limit(rc, errbuf)) return "response_too_large";
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

/* Pushes the failure: nil, code, message, curl_code, trace. */
static int push_failure(lua_State *L, kk_transport *t, CURLcode rc, int verbose) {
  lua_pushnil(L);
  lua_pushstring(L, classify(rc, t->overflow, t->errbuf));
  if (t->overflow == OVER_BODY)
    lua_pushfstring(L, "response body larger than max_body_bytes (%d bytes); refused",
                    (int)(t->max_body > 0x7fffffff ? 0x7fffffff : t->max_body));
  else if (t->overflow == OVER_HEAD)
    lua_pushfstring(L, "response headers larger than %d KiB in all; refused", (int)(KK_MAX_HEADER_BYTES / 1024));
  else if (curl_header_limit(rc, t->errbuf))
    lua_pushliteral(L, "response headers larger than libcurl takes (a header line over 100 KiB, or 300 KiB "
                       "in all with interim 1xx answers); refused");
  else
    lua_pushstring(L, t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
  lua_pushinteger(L, (lua_Integer)rc);
  if (verbose) lua_pushlstring(L, t->trace.buf.data ? t->trace.buf.data : "", t->trace.buf.len);
  else lua_pushnil(L);
  return 5;
}

void kk_transfer_finish(kk_transport *t, CURLcode rc, kk_outcome *o) {
  CURL *c = t->curl;
  o->rc = rc;
  o->status = o->connects = 0;
  o->total_us = 0;
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(t->xfer.headers);
  t->xfer.headers = NULL;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &o->status);
  curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &o->total_us);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &o->connects);
  /* the handle's own cache keeps the connection it had before a multi transfer */
  if (!t->xfer.in_multi && curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &t->last_sock) != CURLE_OK)
    t->last_sock = CURL_SOCKET_BAD;
}

int kk_transfer_push(lua_State *L, kk_transport *t, const kk_outcome *o) {
  int n = 1, verbose = t->xfer.verbose;
  if (o->rc != CURLE_OK) {
    n = push_failure(L, t, o->rc, verbose);
  } else {
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, (lua_Integer)o->status);
    lua_setfield(L, -2, "status");
    kk_headers_push(L, t->head.data ? t->head.data : "", t->head.len);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
    lua_setfield(L, -2, "body");
    lua_pushnumber(L, (lua_Number)o->total_us / 1e6);
    lua_setfield(L, -2, "elapsed");
    lua_pushinteger(L, (lua_Integer)o->connects);
    lua_setfield(L, -2, "connects");
    if (verbose) {
      lua_pushlstring(L, t->trace.buf.data ? t->trace.buf.data : "", t->trace.buf.len);
      lua_setfield(L, -2, "trace");
    }
  }
  release_buffers(t);
  return n;
}

void kk_transfer_discard(kk_transport *t) {
  if (t->curl) curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(t->xfer.headers);
  t->xfer.headers = NULL;
  release_buffers(t);
}
