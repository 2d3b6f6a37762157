/* System calls that move bytes between the kernel and a buffer, given grid memory.
 *
 * The kernel does not run RUM's fault handler: a page that is absent (or, for a
 * call that writes into the buffer, write-protected because it is clean) makes the
 * call fail with EFAULT, after a pipe or socket may already have given up the bytes.
 * So a call given a grid buffer goes through a bounce buffer: local memory of this
 * thread (RUM_PRELOAD_BOUNCE bytes, mapped at its first use), which the kernel reads
 * or fills, and a memcpy between it and the grid buffer, in user space, where RUM's
 * faults are served. That holds for any number of threads without pinning pages
 * against eviction, keeps each call one system call with the kernel's own semantics
 * (a datagram stays one datagram, a read returns what one read returns), and costs a
 * memcpy of the bytes moved (bench/RESULTS.md has the figures). A call larger than
 * the bounce buffer is cut into pieces for regular files (where a read or write of
 * pieces is the same as one) and for write(); on pipes, sockets and devices it stays
 * one call, through a temporary local buffer of its size up to RUM_PRELOAD_BIG (past
 * that, a short count, as the kernel itself may return).
 * Only if no bounce buffer can be mapped does the call go to the kernel directly,
 * after faulting the range in from user space (then the kernel's errno is the
 * answer). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/preload.h"

static __thread uint8_t *tls_bounce __attribute__((tls_model("initial-exec")));
static __thread int tls_bounce_busy __attribute__((tls_model("initial-exec")));
static pthread_key_t bounce_key;

static void bounce_release(void *b) { munmap(b, RUM_PRELOAD_BOUNCE); }

void rum__preload_start_io(void) { pthread_key_create(&bounce_key, bounce_release); }

uint8_t *rum__preload_bounce_take(bool *temporary) {
  *temporary = false;
  if (!tls_bounce_busy) {
    if (tls_bounce == NULL) {
      void *b = mmap(NULL, RUM_PRELOAD_BOUNCE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (b != MAP_FAILED) {
        tls_bounce = b;
        pthread_setspecific(bounce_key, b); /* unmapped when the thread exits */
      }
    }
    if (tls_bounce != NULL) {
      tls_bounce_busy = 1;
      return tls_bounce;
    }
  }
  /* In use: a signal handler interrupted a call of this thread. */
  void *b = mmap(NULL, RUM_PRELOAD_BOUNCE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED) return NULL;
  *temporary = true;
  return b;
}

void rum__preload_bounce_give(uint8_t *b, bool temporary) {
  if (b == NULL) return;
  int saved = errno;
  if (temporary)
    munmap(b, RUM_PRELOAD_BOUNCE);
  else
    tls_bounce_busy = 0;
  errno = saved;
}

void rum__preload_touch(const void *p, size_t n, bool write) {
  if (n == 0) return;
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, end = (uintptr_t)p + n;
  for (; a < end; a += 4096) {
    volatile uint8_t *b = (volatile uint8_t *)(a < (uintptr_t)p ? (uintptr_t)p : a);
    if (write) {
      /* A locked read-modify-write that changes nothing: a write access for the
       * fault handler, and no store of a stale byte over another thread's. */
      __atomic_fetch_or((uint8_t *)b, 0, __ATOMIC_RELAXED);
    } else {
      (void)*b;
    }
  }
}

