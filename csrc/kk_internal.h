/* Interfaces shared between the C files of klikit.core. Only luaopen_klikit_core leaves
 * the shared object: the Makefile builds with -fvisibility=hidden, and the declarations
 * below are hidden anyway, for builds that pass no such flag (LuaRocks' builtin backend). */
#ifndef KK_INTERNAL_H
#define KK_INTERNAL_H

#include <stddef.h>

#include <curl/curl.h>
#include <lua.h>
#include <lauxlib.h>

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

#define KK_VERSION "0.1.0"

/* Growable byte buffer (lua-cjson's strbuf, trimmed down). */
typedef struct {
  char *data;
  size_t len;
  size_t cap;
} kk_buf;

int kk_buf_append(kk_buf *b, const char *p, size_t n); /* 0 ok, -1 out of memory */
void kk_buf_reset(kk_buf *b);                          /* len = 0, keeps storage */
void kk_buf_free(kk_buf *b);

/* Header syntax (kk_headers.c). name_ok: an RFC 9110 token; value_ok: no control
 * character but tab; reserved: framing and hop-by-hop names a caller may not set;
 * problem: NULL for a header that may be sent, else what is wrong with it. */
int kk_header_name_ok(const char *s, size_t n);
int kk_header_value_ok(const char *s, size_t n);
int kk_header_reserved(const char *s, size_t n);
const char *kk_header_problem(const char *name, size_t nn, const char *value, size_t vn);
/* Appends one header line as libcurl delivers it to the block in `head`; a status line
 * starts a new block. 0 ok, 1 the block would exceed `cap` bytes, -1 out of memory. */
int kk_headers_feed(kk_buf *head, const char *line, size_t n, size_t cap);
/* Pushes the block as a table {lowercase-name = value}. */
void kk_headers_push(lua_State *L, const char *block, size_t len);

/* curl verbose capture (kk_trace.c): lines prefixed "* ", "> " or "< ", credentials
 * replaced, at most `cap` bytes (then one truncation mark). */
enum { KK_TRACE_INFO, KK_TRACE_HEADER_OUT, KK_TRACE_HEADER_IN };
typedef struct {
  kk_buf buf;
  size_t cap;
  int truncated;
} kk_trace;
void kk_trace_append(kk_trace *tr, int type, const char *data, size_t size);
void kk_trace_reset(kk_trace *tr);

/* URL parsing with libcurl's URL API (kk_url.c): calls cb for every part present
 * (scheme, user, password, options, host, zoneid, port, path, query, fragment).
 * 0 ok, -1 empty or NUL in the URL, -2 out of memory, else a CURLUcode. */
typedef void (*kk_url_cb)(void *ud, const char *name, const char *value);
int kk_url_parse(const char *url, size_t len, kk_url_cb cb, void *ud);
/* Adds `url_parts` to the module table on top of the stack. */
void kk_url_register(lua_State *L);

/* A libcurl transport (kk_transport.c) and one transfer on it (kk_transfer.c). The
 * transfer's own allocations live on the transport, so a Lua error anywhere between setup
 * and result leaks nothing: the next setup or close frees what is left. */
typedef struct {
  struct curl_slist *headers;
  int verbose;
  int direct;   /* request.direct: never through a proxy */
  int in_multi; /* on a multi's connections, not the handle's own cache */
} kk_transfer;

typedef struct kk_multi kk_multi;

#define KK_TRANSPORT_MT "klikit.core.transport"

typedef struct kk_transport {
  CURL *curl;
  char errbuf[CURL_ERROR_SIZE];
  kk_buf body;
  kk_buf head;
  kk_trace trace; /* filled only for requests with verbose = true */
  kk_transfer xfer;
  size_t max_body;
  int overflow;            /* set by a callback that refused data over a cap */
  curl_socket_t last_sock; /* the connection the last transfer left in libcurl's cache */
  char *user_agent;
  char *ca_file;
  char *proxy;   /* NULL: libcurl's default (environment) */
  char *noproxy; /* NULL: libcurl's default */
  int insecure;  /* TLS verification off: only from the explicit insecure_skip_tls_verify */
  /* kk_multi.c: the multi this transport's transfer is in (NULL: none), its place in that
   * multi's list, the registry ref that keeps the userdata alive meanwhile, and whether it
   * was closed in flight (then the next perform reports it failed) */
  kk_multi *multi;
  struct kk_transport *mprev, *mnext;
  int mref;
  int cancelled;
  int stray;       /* 1: aborted over stray bytes on its connection, to restart; 2: restarted */
  unsigned serial; /* counts the transport's multi transfers (which sockets are its own) */
} kk_transport;

/* What a finished transfer left in libcurl, read before the handle leaves a multi. */
typedef struct {
  CURLcode rc;
  long status;
  long connects;
  curl_off_t total_us;
} kk_outcome;

