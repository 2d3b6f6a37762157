/* Start-up, configuration, fork and exit of librum-preload (see preload.h).
 *
 * A constructor starts RUM with the environment rum-run set (RUM_MACHINES,
 * RUM_CACHE_MB, RUM_RUN_MIN_BYTES). A program that cannot get its heap in RUM does not
 * run at all: it stops with a message and status 125 (what env(1) uses for its own
 * failures), rather than silently running on local memory. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rum/rum.h>

#include "client/hooks.h"
#include "preload/preload.h"

struct rum_preload rum__preload;

enum { EXIT_NO_RUM = 125 };

void *rum__preload_next(const char *name) { return dlsym(RTLD_NEXT, name); }

static _Noreturn void fatal(const char *what, const char *detail) {
  fprintf(stderr, "rum-run: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  _exit(EXIT_NO_RUM);
}

static void read_min_bytes(void) {
  const char *v = getenv("RUM_RUN_MIN_BYTES");
  if (v == NULL || v[0] == '\0') return;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno != 0 || *end != '\0' || v[0] == '-') fatal("RUM_RUN_MIN_BYTES is not a number of bytes", v);
  rum__preload.min_bytes = (size_t)n;
}

/* Executable segments of glibc and the dynamic loader. */
static int note_object(struct dl_phdr_info *info, size_t size, void *ctx) {
  (void)size;
  uintptr_t self = (uintptr_t)ctx;
  const char *name = info->dlpi_name, *base = strrchr(name, '/');
  base = base != NULL ? base + 1 : name;
  bool glibc = strncmp(base, "libc.so", 7) == 0 || strncmp(base, "ld-linux", 8) == 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (self >= lo && self < hi) {
      rum__preload.self_lo = lo;
      rum__preload.self_hi = hi;
    }
    if (!glibc) continue;
    if (rum__preload.ninternal == RUM_PRELOAD_INTERNAL_MAX) continue;
    rum__preload.internal[rum__preload.ninternal].lo = lo;
    rum__preload.internal[rum__preload.ninternal].hi = hi;
    rum__preload.ninternal++;
  }
  return 0;
}

/* ---- fork ---- */

static void fork_prepare(void) {
  if (rum__preload_state() == RUM_PRELOAD_READY) rum__client_fork_lock(rum__preload.client, true);
}

static void fork_parent(void) {
  if (rum__preload_state() == RUM_PRELOAD_READY) rum__client_fork_lock(rum__preload.client, false);
}

static void child_refuse(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (rum__preload_is_grid(si->si_addr)) {
    static const char msg[] =
        "rum-run: a child forked from a program under rum-run touched heap memory that was not "
        "resident at the fork; RUM cannot serve a forked child (exec a program, or use posix_spawn)\n";
    ssize_t rc = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)rc;
    _exit(EXIT_NO_RUM);
  }
  /* Not grid memory: what the program had installed, else the default action. */
  struct sigaction prev;
  if (rum__fault_chain(sig, NULL, &prev) == 1 && (prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction != NULL) {
    prev.sa_sigaction(sig, si, uc);
    return;
  }
  signal(sig, SIG_DFL);
}

/* The child has one thread and shares the parent's sockets: it must never talk to
 * the nodes (it would free or overwrite the parent's memory). What was resident at
 * the fork stays usable; new blocks come from the local allocator; touching any other
 * grid page stops the child with a message (preload.h; README "rum-run"). */
