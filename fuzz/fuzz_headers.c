/* libFuzzer harness for the header paths: kk_headers_feed (what libcurl's header callback
 * does with each line), kk_headers_push (the block -> Lua table parser) and kk_trace_append
 * (curl's verbose lines, with credentials redacted, for the logger).
 *
 * Input: a byte stream cut into lines at '\n', fed one by one as libcurl would, against
 * a small cap so the overflow path runs too. The final block is copied into an
 * exactly-sized heap buffer so ASan sees any read past its end.
 *
 * Invariants: the cap holds; every name is a lowercase RFC 9110 token; no value holds a
 * line break or starts or ends with blanks. Every trace line carries its prefix, nothing
 * but " [redacted]" follows an "authorization:", and the trace stays within its cap. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"

#define CAP 2048
#define TRACE_CAP 1024
#define TRACE_MARK "* [trace truncated]\n"

static lua_State *L;
static unsigned long runs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_table(int t) {
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    size_t kn, vn, i;
    const char *k, *v;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) fuzz_fail("non-string header");
    k = lua_tolstring(L, -2, &kn);
    if (!kk_header_name_ok(k, kn)) fuzz_fail("header name is not a token");
    for (i = 0; i < kn; i++)
      if (isupper((unsigned char)k[i])) fuzz_fail("header name not lowercased");
    v = lua_tolstring(L, -1, &vn);
    if (memchr(v, '\n', vn)) fuzz_fail("line break in a header value");
    if (vn > 0 && (v[0] == ' ' || v[0] == '\t' || v[vn - 1] == ' ' || v[vn - 1] == '\t' || v[vn - 1] == '\r'))
      fuzz_fail("header value not trimmed");
    lua_pop(L, 1);
  }
}

static void check_trace(const kk_trace *tr) {
  const char *p = tr->buf.data, *end;
  if (p == NULL) return; /* nothing traced */
  end = p + tr->buf.len;
  if (tr->buf.len > TRACE_CAP + strlen(TRACE_MARK)) fuzz_fail("trace exceeds its cap");
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n, i;
    if (nl == NULL) fuzz_fail("trace does not end with a line break");
    n = (size_t)(nl - p);
    if (n < 3 || !(p[0] == '*' || p[0] == '>' || p[0] == '<') || p[1] != ' ') fuzz_fail("trace line without prefix");
    for (i = 0; i + 14 <= n; i++) {
      if (strncasecmp(p + i, "authorization:", 14) == 0) {
        if (n - i - 14 != 11 || memcmp(p + i + 14, " [redacted]", 11) != 0) fuzz_fail("credential not redacted");
        break;
      }
    }
    p = nl + 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kk_buf head = {NULL, 0, 0};
  kk_trace trace = {{NULL, 0, 0}, TRACE_CAP, 0};
  const char *p = (const char *)data, *end = p + size;
  char *exact;
  if (L == NULL) L = fuzz_new_state();
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    size_t before = head.len;
    int rc = kk_headers_feed(&head, p, n, CAP);
    kk_trace_append(&trace, (unsigned char)p[0] % 3, p, n); /* as curl's debug callback */
    if (rc < 0) fuzz_fail("out of memory");
    if (rc > 0 && !(n >= 5 && memcmp(p, "HTTP/", 5) == 0 ? n > CAP : before + n > CAP))
      fuzz_fail("feed refused a line within the cap");
    if (head.len > CAP) fuzz_fail("header block exceeds the cap");
    if (rc > 0) break; /* libcurl aborts the transfer here */
    p += n;
  }
  exact = malloc(head.len ? head.len : 1);
  if (exact == NULL) fuzz_fail("out of memory");
  if (head.len) memcpy(exact, head.data, head.len);
  kk_headers_push(L, exact, head.len);
  check_table(lua_gettop(L));
  free(exact);
  kk_buf_free(&head);
  check_trace(&trace);
  kk_buf_free(&trace.buf);
  fuzz_settle(L, &runs);
  return 0;
}
