/* malloc and friends (see preload.h for which blocks are local and which are grid).
 *
 * Grid blocks come from librum's allocator (rum_alloc & co.: no round trip in the
 * common case), local ones from glibc's own (__libc_malloc & co., linked directly, so
 * that no dlsym is needed before RUM is up and nothing recurses). free, realloc and
 * malloc_usable_size tell the two apart by address: grid blocks lie in RUM's arena. */
#include <errno.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rum/rum.h>

#include "client/hooks.h"
#include "client/slab.h"
#include "preload/preload.h"

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

enum {
  GRID_ALIGN = 16,     /* what rum_alloc guarantees */
  PAGE = 4096,
  /* Over-aligned blocks from the grid are page spans (page aligned): worth it only
   * for big blocks; smaller over-aligned ones stay local. */
  GRID_ALIGNED_MIN = 64 * 1024,
};

/* Whether a new block of n bytes, asked for by code at ra, goes to the grid. */
static inline bool to_grid(size_t n, const void *ra) {
  return rum__preload_state() == RUM_PRELOAD_READY && !rum__thread_internal && n >= rum__preload.min_bytes &&
         !rum__preload_internal_caller(ra) && !rum__preload_self_caller(ra);
}

static size_t local_usable(void *p) {
  RUM_REAL(malloc_usable_size);
  return real_malloc_usable_size != NULL ? real_malloc_usable_size(p) : 0;
}

/* Usable size of a grid block, in any state; 0 once RUM is gone. */
static size_t grid_usable(void *p) {
  switch (rum__preload_state()) {
  case RUM_PRELOAD_READY: {
    rum__thread_internal++;
    size_t n = rum_usable_size(p);
    rum__thread_internal--;
    return n;
  }
  case RUM_PRELOAD_FORKED:
    return rum__client_block_size(rum__preload.client, p);
  default:
    return 0;
  }
}

static void *grid_alloc(size_t n, bool zero) {
  rum__thread_internal++;
  void *p = zero ? rum_calloc(1, n) : rum_alloc(n);
  rum__thread_internal--;
  return p;
}

static void *do_malloc(size_t n, const void *ra) {
  if (to_grid(n, ra)) return grid_alloc(n, false);
  return __libc_malloc(n);
}

RUM_INTERPOSE void *malloc(size_t n) { return do_malloc(n, __builtin_return_address(0)); }

RUM_INTERPOSE void free(void *p) {
  if (p == NULL) return;
  if (!rum__preload_is_grid(p)) {
    __libc_free(p);
    return;
  }
  /* A forked child leaks its grid blocks (their pages are the parent's on the
   * nodes); after the exit teardown they are gone already. */
  if (rum__preload_state() != RUM_PRELOAD_READY) return;
  rum__thread_internal++;
  rum_free(p);
  rum__thread_internal--;
}

RUM_INTERPOSE void *calloc(size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  if (to_grid(total, __builtin_return_address(0))) return grid_alloc(total, true);
  return __libc_calloc(n, size);
}

/* Move a block to the other allocator: copy what both hold, free the old one. */
static void *move_block(void *p, size_t old, void *n, size_t size) {
  if (n == NULL) return NULL;
  memcpy(n, p, old < size ? old : size);
  free(p);
  return n;
}

static void *do_realloc(void *p, size_t size, const void *ra) {
  if (p == NULL) return do_malloc(size, ra);
  if (size == 0) {
    free(p);
    return NULL;
  }
  if (rum__preload_is_grid(p)) {
    switch (rum__preload_state()) {
    case RUM_PRELOAD_READY: {
      rum__thread_internal++;
      void *n = rum_realloc(p, size);
      rum__thread_internal--;
      return n;
    }
    case RUM_PRELOAD_FORKED:
      return move_block(p, grid_usable(p), __libc_malloc(size), size);
    default: {
      static const char msg[] = "rum-run: realloc of a heap block after RUM shut down at exit\n";
      ssize_t rc = write(STDERR_FILENO, msg, sizeof(msg) - 1);
      (void)rc;
      errno = ENOMEM;
      return NULL;
    }
    }
  }
  /* A local block grown by the program past --min-bytes moves to the grid (a
   * buffer that starts small and grows, like a list, ends up there). */
  if (to_grid(size, ra)) {
    size_t old = local_usable(p);
    if (old < size) return move_block(p, old, grid_alloc(size, false), size);
  }
  return __libc_realloc(p, size);
}

RUM_INTERPOSE void *realloc(void *p, size_t size) { return do_realloc(p, size, __builtin_return_address(0)); }

RUM_INTERPOSE void *reallocarray(void *p, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return do_realloc(p, total, __builtin_return_address(0));
}

/* An aligned block: grid memory for big blocks with align up to a page (a page span
 * is page aligned; checked, never assumed), local otherwise. */
static void *do_aligned(size_t align, size_t n, const void *ra) {
  if (align <= GRID_ALIGN) return do_malloc(n, ra);
  if (align <= PAGE && n >= GRID_ALIGNED_MIN && to_grid(n, ra)) {
    void *p = grid_alloc(n > RUM_SLAB_MAX ? n : RUM_SLAB_MAX + 1, false);
    if (p != NULL && ((uintptr_t)p & (align - 1)) == 0) return p;
    if (p != NULL) free(p);
  }
  return __libc_memalign(align, n);
}

static bool power_of_two(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

RUM_INTERPOSE int posix_memalign(void **out, size_t align, size_t n) {
  if (!power_of_two(align) || align % sizeof(void *) != 0) return EINVAL;
  int saved = errno;
  void *p = do_aligned(align, n, __builtin_return_address(0));
  if (p == NULL) {
    int err = errno != 0 ? errno : ENOMEM;
    errno = saved;
    return err;
  }
  errno = saved;
  *out = p;
  return 0;
}

RUM_INTERPOSE void *aligned_alloc(size_t align, size_t n) {
  if (!power_of_two(align)) {
    errno = EINVAL;
    return NULL;
  }
  return do_aligned(align, n, __builtin_return_address(0));
}

RUM_INTERPOSE void *memalign(size_t align, size_t n) {
  /* glibc: an alignment that is not a power of two is rounded up to one. */
  if (!power_of_two(align)) {
    size_t a = 1;
    while (a < align && a != 0) a <<= 1;
    if (a == 0) {
      errno = EINVAL;
      return NULL;
    }
    align = a;
  }
  return do_aligned(align, n, __builtin_return_address(0));
}

RUM_INTERPOSE void *valloc(size_t n) { return do_aligned(PAGE, n, __builtin_return_address(0)); }

RUM_INTERPOSE void *pvalloc(size_t n) {
  size_t rounded;
  if (__builtin_add_overflow(n, PAGE - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  rounded &= ~(size_t)(PAGE - 1);
  return do_aligned(PAGE, rounded == 0 ? PAGE : rounded, __builtin_return_address(0));
}

RUM_INTERPOSE size_t malloc_usable_size(void *p) {
  if (p == NULL) return 0;
  return rum__preload_is_grid(p) ? grid_usable(p) : local_usable(p);
}
