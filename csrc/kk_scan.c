/* The scanner half of the single-pass decoder: strings and escapes as lua-cjson reads
 * them, object keys for projections, and kk_dec_skip, which validates and counts a value
 * exactly as kk_decode.c would build it and builds nothing (the skipped parts of a
 * projection). */
#include <stdint.h>
#include <string.h>

#include "kk_decode.h"

const unsigned char kk_str_stop[256] = {[0] = 1, ['"'] = 1, ['\\'] = 1};

static int hex4(const char *h) {
  int i, v = 0;
  for (i = 0; i < 4; i++) {
    int c = (unsigned char)h[i], x;
    if (KK_IS_DIGIT(c)) x = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') x = (c | 0x20) - 'a' + 10;
    else return -1; /* a NUL too: nothing past it is read */
    v = v * 16 + x;
  }
  return v;
}

const char *kk_dec_unescape(const char *q, char *out, size_t *n) {
  int cp;
  *n = 1;
  switch (q[1]) {
  case '"': case '\\': case '/': out[0] = q[1]; return q + 2;
  case 'b': out[0] = '\b'; return q + 2;
  case 'f': out[0] = '\f'; return q + 2;
  case 'n': out[0] = '\n'; return q + 2;
  case 'r': out[0] = '\r'; return q + 2;
  case 't': out[0] = '\t'; return q + 2;
  case 'u': break;
  default: return NULL;
  }
  cp = hex4(q + 2);
  if (cp < 0) return NULL;
  if ((cp & 0xF800) == 0xD800) {
    if ((cp & 0x400) || q[6] != '\\' || q[7] != 'u') return NULL;
    int lo = hex4(q + 8);
    if (lo < 0 || (lo & 0xFC00) != 0xDC00) return NULL;
    cp = (((cp & 0x3FF) << 10) | (lo & 0x3FF)) + 0x10000;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    *n = 4;
    return q + 12;
  }
  if (cp < 0x80) {
    out[0] = (char)cp;
  } else if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    *n = 2;
  } else {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    *n = 3;
  }
  return q + 6;
}

/* After the '"' at p: the byte after the closing quote, or NULL. */
static inline const char *skip_string(const char *q) {
  char u[4];
  size_t n;
  for (;;) {
    q = kk_str_run(q);
    if (*q == '"') return q + 1;
    if (*q == '\0' || (q = kk_dec_unescape(q, u, &n)) == NULL) return NULL;
  }
}

int kk_dec_key(kk_dec *d, const char *p, const char **k, size_t *n, char *buf, size_t cap) {
  const char *q = kk_str_run(p + 1), *run;
  size_t len = 0, un;
  char u[4];
  if (*q == '"') {
    *k = p + 1;
    *n = (size_t)(q - p - 1);
    d->p = q + 1;
    return 0;
  }
  run = p + 1;
  for (;;) { /* with escapes: decoded into buf while it fits */
    size_t m = (size_t)(q - run);
    if (len != (size_t)-1 && len + m <= cap) memcpy(buf + len, run, m), len += m;
    else len = (size_t)-1;
    if (*q == '"') break;
    if (*q == '\0' || (q = kk_dec_unescape(q, u, &un)) == NULL) return -1;
    if (len != (size_t)-1 && len + un <= cap) memcpy(buf + len, u, un), len += un;
    else len = (size_t)-1;
    run = q;
    q = kk_str_run(q);
  }
  *k = buf;
  *n = len;
  d->p = q + 1;
  return 0;
}

/* A string, number or literal at p: the byte after it, or NULL. */
static inline const char *skip_scalar(const char *p) {
  int simple;
  uint64_t v;
  switch (*p) {
  case '"': return skip_string(p + 1);
  case 't': return p[1] == 'r' && p[2] == 'u' && p[3] == 'e' ? p + 4 : NULL;
  case 'f': return p[1] == 'a' && p[2] == 'l' && p[3] == 's' && p[4] == 'e' ? p + 5 : NULL;
  case 'n': return kk_is_null(p) ? p + 4 : NULL;
  case '-': case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    return kk_scan_number(p, &simple, &v);
  default: return NULL;
  }
}

/* Skips a container opened just before p; `close` is '}' or ']'. */
static int skip_container(kk_dec *d, const char *p, char close) {
  if (kk_dec_enter(d)) return -1;
  p = kk_ws(p);
  if (*p != close) {
    for (;;) {
      const char *q;
      if (close == '}') {
        if (*p != '"' || (q = skip_string(p + 1)) == NULL) return kk_dec_syntax(d, p, "object key string");
        p = kk_ws(q);
        if (*p != ':') return kk_dec_syntax(d, p, "colon");
        if (kk_dec_count(d)) return -1;
        p = kk_ws(p + 1);
      }
      if (*p == '{' || *p == '[') {
        if (skip_container(d, p + 1, *p == '{' ? '}' : ']')) return -1;
        q = d->p;
      } else if ((q = skip_scalar(p)) == NULL) {
        return kk_dec_syntax(d, p, "value");
      }
      p = kk_ws(q);
      if (*p == ',') {
        if (kk_dec_count(d)) return -1;
        p = kk_ws(p + 1);
      } else if (*p != close) {
        return kk_dec_syntax(d, p, close == '}' ? "comma or object end" : "comma or array end");
      } else {
        break;
      }
    }
  }
  d->p = p + 1;
  d->depth--;
  return 0;
}

int kk_dec_skip(kk_dec *d) {
  const char *p = d->p, *q;
  if (*p == '{' || *p == '[') return skip_container(d, p + 1, *p == '{' ? '}' : ']');
  if ((q = skip_scalar(p)) == NULL) return kk_dec_syntax(d, p, "value");
  d->p = q;
  return 0;
}

const char *kk_dec_number_end(const char *p) {
  int simple;
  uint64_t v;
  return kk_scan_number(p, &simple, &v);
}
