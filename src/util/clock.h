/* Monotonic time in nanoseconds. clock_gettime(CLOCK_MONOTONIC) goes through the vDSO:
 * no system call, safe in signal handlers. */
#ifndef RUM_UTIL_CLOCK_H
#define RUM_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t rum__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void rum__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif
