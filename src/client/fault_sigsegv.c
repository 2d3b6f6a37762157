/* Fault backend: SIGSEGV + mprotect, over one memfd mapped twice.
 *
 * The application view starts PROT_NONE. A fault fills the page through the private
 * read-write alias (the network reply can land there directly) and only then
 * mprotects the application view READ (or READ|WRITE): another thread never sees a
 * half-filled page, which a "make it writable, fill, make it read-only" scheme on a
 * single mapping would expose. Write-back reads through the alias too, so it never
 * faults. Eviction: PROT_NONE, then punch the pages out of the memfd. */
#include "client/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "client/region_table.h"
#include "util/log.h"

struct sigsegv_backend {
  struct rum_fault_backend pub;
  int fd;
  uint8_t *reservation; /* anonymous reservation the app view is placed in */
  size_t reservation_len;
  uint8_t *alias;
};

static struct sigsegv_backend *self(struct rum_fault_backend *b) {
  return (struct sigsegv_backend *)b;
}

static off_t offset_of(struct rum_fault_backend *b, const uint8_t *addr) {
  return (off_t)(addr - b->base);
}

static int punch(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  if (fallocate(self(b)->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset_of(b, addr),
                (off_t)len) != 0)
    return -errno;
  return 0;
}

static int sigsegv_map_region(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  (void)b;
  (void)addr;
  (void)len;
  return 0; /* the app view is PROT_NONE and the memfd range a hole already */
}

static void sigsegv_unmap_region(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  mprotect(addr, len, PROT_NONE);
  punch(b, addr, len);
}

static uint8_t *alias_of(struct rum_fault_backend *b, const uint8_t *addr) {
  return self(b)->alias + offset_of(b, addr);
}

static uint8_t *sigsegv_fill_target(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  /* Allocate the memfd pages in one call: a reply written into holes would take a
   * page fault per page that allocates it (~2 us each, most of a 64-page fill);
   * allocated, the alias maps them by fault-around, 16 pages a fault. Best effort: if
   * it fails the writes allocate the pages as before. */
  (void)fallocate(self(b)->fd, FALLOC_FL_KEEP_SIZE, offset_of(b, addr), (off_t)len);
  return alias_of(b, addr);
}

static int sigsegv_install(struct rum_fault_backend *b, uint8_t *addr, const uint8_t *src, size_t len,
                           bool writable) {
  uint8_t *alias = alias_of(b, addr);
  if (src != NULL && src != alias) memcpy(alias, src, len);
  /* src == NULL: the range is a hole, which reads as zeros. */
  if (mprotect(addr, len, writable ? PROT_READ | PROT_WRITE : PROT_READ) != 0) return -errno;
  return 0;
}

static int sigsegv_make_writable(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  (void)b;
  return mprotect(addr, len, PROT_READ | PROT_WRITE) == 0 ? 0 : -errno;
}

static int sigsegv_make_readonly(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  (void)b;
  return mprotect(addr, len, PROT_READ) == 0 ? 0 : -errno;
}

static int sigsegv_drop(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  if (mprotect(addr, len, PROT_NONE) != 0) return -errno;
  return punch(b, addr, len);
}

static const uint8_t *sigsegv_read_ptr(struct rum_fault_backend *b, const uint8_t *addr) {
  return alias_of(b, addr);
}

static void sigsegv_destroy(struct rum_fault_backend *b) {
  struct sigsegv_backend *s = self(b);
  if (s->alias != NULL) munmap(s->alias, b->arena_bytes);
  if (s->reservation != NULL) munmap(s->reservation, s->reservation_len);
  if (s->fd >= 0) close(s->fd);
  free(s);
}

static const struct rum_fault_ops sigsegv_ops = {
    .name = "sigsegv",
    .map_region = sigsegv_map_region,
    .unmap_region = sigsegv_unmap_region,
    .fill_target = sigsegv_fill_target,
    .install = sigsegv_install,
    .make_writable = sigsegv_make_writable,
    .make_readonly = sigsegv_make_readonly,
    .drop = sigsegv_drop,
    .read_ptr = sigsegv_read_ptr,
    .destroy = sigsegv_destroy,
};

int rum__fault_sigsegv_open(uint64_t arena_bytes, struct rum_fault_backend **out) {
  struct sigsegv_backend *s = calloc(1, sizeof(*s));
  if (s == NULL) return RUM_ENOMEM;
  s->fd = memfd_create("rum-arena", MFD_CLOEXEC);
  if (s->fd < 0 || ftruncate(s->fd, (off_t)arena_bytes) != 0) {
    RUM_LOG_E("memfd for the RUM arena: %s", strerror(errno));
    goto err;
  }
  s->reservation_len = arena_bytes + RUM_GRANULE;
  void *res = mmap(NULL, s->reservation_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (res == MAP_FAILED) goto err;
  s->reservation = res;
  uint8_t *base = (uint8_t *)(((uintptr_t)res + RUM_GRANULE - 1) & ~(uintptr_t)(RUM_GRANULE - 1));
  if (mmap(base, arena_bytes, PROT_NONE, MAP_SHARED | MAP_FIXED | MAP_NORESERVE, s->fd, 0) == MAP_FAILED)
    goto err;
  void *alias = mmap(NULL, arena_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, s->fd, 0);
  if (alias == MAP_FAILED) goto err;
  s->alias = alias;
  s->pub.ops = &sigsegv_ops;
  s->pub.kind = RUM_FAULT_SIGSEGV;
  s->pub.signo = SIGSEGV;
  s->pub.base = base;
  s->pub.arena_bytes = arena_bytes;
  *out = &s->pub;
  return 0;
err:
  s->pub.arena_bytes = 0; /* alias not mapped */
  sigsegv_destroy(&s->pub);
  return RUM_ENOMEM;
}
