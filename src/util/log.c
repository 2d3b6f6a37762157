#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = -1; /* -1: not yet read from $RUM_LOG */
static const char *log_program = "rum";

int rum__log_parse_level(const char *text, enum rum_log_level *out) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  if (text == NULL) return -1;
  for (int i = 0; i < 4; i++) {
    if (strcmp(text, names[i]) == 0) {
      *out = (enum rum_log_level)i;
      return 0;
    }
  }
  if (text[0] >= '0' && text[0] <= '3' && text[1] == '\0') {
    *out = (enum rum_log_level)(text[0] - '0');
    return 0;
  }
  return -1;
}

void rum__log_set_level(enum rum_log_level level) { atomic_store(&log_level, (int)level); }

enum rum_log_level rum__log_get_level(void) {
  int level = atomic_load(&log_level);
  if (level < 0) {
    enum rum_log_level parsed = RUM_LOG_WARN;
    const char *env = getenv("RUM_LOG");
    if (env != NULL && rum__log_parse_level(env, &parsed) != 0) parsed = RUM_LOG_WARN;
    level = (int)parsed;
    atomic_store(&log_level, level);
  }
  return (enum rum_log_level)level;
}

void rum__log_set_program(const char *name) { log_program = name; }

void rum__log(enum rum_log_level level, const char *fmt, ...) {
  static const char *const tags[] = {"error", "warn", "info", "debug"};
  if ((int)level > (int)rum__log_get_level()) return;
  char line[1024];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm tm;
  gmtime_r(&now.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %s[%d] %s: ", tm.tm_hour, tm.tm_min,
                   tm.tm_sec, now.tv_nsec / 1000000, log_program, (int)getpid(), tags[level]);
  if (n < 0) return;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  size_t len = strlen(line);
  line[len++] = '\n';
  /* One write(2) per line so that lines of several processes and threads never mix. */
  ssize_t written = write(STDERR_FILENO, line, len);
  (void)written;
}

void rum__log_signal_safe(const char *msg, unsigned long long value) {
  char buf[256];
  size_t len = 0;
  for (const char *p = msg; *p && len < sizeof buf - 24; p++) buf[len++] = *p;
  char digits[24];
  int nd = 0;
  do {
    digits[nd++] = (char)('0' + value % 10);
    value /= 10;
  } while (value && nd < 24);
  while (nd) buf[len++] = digits[--nd];
  buf[len++] = '\n';
  ssize_t written = write(STDERR_FILENO, buf, len);
  (void)written;
}
