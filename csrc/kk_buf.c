/* Growable byte buffer used by the transport's write and header callbacks. */
#include <stdlib.h>
#include <string.h>

#include "kk_internal.h"

int kk_buf_append(kk_buf *b, const char *p, size_t n) {
  if (n == 0) return 0;
  if (n > (size_t)-1 - b->len - 1) return -1;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *grown;
    while (cap < b->len + n + 1) {
      if (cap > (size_t)-1 / 2) { cap = b->len + n + 1; break; }
      cap *= 2;
    }
    grown = realloc(b->data, cap);
    if (grown == NULL) return -1;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

void kk_buf_reset(kk_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void kk_buf_free(kk_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
