/* A tiny test-and-test-and-set lock. Used instead of pthread mutexes on paths that
 * run inside signal handlers (the fault path): it is async-signal-safe as long as the
 * interrupted thread cannot be holding it, which the callers guarantee by never
 * touching RUM memory while holding one. Yields after spinning so that two threads on
 * one core still make progress. */
#ifndef RUM_UTIL_SPINLOCK_H
#define RUM_UTIL_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "util/clock.h"

typedef struct {
  atomic_bool held;
} rum_spinlock_t;

#define RUM_SPINLOCK_INIT {false}

static inline bool rum__spin_trylock(rum_spinlock_t *l) {
  return !atomic_load_explicit(&l->held, memory_order_relaxed) &&
         !atomic_exchange_explicit(&l->held, true, memory_order_acquire);
}

static inline void rum__spin_lock(rum_spinlock_t *l) {
  unsigned spins = 0;
  while (!rum__spin_trylock(l)) {
    if (++spins < 64) {
      rum__cpu_relax();
    } else {
      sched_yield();
    }
  }
}

static inline void rum__spin_unlock(rum_spinlock_t *l) {
  atomic_store_explicit(&l->held, false, memory_order_release);
}

#endif
