/* Logging: leveled, to stderr, one line per call. Safe to call from any thread;
 * rum__log_signal_safe() is the only variant allowed in a signal handler. */
#ifndef RUM_UTIL_LOG_H
#define RUM_UTIL_LOG_H

enum rum_log_level {
  RUM_LOG_ERROR = 0,
  RUM_LOG_WARN = 1,
  RUM_LOG_INFO = 2,
  RUM_LOG_DEBUG = 3,
};

/* Set the level; messages above it are dropped. Default: WARN, or $RUM_LOG. */
void rum__log_set_level(enum rum_log_level level);
enum rum_log_level rum__log_get_level(void);
/* Parse "error|warn|info|debug" or a digit. Returns 0 or -1 for an unknown name. */
int rum__log_parse_level(const char *text, enum rum_log_level *out);
/* Prefix every line with this program name (static storage, not copied). */
void rum__log_set_program(const char *name);

void rum__log(enum rum_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* write(2)s a constant message and a number; no locks, no allocation. */
void rum__log_signal_safe(const char *msg, unsigned long long value);

#define RUM_LOG_E(...) rum__log(RUM_LOG_ERROR, __VA_ARGS__)
#define RUM_LOG_W(...) rum__log(RUM_LOG_WARN, __VA_ARGS__)
#define RUM_LOG_I(...) rum__log(RUM_LOG_INFO, __VA_ARGS__)
#define RUM_LOG_D(...)                                     \
  do {                                                     \
    if (rum__log_get_level() >= RUM_LOG_DEBUG)             \
      rum__log(RUM_LOG_DEBUG, __VA_ARGS__);                \
  } while (0)

#endif