static bool is_regular(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

ssize_t rum__preload_transfer(size_t n, bool into, bool pieces, rum_preload_copy_fn copy, void *copy_ctx,
                              transfer_fn call, void *ctx) {
  bool temporary;
  size_t cap = RUM_PRELOAD_BOUNCE;
  uint8_t *b;
  if (n > RUM_PRELOAD_BOUNCE && !pieces) {
    /* One call on a pipe, socket or device: a local buffer of its size (up to
     * RUM_PRELOAD_BIG), so that it returns what the kernel would have returned. */
    cap = n < RUM_PRELOAD_BIG ? n : RUM_PRELOAD_BIG;
    b = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (b == MAP_FAILED) {
      b = rum__preload_bounce_take(&temporary);
      cap = RUM_PRELOAD_BOUNCE;
    } else {
      temporary = false;
    }
  } else {
    b = rum__preload_bounce_take(&temporary);
  }
  if (b == NULL) return copy(copy_ctx, NULL, 0, n, into); /* direct: see below */
  size_t done = 0;
  ssize_t rc = 0;
  int err = 0;
  do {
    size_t len = n - done < cap ? n - done : cap;
    if (!into) copy(copy_ctx, b, done, len, false);
    rc = call(ctx, b, len, done);
    if (rc < 0) {
      err = errno;
      break;
    }
    if (into) copy(copy_ctx, b, done, (size_t)rc, true);
    done += (size_t)rc;
    if ((size_t)rc < len) break;
  } while (pieces && done < n);
  if (cap > RUM_PRELOAD_BOUNCE) {
    munmap(b, cap);
  } else {
    rum__preload_bounce_give(b, temporary);
  }
  if (done > 0) return (ssize_t)done; /* an error after progress: the progress, as the kernel does */
  if (rc < 0) errno = err;
  return rc;
}

/* One flat grid buffer. copy(NULL, ...) is the fallback without any bounce buffer:
 * fault the range in and make the call on the grid buffer itself. */
struct flat {
  uint8_t *grid;
  transfer_fn call;
  void *ctx;
};

static ssize_t flat_copy(void *arg, uint8_t *b, size_t off, size_t len, bool to_grid) {
  struct flat *f = arg;
  if (b == NULL) {
    rum__preload_touch(f->grid, len, to_grid);
    return f->call(f->ctx, f->grid, len, 0);
  }
  if (to_grid)
    memcpy(f->grid + off, b, len);
  else
    memcpy(b, f->grid + off, len);
  return 0;
}

static ssize_t transfer(uint8_t *grid, size_t n, bool into, bool pieces, transfer_fn call, void *ctx) {
  struct flat f = {grid, call, ctx};
  return rum__preload_transfer(n, into, pieces, flat_copy, &f, call, ctx);
}

/* ---- read / write / pread / pwrite ---- */

struct fd_call {
  int fd;
  off_t offset;
  int flags;
};

static ssize_t call_read(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  RUM_REAL(read);
  return real_read(((struct fd_call *)ctx)->fd, buf, len);
}

RUM_INTERPOSE ssize_t read(int fd, void *buf, size_t n) {
  if (n == 0 || !rum__preload_needs_bounce(buf)) {
    RUM_REAL(read);
    return real_read(fd, buf, n);
  }
  struct fd_call c = {fd, 0, 0};
  return transfer(buf, n, true, n > RUM_PRELOAD_BOUNCE && is_regular(fd), call_read, &c);
}

static ssize_t call_write(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  RUM_REAL(write);
  return real_write(((struct fd_call *)ctx)->fd, buf, len);
}

RUM_INTERPOSE ssize_t write(int fd, const void *buf, size_t n) {
  if (n == 0 || !rum__preload_needs_bounce(buf)) {
    RUM_REAL(write);
    return real_write(fd, buf, n);
  }
  struct fd_call c = {fd, 0, 0};
  return transfer((uint8_t *)buf, n, false, true, call_write, &c);
}

static ssize_t call_pread(void *ctx, void *buf, size_t len, size_t done) {
  struct fd_call *c = ctx;
  RUM_REAL(pread64);
  return real_pread64(c->fd, buf, len, c->offset + (off_t)done);
}

RUM_INTERPOSE ssize_t pread64(int fd, void *buf, size_t n, off_t offset) {
  if (n == 0 || !rum__preload_needs_bounce(buf)) {
    RUM_REAL(pread64);
    return real_pread64(fd, buf, n, offset);
  }
  struct fd_call c = {fd, offset, 0};
  return transfer(buf, n, true, true, call_pread, &c);
}

RUM_INTERPOSE ssize_t pread(int fd, void *buf, size_t n, off_t offset) { return pread64(fd, buf, n, offset); }

static ssize_t call_pwrite(void *ctx, void *buf, size_t len, size_t done) {
  struct fd_call *c = ctx;
  RUM_REAL(pwrite64);
  return real_pwrite64(c->fd, buf, len, c->offset + (off_t)done);
}

RUM_INTERPOSE ssize_t pwrite64(int fd, const void *buf, size_t n, off_t offset) {
  if (n == 0 || !rum__preload_needs_bounce(buf)) {
    RUM_REAL(pwrite64);
    return real_pwrite64(fd, buf, n, offset);
  }
  struct fd_call c = {fd, offset, 0};
  return transfer((uint8_t *)buf, n, false, true, call_pwrite, &c);
}

RUM_INTERPOSE ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset) {
  return pwrite64(fd, buf, n, offset);
}

