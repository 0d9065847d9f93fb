/* The single-pass JSON decoder's insides, shared by kk_decode.c (scanner and builder),
 * kk_decode_err.c (lua-cjson's error messages) and kk_project.c (projections). Everything
 * else sees only kk_decode() and the registration functions of kk_internal.h. */
#ifndef KK_DECODE_H
#define KK_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "kk_internal.h"

#if defined(__GNUC__)
#pragma GCC visibility push(hidden) /* see kk_internal.h */
#endif

/* One decode. `s` is NUL-terminated (every Lua string is): like lua-cjson, a NUL ends the
 * document. `values` counts what kk_json_within counts (1, then every '{', '[', ',' and ':'
 * outside strings) so that both refuse the same bodies at the same limits. */
typedef struct {
  lua_State *L;
  const char *s;      /* the body */
  const char *p;      /* the cursor */
  size_t values;      /* the guard's count so far */
  size_t max_values;  /* over it: KK_DEC_VALUES */
  int depth;          /* containers open; over KK_MAX_JSON_DEPTH: KK_DEC_DEPTH */
  int status;         /* why the decode stopped (KK_DEC_*) */
  const char *err_at; /* KK_DEC_SYNTAX: where the token lua-cjson reports starts */
  const char *expect; /* KK_DEC_SYNTAX: what lua-cjson expected there */
  char point;         /* the C locale's decimal point (strtod follows it) */
} kk_dec;

/* Builds the value at d->p (whitespace skipped) and pushes it: objects without their null
 * members, null array elements (and a null at the top) as the NULL lightuserdata. */
int kk_dec_value(kk_dec *d);
/* The same with an object's null members kept as the NULL lightuserdata (the envelope). */
int kk_dec_object(kk_dec *d, const char *after_brace, int keep_nulls);
/* Pushes the string at p (a '"'); d->p goes past it. -1: refused (nothing recorded). */
int kk_dec_string(kk_dec *d, const char *p);
/* Validates and counts the value at d->p and builds nothing. */
int kk_dec_skip(kk_dec *d);
/* The object key at p (a '"'): *k, *n name its bytes (in the body, or decoded into buf);
 * *n is (size_t)-1 when the decoded key does not fit in cap. d->p goes past it. -1: not
 * a string lua-cjson accepts (nothing recorded: the caller knows the context). */
int kk_dec_key(kk_dec *d, const char *p, const char **k, size_t *n, char *buf, size_t cap);
/* Record a failure; both return -1. */
int kk_dec_fail(kk_dec *d, int status);
int kk_dec_syntax(kk_dec *d, const char *at, const char *expect);
/* Pushes lua-cjson's message for a syntax error found at `at` where `expect` was due
 * (at == NULL: the UTF-16 refusal), e.g. "Expected value but found T_END at character 9". */
void kk_dec_push_message(lua_State *L, const char *s, const char *at, const char *expect);
/* The escape at q (a backslash) as UTF-8 in out (1 to 4 bytes, *n): the byte after it, or
 * NULL where lua-cjson refuses it (unknown escape, bad hex, a surrogate that is not a
 * high-low pair). */
const char *kk_dec_unescape(const char *q, char *out, size_t *n);
/* The number at p: the byte after it, or NULL (kk_scan_number without the value). */
const char *kk_dec_number_end(const char *p);
/* Non-zero for the bytes that end a run of plain string characters: NUL, '"', '\\'. */
extern const unsigned char kk_str_stop[256];

/* The first NUL, '"' or '\\' from q on. (Eight bytes at a time was measured: no faster on
 * klikit's pages, whose strings are short.) */
static inline const char *kk_str_run(const char *q) {
  while (!kk_str_stop[(unsigned char)*q]) q++;
  return q;
}

/* The projection walk (kk_project.c): the envelope at d->p, rows projected by f. */
int kk_project_root(kk_dec *d, const kk_fields *f);

static inline const char *kk_ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

static inline int kk_is_null(const char *p) { return p[0] == 'n' && p[1] == 'u' && p[2] == 'l' && p[3] == 'l'; }

#define KK_IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)

/* The number at p as strtod() reads it after lua-cjson's checks: the byte after it, or
 * NULL. *simple: an integer of at most 15 digits, exact in *v. */
static inline const char *kk_scan_number(const char *p, int *simple, uint64_t *v) {
  const char *q = p + (*p == '-'), *digits = q;
  uint64_t x = 0;
  if (q[0] == '0' && (KK_IS_DIGIT(q[1]) || (q[1] | 0x20) == 'x')) return NULL;
  while (KK_IS_DIGIT(*q)) x = x * 10 + (uint64_t)(*q++ - '0');
  *v = x;
  *simple = q > digits && q - digits <= 15 && *q != '.' && (*q | 0x20) != 'e';
  if (*simple) return q;
  if (*q == '.') {
    const char *frac = ++q;
    while (KK_IS_DIGIT(*q)) q++;
    if (q == frac && frac - 1 == digits) return NULL; /* "." or "-." */
  } else if (q == digits) {
    return NULL; /* "-", "-x", "-inf", ... */
  }
  if ((*q | 0x20) == 'e') { /* strtod takes an exponent only with digits */
    const char *e = q + 1 + (q[1] == '+' || q[1] == '-');
    if (KK_IS_DIGIT(*e)) {
      while (KK_IS_DIGIT(*e)) e++;
      q = e;
    }
  }
  return q;
}

/* A container opens: the guard checks depth first, then counts it. */
static inline int kk_dec_enter(kk_dec *d) {
  if (++d->depth > KK_MAX_JSON_DEPTH) return kk_dec_fail(d, KK_DEC_DEPTH);
  if (++d->values > d->max_values) return kk_dec_fail(d, KK_DEC_VALUES);
  return 0;
}

/* A ',' or ':'. */
static inline int kk_dec_count(kk_dec *d) {
  if (++d->values > d->max_values) return kk_dec_fail(d, KK_DEC_VALUES);
  return 0;
}

/* After a member or an element at *pp: a ',' (another follows: 1, *pp past it), the
 * closing `close` (0, *pp on it), else a syntax error (-1). */
static inline int kk_dec_next(kk_dec *d, const char **pp, char close, const char *expect) {
  const char *p = kk_ws(*pp);
  if (*p == ',') {
    if (kk_dec_count(d)) return -1;
    *pp = kk_ws(p + 1);
    return 1;
  }
  *pp = p;
  if (*p == close) return 0;
  return kk_dec_syntax(d, p, expect);
}

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#endif
