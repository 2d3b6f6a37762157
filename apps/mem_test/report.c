/* Reporting and small helpers the phases share: failure messages, clocks, errno
 * names, statistics snapshots and running a second copy of this program. */
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mem_test.h"

extern char **environ;

void mt_fail(struct mt_ctx *c, const char *file, int line, const char *fmt, ...) {
  unsigned n = atomic_fetch_add(&c->failures, 1) + 1;
  if (n > MT_MAX_REPORTS) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *base = strrchr(file, '/');
  printf("  FAIL [%s] %s:%d: %s\n", c->phase, base ? base + 1 : file, line, msg);
  if (n == MT_MAX_REPORTS) printf("  FAIL [%s] (further failures of this phase not shown)\n", c->phase);
  fflush(stdout);
}

void mt_note(struct mt_ctx *c, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  printf("  note [%s] %s\n", c->phase, msg);
  fflush(stdout);
}

void mt_detail(struct mt_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->detail, sizeof c->detail, fmt, ap);
  va_end(ap);
}

const char *mt_errno_name(int err) {
  switch (err) {
    case 0: return "0";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENOSPC: return "ENOSPC";
    case EBUSY: return "EBUSY";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EAGAIN: return "EAGAIN";
    default: break;
  }
  /* Unusual values are rare; a small rotating buffer is enough for the messages of
   * one check even when two names appear in it. */
  static _Thread_local char buf[4][24];
  static _Thread_local unsigned next;
  char *b = buf[next++ % 4];
  snprintf(b, sizeof buf[0], "errno %d", err);
  return b;
}

double mt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool mt_stats(struct mt_ctx *c, struct rum_stats *out) {
  memset(out, 0, sizeof *out);
  int rc = rum_stats(out);
  MT_CHECK(c, rc == 0, "rum_stats: %d (%s)", rc, rum_strerror(rc));
  return rc == 0;
}

int mt_run_self(struct mt_ctx *c, const char *const *args) {
  const char *argv[32];
  unsigned n = 0;
  argv[n++] = c->exe;
  for (unsigned i = 0; args[i] != NULL && n < 31; i++) argv[n++] = args[i];
  argv[n] = NULL;
  fflush(stdout);
  fflush(stderr);
  pid_t pid;
  int rc = posix_spawn(&pid, c->exe, NULL, NULL, (char *const *)argv, environ);
  if (rc != 0) {
    mt_fail(c, __FILE__, __LINE__, "posix_spawn %s: %s", c->exe, strerror(rc));
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      mt_fail(c, __FILE__, __LINE__, "waitpid: %s", strerror(errno));
      return -1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  mt_fail(c, __FILE__, __LINE__, "child %s killed by signal %d", c->exe, WTERMSIG(status));
  return -1;
}

void mt_unique_name(const struct mt_ctx *c, const char *tag, char *out, size_t outlen) {
  snprintf(out, outlen, "mem_test.%llu.%ld.%s", (unsigned long long)c->seed, (long)getpid(), tag);
}