/* ---- recv / send ---- */

static ssize_t call_recv(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  struct fd_call *c = ctx;
  RUM_REAL(recv);
  return real_recv(c->fd, buf, len, c->flags);
}

RUM_INTERPOSE ssize_t recv(int fd, void *buf, size_t n, int flags) {
  if (n == 0 || !rum__preload_needs_bounce(buf)) {
    RUM_REAL(recv);
    return real_recv(fd, buf, n, flags);
  }
  struct fd_call c = {fd, 0, flags};
  return transfer(buf, n, true, false, call_recv, &c);
}

static ssize_t call_send(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  struct fd_call *c = ctx;
  RUM_REAL(send);
  return real_send(c->fd, buf, len, c->flags);
}

RUM_INTERPOSE ssize_t send(int fd, const void *buf, size_t n, int flags) {
  if (n == 0 || !rum__preload_needs_bounce(buf)) {
    RUM_REAL(send);
    return real_send(fd, buf, n, flags);
  }
  struct fd_call c = {fd, 0, flags};
  return transfer((uint8_t *)buf, n, false, false, call_send, &c);
}

struct addr_call {
  int fd, flags;
  struct sockaddr *addr;
  socklen_t *addrlen;      /* recvfrom */
  socklen_t addrlen_in;    /* sendto */
};

static ssize_t call_recvfrom(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  struct addr_call *c = ctx;
  RUM_REAL(recvfrom);
  return real_recvfrom(c->fd, buf, len, c->flags, c->addr, c->addrlen);
}

RUM_INTERPOSE ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *addrlen) {
  bool grid_buf = n > 0 && rum__preload_needs_bounce(buf);
  bool grid_addr = (addr != NULL && rum__preload_needs_bounce(addr)) ||
                   (addrlen != NULL && rum__preload_needs_bounce(addrlen));
  if (!grid_buf && !grid_addr) {
    RUM_REAL(recvfrom);
    return real_recvfrom(fd, buf, n, flags, addr, addrlen);
  }
  /* The address through local memory too: the kernel writes it. */
  struct sockaddr_storage local;
  socklen_t local_len = addrlen != NULL ? *addrlen : 0;
  if (local_len > sizeof(local)) local_len = sizeof(local);
  struct addr_call c = {fd, flags, addr != NULL ? (struct sockaddr *)&local : NULL, addr != NULL ? &local_len : NULL, 0};
  ssize_t rc;
  if (grid_buf) {
    rc = transfer(buf, n, true, false, call_recvfrom, &c);
  } else {
    rc = call_recvfrom(&c, buf, n, 0);
  }
  if (rc >= 0 && addr != NULL) {
    socklen_t copy = local_len < *addrlen ? local_len : *addrlen;
    memcpy(addr, &local, copy);
    *addrlen = local_len;
  }
  return rc;
}

static ssize_t call_sendto(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  struct addr_call *c = ctx;
  RUM_REAL(sendto);
  return real_sendto(c->fd, buf, len, c->flags, c->addr, c->addrlen_in);
}

RUM_INTERPOSE ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
                             socklen_t addrlen) {
  bool grid_buf = n > 0 && rum__preload_needs_bounce(buf);
  bool grid_addr = addr != NULL && rum__preload_needs_bounce(addr);
  if (!grid_buf && !grid_addr) {
    RUM_REAL(sendto);
    return real_sendto(fd, buf, n, flags, addr, addrlen);
  }
  struct sockaddr_storage local;
  if (addr != NULL) {
    if (addrlen > sizeof(local)) {
      errno = EINVAL;
      return -1;
    }
    memcpy(&local, addr, addrlen);
  }
  struct addr_call c = {fd, flags, addr != NULL ? (struct sockaddr *)&local : NULL, NULL, addrlen};
  if (grid_buf) return transfer((uint8_t *)buf, n, false, false, call_sendto, &c);
  return call_sendto(&c, (void *)buf, n, 0);
}
