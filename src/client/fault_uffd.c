/* Fault backend: userfaultfd with UFFD_FEATURE_SIGBUS.
 *
 * No handler thread: with the SIGBUS feature the kernel does not queue a fault event
 * but raises SIGBUS in the faulting thread, which then installs the page itself with
 * UFFDIO_COPY and returns; the access is retried. That avoids the cross-thread wake-up
 * that made a separate handler thread 4-14x slower in DESIGN.md's measurements.
 * Pages for reads are installed write-protected (UFFDIO_COPY_MODE_WP), so the first
 * write raises SIGBUS again and the cache marks the page dirty before un-protecting. */
#include "client/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "client/region_table.h"
#include "util/log.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

struct uffd_backend {
  struct rum_fault_backend pub;
  int fd;
  uint8_t *mapping;   /* what mmap returned (base is aligned inside it) */
  size_t mapping_len;
};

/* Zeros to copy from for fresh pages: UFFDIO_ZEROPAGE cannot install write-protected,
 * and a zero page mapped without WP would let a write slip by unnoticed. */
static const uint8_t zeros[RUM_WIRE_MAX_PAGES * RUM_PAGE_SIZE] __attribute__((aligned(4096)));

static struct uffd_backend *self(struct rum_fault_backend *b) { return (struct uffd_backend *)b; }

static int uffd_map_region(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  if (mprotect(addr, len, PROT_READ | PROT_WRITE) != 0) return -errno;
  struct uffdio_register reg = {
      .range = {.start = (uintptr_t)addr, .len = len},
      .mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
  };
  if (ioctl(self(b)->fd, UFFDIO_REGISTER, &reg) != 0) {
    int err = -errno;
    mprotect(addr, len, PROT_NONE);
    return err;
  }
  uint64_t need = (1ull << _UFFDIO_COPY) | (1ull << _UFFDIO_WRITEPROTECT);
  if ((reg.ioctls & need) != need) {
    struct uffdio_range r = {.start = (uintptr_t)addr, .len = len};
    ioctl(self(b)->fd, UFFDIO_UNREGISTER, &r);
    mprotect(addr, len, PROT_NONE);
    return -ENOTSUP;
  }
  return 0;
}

static void uffd_unmap_region(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  struct uffdio_range r = {.start = (uintptr_t)addr, .len = len};
  ioctl(self(b)->fd, UFFDIO_UNREGISTER, &r);
  madvise(addr, len, MADV_DONTNEED);
  mprotect(addr, len, PROT_NONE);
}

static uint8_t *uffd_fill_target(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  (void)b;
  (void)addr;
  (void)len;
  return NULL;
}

static int uffd_install(struct rum_fault_backend *b, uint8_t *addr, const uint8_t *src, size_t len,
                        bool writable) {
  size_t done = 0;
  while (done < len) {
    size_t piece = len - done;
    const uint8_t *from = src != NULL ? src + done : zeros;
    if (src == NULL && piece > sizeof(zeros)) piece = sizeof(zeros);
    struct uffdio_copy c = {
        .dst = (uintptr_t)(addr + done),
        .src = (uintptr_t)from,
        .len = piece,
        /* Nobody sleeps in the kernel on this page (SIGBUS mode): skip the wake-up. */
        .mode = UFFDIO_COPY_MODE_DONTWAKE | (writable ? 0 : UFFDIO_COPY_MODE_WP),
    };
    if (ioctl(self(b)->fd, UFFDIO_COPY, &c) != 0) {
      if (errno == EAGAIN && c.copy > 0) {
        done += (size_t)c.copy;
        continue;
      }
      if (errno == EAGAIN) continue;
      return -errno;
    }
    done += piece;
  }
  return 0;
}

static int uffd_protect(struct rum_fault_backend *b, uint8_t *addr, size_t len, bool wp) {
  struct uffdio_writeprotect w = {
      .range = {.start = (uintptr_t)addr, .len = len},
      /* The kernel refuses DONTWAKE together with WP; un-protecting skips the wake. */
      .mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
  };
  for (;;) {
    if (ioctl(self(b)->fd, UFFDIO_WRITEPROTECT, &w) == 0) return 0;
    if (errno != EAGAIN) return -errno;
  }
}