static void fork_child(void) {
  if (rum__preload_state() != RUM_PRELOAD_READY) return;
  struct rum_client *cl = rum__preload.client;
  rum__client_fork_lock(cl, false);
  atomic_store(&rum__preload.state, RUM_PRELOAD_FORKED);
  int sig = rum__fault_signal();
  rum__client_forget();
  rum__thread_internal++;
  int rc = rum__client_isolate_after_fork(cl);
  rum__thread_internal--;
  if (rc != 0) {
    static const char msg[] = "rum-run: forked child: cannot keep its resident heap pages; any touch stops it\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = child_refuse;
  sa.sa_flags = SA_SIGINFO;
  sigfillset(&sa.sa_mask);
  int (*real_sigaction)(int, const struct sigaction *, struct sigaction *) = rum__preload_next("sigaction");
  real_sigaction(SIGSEGV, &sa, NULL);
  if (sig != 0 && sig != SIGSEGV) {
    /* RUM's own signal (SIGBUS) goes back to what the program had installed. */
    struct sigaction prev;
    if (rum__fault_chain(sig, NULL, &prev) == 1) real_sigaction(sig, &prev, NULL);
  }
}

/* ---- exit ---- */

/* RUM_RUN_STATS=FILE: append this process's RUM counters to FILE as one JSON line
 * (tests check that the heap really lived in the grid). */
static void write_stats(void) {
  const char *path = getenv("RUM_RUN_STATS");
  if (path == NULL || path[0] == '\0') return;
  struct rum_stats st;
  if (rum_stats(&st) != 0) return;
  FILE *f = fopen(path, "a");
  if (f == NULL) return;
  fprintf(f,
          "{\"pid\":%d,\"faults\":%llu,\"evictions\":%llu,\"writebacks\":%llu,\"bytes_in\":%llu,"
          "\"bytes_out\":%llu,\"cache_capacity_pages\":%llu,\"regions\":%llu}\n",
          (int)getpid(), (unsigned long long)st.faults, (unsigned long long)st.evictions,
          (unsigned long long)st.writebacks, (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out,
          (unsigned long long)st.cache_capacity, (unsigned long long)st.regions);
  fclose(f);
}

static void at_exit(void) {
  if (rum__preload_state() != RUM_PRELOAD_READY) return;
  rum__thread_internal++;
  write_stats();
  atomic_store(&rum__preload.state, RUM_PRELOAD_DEAD);
  rum__shutdown_discarding();
  rum__thread_internal--;
}

__attribute__((constructor)) static void rum_preload_start(void) {
  rum__thread_internal++;
  read_min_bytes();
  dl_iterate_phdr(note_object, (void *)(uintptr_t)&fatal);
  rum__preload_start_io();
  int rc = rum_init(NULL);
  if (rc != 0) fatal("cannot start RUM (is the cluster in $RUM_MACHINES up?)", rum_strerror(rc));
  struct rum_client *cl = rum__client_current();
  uint8_t *base;
  uint64_t len;
  rum__client_arena(cl, &base, &len);
  rum__preload.client = cl;
  rum__preload.arena_lo = (uintptr_t)base;
  rum__preload.arena_len = len;
  if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) fatal("pthread_atfork failed", NULL);
  /* After rum_init's own exit hook, so it runs first (exit handlers run in reverse). */
  atexit(at_exit);
  atomic_store_explicit(&rum__preload.state, RUM_PRELOAD_READY, memory_order_release);
  rum__thread_internal--;
}

/* ---- the program's handlers for RUM's fault signal ---- */

/* RUM's fault handler must stay installed: a handler the program installs for the
 * same signal (gcc installs one for SIGBUS and SIGSEGV) is chained behind it and gets
 * every fault outside grid memory, and reading the handler back reports the
 * program's own. */
RUM_INTERPOSE int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  /* librum's own calls (its fault handler restoring a default action) are real. */
  if (rum__preload_state() == RUM_PRELOAD_READY && !rum__preload_self_caller(__builtin_return_address(0)) &&
      rum__fault_chain(sig, act, old) == 1)
    return 0;
  RUM_REAL(sigaction);
  return real_sigaction(sig, act, old);
}

RUM_INTERPOSE sighandler_t signal(int sig, sighandler_t handler) {
  if (rum__preload_state() == RUM_PRELOAD_READY && rum__fault_signal() == sig &&
      !rum__preload_self_caller(__builtin_return_address(0))) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
    rum__fault_chain(sig, &sa, &old);
    return old.sa_handler;
  }
  RUM_REAL(signal);
  return real_signal(sig, handler);
}
