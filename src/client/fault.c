/* The part of fault capture both backends share: choosing a backend, the signal
 * handler that routes arena faults to the page cache, and signal-safe messages. */
#include "client/fault.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "util/log.h"

/* The handler has no argument of its own, so the one active route lives here. It is
 * written only by install/remove (normal context, not racing with RUM calls). */
static struct {
  _Atomic(struct rum_fault_backend *) backend;
  rum_fault_fn fn;
  void *ctx;
  struct sigaction previous;
} route;

int rum__fault_open(const char *kind, uint64_t arena_bytes, struct rum_fault_backend **out) {
  if (kind == NULL || kind[0] == '\0') kind = getenv("RUM_FAULT");
  if (kind == NULL || kind[0] == '\0') kind = "auto";
  if (strcmp(kind, "uffd") == 0) return rum__fault_uffd_open(arena_bytes, out);
  if (strcmp(kind, "sigsegv") == 0) return rum__fault_sigsegv_open(arena_bytes, out);
  if (strcmp(kind, "auto") != 0) {
    RUM_LOG_E("RUM_FAULT=%s: expected auto, uffd or sigsegv", kind);
    return RUM_EINVAL;
  }
  /* uffd + SIGBUS measured faster (4.8 us vs 5.6-7.5 us a fault) and never splits
   * VMAs, so it is the first choice where the kernel allows it. */
  int rc = rum__fault_uffd_open(arena_bytes, out);
  if (rc == 0) return 0;
  RUM_LOG_I("userfaultfd not usable (%s); using the SIGSEGV backend", rum_strerror(rc));
  return rum__fault_sigsegv_open(arena_bytes, out);
}

/* Whether the access was a write, from the machine context when the architecture
 * tells (x86-64: bit 1 of the page-fault error code). */
static int access_is_write(void *uc) {
#if defined(__x86_64__)
  const ucontext_t *u = uc;
  return (u->uc_mcontext.gregs[REG_ERR] & 0x2) ? 1 : 0;
#else
  (void)uc;
  return -1;
#endif
}

static void pass_on(int sig, siginfo_t *si, void *uc) {
  struct sigaction *prev = &route.previous;
  if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction != NULL) {
    prev->sa_sigaction(sig, si, uc);
    return;
  }
  if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  /* Default action: restore it and return; the access faults again and the kernel
   * does what it would have done without RUM (core dump). */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, NULL);
}

static void on_fault(int sig, siginfo_t *si, void *uc) {
  int saved_errno = errno;
  struct rum_fault_backend *b = atomic_load_explicit(&route.backend, memory_order_acquire);
  uint8_t *addr = si->si_addr;
  if (b != NULL && sig == b->signo && addr >= b->base && addr < b->base + b->arena_bytes &&
      si->si_code > 0 && route.fn(route.ctx, addr, access_is_write(uc)) == 0) {
    errno = saved_errno;
    return;
  }
  pass_on(sig, si, uc);
  errno = saved_errno;
}

int rum__fault_handler_install(struct rum_fault_backend *b, rum_fault_fn fn, void *ctx) {
  if (atomic_load(&route.backend) != NULL) return RUM_EBUSY;
  route.fn = fn;
  route.ctx = ctx;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_fault;
  /* Block every other signal while serving a fault: an asynchronous handler that
   * touched grid memory could otherwise re-enter the cache while this thread holds
   * one of its spinlocks. */
  sigfillset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  if (sigaction(b->signo, &sa, &route.previous) != 0) return -errno;
  atomic_store_explicit(&route.backend, b, memory_order_release);
  return 0;
}

void rum__fault_handler_remove(struct rum_fault_backend *b) {
  if (atomic_load(&route.backend) != b) return;
  sigaction(b->signo, &route.previous, NULL);
  atomic_store_explicit(&route.backend, NULL, memory_order_release);
  route.fn = NULL;
  route.ctx = NULL;
}

_Noreturn void rum__fault_fatal(const char *msg) {
  ssize_t rc = write(STDERR_FILENO, msg, strlen(msg));
  (void)rc;
  abort();
}

char *rum__fmt_str(char *p, char *end, const char *s) {
  while (*s != '\0' && p < end - 1) *p++ = *s++;
  *p = '\0';
  return p;
}

char *rum__fmt_u64(char *p, char *end, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0 && p < end - 1) *p++ = tmp[--n];
  *p = '\0';
  return p;
}

char *rum__fmt_hex(char *p, char *end, uint64_t v) {
  p = rum__fmt_str(p, end, "0x");
  for (int shift = 60; shift >= 0; shift -= 4) {
    if (p >= end - 1) break;
    *p++ = "0123456789abcdef"[(v >> shift) & 0xf];
  }
  *p = '\0';
  return p;
}

int rum__fault_signal(void) {
  struct rum_fault_backend *b = atomic_load(&route.backend);
  return b != NULL ? b->signo : 0;
}

int rum__fault_chain(int sig, const struct sigaction *act, struct sigaction *old) {
  struct rum_fault_backend *b = atomic_load(&route.backend);
  if (b == NULL || sig != b->signo) return 0;
  /* Block the signal while the chained handler changes, so that a fault outside grid
   * memory on this thread never sees it half copied. */
  sigset_t set, saved;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, &saved);
  if (old != NULL) *old = route.previous;
  if (act != NULL) route.previous = *act;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  return 1;
}