static int uffd_make_writable(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  return uffd_protect(b, addr, len, false);
}

static int uffd_make_readonly(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  return uffd_protect(b, addr, len, true);
}

static int uffd_drop(struct rum_fault_backend *b, uint8_t *addr, size_t len) {
  (void)b;
  return madvise(addr, len, MADV_DONTNEED) == 0 ? 0 : -errno;
}

static const uint8_t *uffd_read_ptr(struct rum_fault_backend *b, const uint8_t *addr) {
  (void)b;
  return addr; /* resident and (during write-back) write-protected: reads do not fault */
}

static void uffd_destroy(struct rum_fault_backend *b) {
  struct uffd_backend *u = self(b);
  if (u->mapping != NULL) munmap(u->mapping, u->mapping_len);
  if (u->fd >= 0) close(u->fd);
  free(u);
}

static const struct rum_fault_ops uffd_ops = {
    .name = "uffd",
    .map_region = uffd_map_region,
    .unmap_region = uffd_unmap_region,
    .fill_target = uffd_fill_target,
    .install = uffd_install,
    .make_writable = uffd_make_writable,
    .make_readonly = uffd_make_readonly,
    .drop = uffd_drop,
    .read_ptr = uffd_read_ptr,
    .destroy = uffd_destroy,
};

static int open_uffd(void) {
  int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
  if (fd < 0 && errno == EINVAL) fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
#ifdef USERFAULTFD_IOC_NEW
  if (fd < 0) {
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
      fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
      close(dev);
    }
  }
#endif
  return fd;
}

int rum__fault_uffd_open(uint64_t arena_bytes, struct rum_fault_backend **out) {
  struct uffd_backend *u = calloc(1, sizeof(*u));
  if (u == NULL) return RUM_ENOMEM;
  u->fd = open_uffd();
  if (u->fd < 0) {
    RUM_LOG_I("userfaultfd: %s (vm.unprivileged_userfaultfd=0 needs CAP_SYS_PTRACE)", strerror(errno));
    uffd_destroy(&u->pub);
    return RUM_ENOTSUP;
  }
  struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_SIGBUS};
  if (ioctl(u->fd, UFFDIO_API, &api) != 0 || !(api.features & UFFD_FEATURE_SIGBUS)) {
    RUM_LOG_I("userfaultfd: UFFD_FEATURE_SIGBUS not available: %s", strerror(errno));
    uffd_destroy(&u->pub);
    return RUM_ENOTSUP;
  }
  u->mapping_len = arena_bytes + RUM_GRANULE;
  void *m = mmap(NULL, u->mapping_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    uffd_destroy(&u->pub);
    return RUM_ENOMEM;
  }
  u->mapping = m;
  u->pub.ops = &uffd_ops;
  u->pub.kind = RUM_FAULT_UFFD;
  u->pub.signo = SIGBUS;
  u->pub.base = (uint8_t *)(((uintptr_t)m + RUM_GRANULE - 1) & ~(uintptr_t)(RUM_GRANULE - 1));
  u->pub.arena_bytes = arena_bytes;
  /* Probe the whole path once (register with WP, install write-protected, un-protect)
   * so that "auto" falls back to SIGSEGV on kernels without anonymous uffd-wp. */
  uint8_t *probe = u->pub.base;
  int rc = uffd_map_region(&u->pub, probe, RUM_GRANULE);
  if (rc == 0) rc = uffd_install(&u->pub, probe, NULL, RUM_PAGE_SIZE, false);
  if (rc == 0) rc = uffd_make_writable(&u->pub, probe, RUM_PAGE_SIZE);
  uffd_unmap_region(&u->pub, probe, RUM_GRANULE);
  if (rc != 0) {
    RUM_LOG_I("userfaultfd write-protect on anonymous memory not usable: %s", strerror(-rc));
    uffd_destroy(&u->pub);
    return RUM_ENOTSUP;
  }
  *out = &u->pub;
  return 0;
}
