/* A background thread that runs a function every period until stopped: the client's
 * heartbeats and the heap's maintenance. Stopping wakes it at once (it does not wait
 * out the period) and waits for a round in progress to finish.
 *
 * Not thread safe against itself: start and stop from one thread, in pairs. */
#ifndef RUM_UTIL_TICKER_H
#define RUM_UTIL_TICKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct rum_ticker {
  void (*fn)(void *ctx);
  void *ctx;
  uint32_t period_ms;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond; /* on CLOCK_MONOTONIC */
  bool stop, running;
};

/* Non-zero on threads that run librum's own code: every ticker thread sets it at
 * start, and librum-preload (src/preload) raises it around its calls into librum, so
 * that the allocations librum makes there go to the local allocator, never back into
 * grid memory (which would recurse into the heap's locks). Initial-exec TLS: reading
 * it never allocates. */
extern __thread int rum__thread_internal __attribute__((tls_model("initial-exec")));

/* Run fn(ctx) every period_ms (>= 1) on a new thread. Returns 0 or a negative errno. */
int rum__ticker_start(struct rum_ticker *t, uint32_t period_ms, void (*fn)(void *ctx), void *ctx);
/* Stop and join the thread; a no-op if it is not running. */
void rum__ticker_stop(struct rum_ticker *t);

#endif