/* The open transport at index idx; raises if it is not one or is closed. */
kk_transport *kk_check_transport(lua_State *L, int idx);
/* Reads the request table at index req and sets every option of t's handle; raises on bad
 * input before allocating anything that would leak. in_multi: for a multi (kk_multi.c),
 * whose connections are shared and checked there, not in the handle's own cache. */
void kk_transfer_setup(lua_State *L, kk_transport *t, int req, int in_multi);
/* After the transfer: reads libcurl's info and frees the request's allocations (no Lua). */
void kk_transfer_finish(kk_transport *t, CURLcode rc, kk_outcome *o);
/* Pushes { status, headers, body, elapsed, connects, trace } or nil, code, message,
 * curl_code, trace; releases the buffers. Returns the number of values. */
int kk_transfer_push(lua_State *L, kk_transport *t, const kk_outcome *o);
/* Frees what a transfer that will not finish (closed, removed) allocated. */
void kk_transfer_discard(kk_transport *t);

/* A multi (kk_multi.c), and the sockets libcurl opened for its transfers (kk_stray.c). */
#define KK_MAX_SOCKS 128

/* A socket libcurl opened for one of the multi's transfers, and for which one. */
typedef struct {
  curl_socket_t fd;
  const kk_transport *owner; /* compared, never followed */
  unsigned serial;
} kk_sock;

struct kk_multi {
  CURLM *m;           /* NULL once closed */
  kk_transport *head; /* the transports in flight, closed (cancelled) ones too */
  int count;          /* transfers in the list */
  int cancelled;      /* of which closed in flight, reported by the next perform */
  kk_sock socks[KK_MAX_SOCKS]; /* the newest ones (a ring past KK_MAX_SOCKS) */
  int nsocks, next_sock;
};

/* kk_multi.c: takes a transport being closed out of its multi (reported failed later). */
void kk_multi_cancel(kk_transport *t);
/* kk_stray.c: sets t's handle (set up, t->multi set) to be checked for stray bytes on a
 * reused connection; kk_stray_restarted: 1 when a transfer aborted for them started again. */
void kk_stray_watch(kk_transport *t);
int kk_stray_restarted(kk_multi *m, kk_transport *t, CURLcode rc);
/* Registers the multi metatable and pushes the `new_multi` function. */
void kk_multi_open(lua_State *L);

/* Registers the transport metatable and pushes the `new_transport` function. */
void kk_transport_open(lua_State *L);
/* JSON (kk_json.c): the value and depth guard (0 within limits, 1 too many values, 2 too
 * deep), normalisation of decoded values, and `decode_json` (expects the cjson.safe decode
 * function on top, like kk_envelope_open). */
#define KK_MAX_JSON_VALUES 500000 /* a 100-order page holds about 23,000 */
#define KK_MAX_JSON_DEPTH 200
int kk_json_within(const char *s, size_t n, size_t max_values, int max_depth);
void kk_json_normalize_table(lua_State *L);
void kk_json_normalize_top(lua_State *L);
void kk_json_open(lua_State *L);
/* The single-pass decoder (kk_decode.c, kk_decode_err.c, kk_project.c): what lua-cjson
 * followed by normalisation gave, in one pass. Decodes s[0..len) (NUL-terminated) and
 * returns KK_DEC_OK with the value pushed, KK_DEC_VALUES or KK_DEC_DEPTH (kk_json_within's
 * answers) with nothing pushed, or KK_DEC_SYNTAX with lua-cjson's message pushed.
 * envelope: a top-level object keeps null members (as the NULL lightuserdata) for the
 * envelope's checks. f: rows projected to these fields (NULL: everything built). */
enum { KK_DEC_OK = 0, KK_DEC_VALUES = 1, KK_DEC_DEPTH = 2, KK_DEC_SYNTAX = 3, KK_DEC_STACK = 4 };
typedef struct kk_fields kk_fields;
int kk_decode(lua_State *L, const char *s, size_t len, size_t max_values, int envelope, const kk_fields *f);
/* The projection at idx: NULL for none or nil, else a compile_fields result (raises). */
const kk_fields *kk_fields_opt(lua_State *L, int idx);
/* Adds `compile_fields` to the module table on top of the stack. */
void kk_fields_register(lua_State *L);
/* Pushes the envelope decoder closures (decode_envelope, _decode_envelope_reference);
 * expects the cjson.safe decode function on top. */
void kk_envelope_open(lua_State *L);
/* Header checks and parsing for Lua (kk_headers.c): header_problem, parse_headers. */
void kk_headers_register(lua_State *L);
/* Checkpoint files (kk_files.c): write_atomic, lock, isatty. */
void kk_files_register(lua_State *L);
void kk_crypto_register(lua_State *L);
/* Pure helpers: base64 and UUIDv4 strings. */
void kk_helpers_register(lua_State *L);
/* The metatable `name` of a closable object (the transport, the multi): `methods` as
 * __index, `close` as __gc (and __close on 5.4), `tostring` as __tostring. */
void kk_class_register(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                       lua_CFunction tostring);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

/* The module entry point, the only exported symbol. */
int luaopen_klikit_core(lua_State *L);

#endif
