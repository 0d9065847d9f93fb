/* curl's verbose output captured for the Lua logger, one entry per line and prefixed as
 * `curl -v` prints it ("* " info, "> " header sent, "< " header received). Bodies and TLS
 * records are not captured. Authorization headers are replaced here, before the text can
 * reach Lua, so no logger ever sees the credentials. Pure code over byte ranges:
 * `make fuzz` drives it with the header harness. */
#include <string.h>
#include <strings.h>

#include "kk_internal.h"

#define TRUNCATED_MARK "* [trace truncated]\n"

#define CREDENTIAL_NAME "authorization:" /* also matches proxy-authorization: */
#define CREDENTIAL_NAME_LEN (sizeof CREDENTIAL_NAME - 1)
#define REDACTED " [redacted]"

/* Finds an "authorization:" anywhere in the line, so header lines and curl's own echoes
 * of headers (HTTP/2 "h2h3 [authorization: ...]" info lines) are both covered; *keep is
 * how much of the line may be shown (all of it when there is none). */
static int find_credential(const char *line, size_t n, size_t *keep) {
  size_t i;
  for (i = 0; i + CREDENTIAL_NAME_LEN <= n; i++) {
    if (strncasecmp(line + i, CREDENTIAL_NAME, CREDENTIAL_NAME_LEN) == 0) {
      *keep = i + CREDENTIAL_NAME_LEN;
      return 1;
    }
  }
  *keep = n;
  return 0;
}

/* Appends one line (without its line break); 0 ok, 1 the cap was reached. */
static int add_line(kk_trace *tr, const char *prefix, const char *line, size_t n) {
  size_t keep;
  int cred = find_credential(line, n, &keep);
  size_t need = 2 + keep + (cred ? sizeof REDACTED - 1 : 0) + 1;
  if (tr->buf.len + need > tr->cap) {
    tr->truncated = 1;
    (void)kk_buf_append(&tr->buf, TRUNCATED_MARK, sizeof TRUNCATED_MARK - 1);
    return 1;
  }
  if (kk_buf_append(&tr->buf, prefix, 2) != 0 || kk_buf_append(&tr->buf, line, keep) != 0 ||
      (cred && kk_buf_append(&tr->buf, REDACTED, sizeof REDACTED - 1) != 0) ||
      kk_buf_append(&tr->buf, "\n", 1) != 0) {
    tr->truncated = 1; /* out of memory: stop tracing rather than fail the request */
    return 1;
  }
  return 0;
}

void kk_trace_append(kk_trace *tr, int type, const char *data, size_t size) {
  const char *prefix = type == KK_TRACE_HEADER_OUT ? "> " : type == KK_TRACE_HEADER_IN ? "< " : "* ";
  const char *p = data, *end = data + size;
  if (tr->truncated) return; /* full: later callbacks are dropped without a scan */
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    size_t n = (size_t)(line_end - p);
    if (n > 0 && p[n - 1] == '\r') n--;
    if (n > 0 && add_line(tr, prefix, p, n) != 0) return;
    p = nl ? nl + 1 : end;
  }
}

void kk_trace_reset(kk_trace *tr) {
  kk_buf_reset(&tr->buf);
  tr->truncated = 0;
}
