/* Building short messages without stdio, for code that runs in signal handlers (the
 * fault path): snprintf is not async-signal-safe. Each call appends at *pos and keeps
 * out NUL-terminated, truncating at len. */
#ifndef RUM_UTIL_TEXT_H
#define RUM_UTIL_TEXT_H

#include <stddef.h>
#include <stdint.h>

static inline void rum__text_add(char *out, size_t len, size_t *pos, const char *s) {
  while (*s && *pos + 1 < len) out[(*pos)++] = *s++;
  if (len) out[*pos] = '\0';
}

static inline void rum__text_add_u64(char *out, size_t len, size_t *pos, uint64_t v) {
  char digits[21];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && *pos + 1 < len) out[(*pos)++] = digits[--n];
  if (len) out[*pos] = '\0';
}

#endif
