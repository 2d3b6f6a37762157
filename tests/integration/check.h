/* What the C drivers of the integration tests share: CHECK (print what failed and
 * exit 1) and say (a progress line on stdout, prefixed with the program's name, which
 * the driver defines as TEST_PROGRAM before including this). */
#ifndef RUM_TESTS_CHECK_H
#define RUM_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

static inline void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs(TEST_PROGRAM ": ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  fflush(stdout);
  va_end(ap);
}

#endif
