/* librum-preload.so: an unmodified program's heap in grid memory (rum-run).
 *
 * start.c   start-up (rum_init in a constructor), configuration, fork, exit, and the
 *           program's handlers for RUM's fault signal
 * malloc.c  malloc and friends: grid memory from librum, local memory from glibc's
 *           own allocator (__libc_malloc) for what must not be in the grid
 * io.c      system calls that move bytes between the kernel and a heap buffer
 * stdio.c   the stdio calls that hand a caller's buffer to the kernel directly
 *
 * Which memory is local: everything allocated before RUM is up (the dynamic loader,
 * other libraries' constructors, RUM's own start-up: the "bootstrap" allocations,
 * served by glibc's allocator and freed there later); everything librum allocates for
 * itself (its threads and its calls carry rum__thread_internal); every allocation
 * glibc or the dynamic loader makes internally (their callers' return addresses lie in
 * their text): those buffers (stdio's, opendir's) are handed to the kernel by glibc's
 * internal system calls, which no preload can wrap; and blocks smaller than
 * --min-bytes. A pointer is grid memory exactly when it lies in RUM's arena, so free
 * and realloc always know which allocator owns a block. */
#ifndef RUM_PRELOAD_PRELOAD_H
#define RUM_PRELOAD_PRELOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/ticker.h"

struct rum_client;

enum rum_preload_state {
  RUM_PRELOAD_BOOT = 0,   /* before RUM is up: everything is local */
  RUM_PRELOAD_READY = 1,  /* RUM up: new blocks go to the grid */
  RUM_PRELOAD_FORKED = 2, /* a forked child: new blocks local, grid blocks leaked */
  RUM_PRELOAD_DEAD = 3,   /* after the exit teardown: new blocks local, grid ones gone */
};

enum { RUM_PRELOAD_INTERNAL_MAX = 16 };

struct rum_preload {
  _Atomic int state;
  uintptr_t arena_lo;    /* grid pointers: arena_lo <= p < arena_lo + arena_len */
  uint64_t arena_len;
  size_t min_bytes;      /* smaller blocks stay local */
  struct rum_client *client;
  /* Text ranges of glibc and the dynamic loader: allocations they make stay local. */
  unsigned ninternal;
  struct {
    uintptr_t lo, hi;
  } internal[RUM_PRELOAD_INTERNAL_MAX];
  uintptr_t self_lo, self_hi; /* this library's text */
};

/* The functions this library puts in front of glibc's: exported whatever the
 * default visibility. */
#define RUM_INTERPOSE __attribute__((visibility("default")))

extern struct rum_preload rum__preload;

static inline bool rum__preload_is_grid(const void *p) {
  return (uintptr_t)p - rum__preload.arena_lo < rum__preload.arena_len;
}

static inline int rum__preload_state(void) {
  return atomic_load_explicit(&rum__preload.state, memory_order_acquire);
}

/* Whether a system call given p must not hand it to the kernel: grid memory while
 * RUM serves faults (in a forked child the resident pages are plain memory). */
static inline bool rum__preload_needs_bounce(const void *p) {
  return rum__preload_is_grid(p) && rum__preload_state() == RUM_PRELOAD_READY;
}

static inline bool rum__preload_internal_caller(const void *ra) {
  uintptr_t a = (uintptr_t)ra;
  for (unsigned i = 0; i < rum__preload.ninternal; i++)
    if (a - rum__preload.internal[i].lo < rum__preload.internal[i].hi - rum__preload.internal[i].lo) return true;
  return false;
}

static inline bool rum__preload_self_caller(const void *ra) {
  return (uintptr_t)ra - rum__preload.self_lo < rum__preload.self_hi - rum__preload.self_lo;
}

/* Look up the next definition of name (glibc's), once; NULL if there is none. */
void *rum__preload_next(const char *name);
#define RUM_REAL(name)                                                                             \
  static __typeof__(&name) real_##name;                                                            \
  if (real_##name == NULL) real_##name = (__typeof__(&name))rum__preload_next(#name)

/* A thread's bounce buffer of RUM_PRELOAD_BOUNCE bytes (io.c), or a temporary one
 * when this thread's is in use (a signal handler); NULL when none can be mapped. */
enum { RUM_PRELOAD_BOUNCE = 1 << 20 };
uint8_t *rum__preload_bounce_take(bool *temporary);
void rum__preload_bounce_give(uint8_t *b, bool temporary);
/* One transfer of n bytes through local memory. call(ctx, buf, len, done) makes the
 * system call for len bytes at the local buf, done bytes into the transfer (pread
 * adds it to its offset). copy(copy_ctx, b, off, len, to_grid) moves bytes between
 * the local b and the caller's buffers at offset off; with b NULL (no local memory)
 * it must make the call on the caller's buffers directly and return its result.
 * into: the kernel fills the buffer; else it reads it. pieces: a regular file or a
 * write, cut into RUM_PRELOAD_BOUNCE pieces; otherwise one call, through a local
 * buffer of the whole size up to RUM_PRELOAD_BIG. Returns what the calls made. */
enum { RUM_PRELOAD_BIG = 64 << 20 };
typedef ssize_t (*transfer_fn)(void *ctx, void *buf, size_t len, size_t done);
typedef ssize_t (*rum_preload_copy_fn)(void *copy_ctx, uint8_t *b, size_t off, size_t len, bool to_grid);
ssize_t rum__preload_transfer(size_t n, bool into, bool pieces, rum_preload_copy_fn copy, void *copy_ctx,
                              transfer_fn call, void *ctx);
/* Fault [p, p + n) in from user space (for writing when write), for the rare call
 * that goes to the kernel without a bounce buffer. */
void rum__preload_touch(const void *p, size_t n, bool write);

/* The child side of a fork (start.c calls malloc.c's part first). */
void rum__preload_start_io(void);

#endif
