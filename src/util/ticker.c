/* Periodic background thread: see ticker.h. */
#include "util/ticker.h"

#include <errno.h>
#include <time.h>

__thread int rum__thread_internal __attribute__((tls_model("initial-exec")));

static void *ticker_main(void *arg) {
  struct rum_ticker *t = arg;
  rum__thread_internal = 1;
  pthread_mutex_lock(&t->lock);
  while (!t->stop) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)t->period_ms * 1000000ull;
    until.tv_sec += (time_t)(ns / 1000000000ull);
    until.tv_nsec = (long)(ns % 1000000000ull);
    int rc = 0;
    while (!t->stop && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&t->cond, &t->lock, &until);
    if (t->stop) break;
    pthread_mutex_unlock(&t->lock);
    t->fn(t->ctx);
    pthread_mutex_lock(&t->lock);
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

int rum__ticker_start(struct rum_ticker *t, uint32_t period_ms, void (*fn)(void *ctx), void *ctx) {
  t->fn = fn;
  t->ctx = ctx;
  t->period_ms = period_ms > 0 ? period_ms : 1;
  t->stop = false;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&t->cond, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&t->lock, NULL);
  int rc = pthread_create(&t->thread, NULL, ticker_main, t);
  if (rc != 0) {
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    return -rc;
  }
  t->running = true;
  return 0;
}

void rum__ticker_stop(struct rum_ticker *t) {
  if (!t->running) return;
  pthread_mutex_lock(&t->lock);
  t->stop = true;
  pthread_cond_signal(&t->cond);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->thread, NULL);
  pthread_cond_destroy(&t->cond);
  pthread_mutex_destroy(&t->lock);
  t->running = false;
}
