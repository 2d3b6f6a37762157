/* Fault capture: two backends with the same behaviour, both serving the fault in the
 * faulting thread.
 *
 *  - uffd: the arena is private anonymous memory; each region's range is made
 *    read-write and registered with userfaultfd (MISSING + WP) with
 *    UFFD_FEATURE_SIGBUS, so the kernel raises SIGBUS in the faulting thread for a
 *    missing page and for a write to a write-protected one. Pages are installed with
 *    UFFDIO_COPY (write-protected for reads), made writable with UFFDIO_WRITEPROTECT,
 *    evicted with MADV_DONTNEED.
 *  - sigsegv: the arena is one memfd mapped twice: the application view, whose
 *    per-page protection (NONE / READ / READ|WRITE) we control, and a private
 *    always-read-write alias. A page is filled through the alias while the
 *    application view still says PROT_NONE, so no other thread can see it half
 *    written; then one mprotect publishes it. Eviction: PROT_NONE + PUNCH_HOLE.
 *
 * Every operation may run in signal context: system calls only, no allocation. */
#ifndef RUM_CLIENT_FAULT_H
#define RUM_CLIENT_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rum_fault_kind { RUM_FAULT_UFFD = 1, RUM_FAULT_SIGSEGV = 2 };

struct rum_fault_backend;

struct rum_fault_ops {
  const char *name;
  /* A region range [addr, addr+len) starts (or stops) being grid memory. Normal
   * context. unmap_region also discards every page in it. */
  int (*map_region)(struct rum_fault_backend *b, uint8_t *addr, size_t len);
  void (*unmap_region)(struct rum_fault_backend *b, uint8_t *addr, size_t len);
  /* Where the bytes of [addr, addr+len) can be written before install (the alias,
   * its memory allocated already so that writing there takes no page faults), or
   * NULL when install must copy from a buffer of the caller's (uffd). */
  uint8_t *(*fill_target)(struct rum_fault_backend *b, uint8_t *addr, size_t len);
  /* Make [addr, addr+len) visible: read-only, or read-write when writable. src holds
   * the bytes; NULL means zeros (the range is known to be zero); src ==
   * fill_target(addr) means they are in place already. Returns 0 or a negative errno. */
  int (*install)(struct rum_fault_backend *b, uint8_t *addr, const uint8_t *src, size_t len,
                 bool writable);
  /* Resident pages: allow writes / forbid writes again (before write-back). */
  int (*make_writable)(struct rum_fault_backend *b, uint8_t *addr, size_t len);
  int (*make_readonly)(struct rum_fault_backend *b, uint8_t *addr, size_t len);
  /* Evict: the range becomes absent and its memory is returned to the system. */
  int (*drop)(struct rum_fault_backend *b, uint8_t *addr, size_t len);
  /* Where a resident page's bytes can be read without faulting (write-back source). */
  const uint8_t *(*read_ptr)(struct rum_fault_backend *b, const uint8_t *addr);
  void (*destroy)(struct rum_fault_backend *b);
};

struct rum_fault_backend {
  const struct rum_fault_ops *ops;
  enum rum_fault_kind kind;
  int signo;            /* the signal its faults arrive as */
  uint8_t *base;        /* arena, RUM_GRANULE aligned */
  uint64_t arena_bytes;
};

/* Open a backend with an arena of arena_bytes. kind: "auto" (uffd if it works here,
 * else sigsegv), "uffd", "sigsegv"; NULL means $RUM_FAULT, then "auto".
 * Returns 0 and *out, RUM_EINVAL (unknown kind), RUM_ENOTSUP (uffd asked for and not
 * usable here; the log says why) or RUM_ENOMEM. */
int rum__fault_open(const char *kind, uint64_t arena_bytes, struct rum_fault_backend **out);
int rum__fault_uffd_open(uint64_t arena_bytes, struct rum_fault_backend **out);
int rum__fault_sigsegv_open(uint64_t arena_bytes, struct rum_fault_backend **out);

static inline void rum__fault_destroy(struct rum_fault_backend *b) {
  if (b != NULL) b->ops->destroy(b);
}

/* Called in the faulting thread for a fault inside the arena. is_write: 1 write,
 * 0 read, -1 unknown. Returns 0 when the access can be retried, -1 when the address is
 * not grid memory (the fault is then passed on as if RUM were not there). */
typedef int (*rum_fault_fn)(void *ctx, void *addr, int is_write);

/* Route b's signal to fn(ctx, ...). One backend at a time per process; the previous
 * handler is kept and gets faults outside the arena. Returns 0, RUM_EBUSY. */
int rum__fault_handler_install(struct rum_fault_backend *b, rum_fault_fn fn, void *ctx);
/* Restore the previous handler. */
void rum__fault_handler_remove(struct rum_fault_backend *b);

/* Stop the program from inside the fault path: write(2) msg and abort(). */
_Noreturn void rum__fault_fatal(const char *msg);

/* Async-signal-safe formatting into a caller's buffer. Each returns the new end. */
char *rum__fmt_str(char *p, char *end, const char *s);
char *rum__fmt_u64(char *p, char *end, uint64_t v);
char *rum__fmt_hex(char *p, char *end, uint64_t v);

#endif
