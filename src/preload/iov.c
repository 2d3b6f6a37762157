/* The vector calls (readv, writev, preadv, pwritev, recvmsg, sendmsg) given grid
 * memory: as io.c, through the bounce buffer, gathered from or scattered to the
 * caller's vector in user space. The kernel reads the vector itself, the message
 * header, the address and the control data from user memory too, so those are
 * local copies whenever any of them is grid memory. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/preload.h"

enum { CONTROL_MAX = 4096 };

/* Whether a vector call needs the bounce buffer; *total gets its byte count (0 and
 * false when it overflows: the kernel then answers EINVAL itself). */
static bool vector_needs_bounce(const struct iovec *iov, int cnt, size_t *total) {
  *total = 0;
  if (cnt <= 0 || iov == NULL) return false;
  bool grid = rum__preload_needs_bounce(iov);
  for (int i = 0; i < cnt; i++) {
    if (__builtin_add_overflow(*total, iov[i].iov_len, total) || *total > SSIZE_MAX) return false;
    if (iov[i].iov_len > 0 && rum__preload_needs_bounce(iov[i].iov_base)) grid = true;
  }
  return grid;
}

/* Copy len bytes between the flat buffer b and the vector's bytes from offset off. */
static void iov_copy(const struct iovec *iov, int cnt, size_t off, uint8_t *b, size_t len, bool to_vector) {
  for (int i = 0; i < cnt && len > 0; i++) {
    if (off >= iov[i].iov_len) {
      off -= iov[i].iov_len;
      continue;
    }
    size_t piece = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
    uint8_t *v = (uint8_t *)iov[i].iov_base + off;
    if (to_vector)
      memcpy(v, b, piece);
    else
      memcpy(b, v, piece);
    b += piece;
    len -= piece;
    off = 0;
  }
}

struct vec {
  const struct iovec *iov;
  int cnt;
};

static ssize_t vec_copy(void *arg, uint8_t *b, size_t off, size_t len, bool to_vector) {
  struct vec *v = arg;
  if (b == NULL) {
    errno = ENOMEM; /* no local memory at all for the call */
    return -1;
  }
  iov_copy(v->iov, v->cnt, off, b, len, to_vector);
  return 0;
}

static ssize_t vector_transfer(const struct iovec *iov, int cnt, size_t total, bool into, bool pieces,
                               transfer_fn call, void *ctx) {
  struct vec v = {iov, cnt};
  return rum__preload_transfer(total, into, pieces, vec_copy, &v, call, ctx);
}

static bool is_regular(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

struct vcall {
  int fd;
  off_t offset;
};

static ssize_t flat_read(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  return read(((struct vcall *)ctx)->fd, buf, len); /* local buffer: straight through */
}
static ssize_t flat_write(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  return write(((struct vcall *)ctx)->fd, buf, len);
}
static ssize_t flat_pread(void *ctx, void *buf, size_t len, size_t done) {
  struct vcall *c = ctx;
  return pread64(c->fd, buf, len, c->offset + (off_t)done);
}
static ssize_t flat_pwrite(void *ctx, void *buf, size_t len, size_t done) {
  struct vcall *c = ctx;
  return pwrite64(c->fd, buf, len, c->offset + (off_t)done);
}

RUM_INTERPOSE ssize_t readv(int fd, const struct iovec *iov, int cnt) {
  size_t total;
  if (!vector_needs_bounce(iov, cnt, &total)) {
    RUM_REAL(readv);
    return real_readv(fd, iov, cnt);
  }
  struct vcall c = {fd, 0};
  return vector_transfer(iov, cnt, total, true, total > RUM_PRELOAD_BOUNCE && is_regular(fd), flat_read, &c);
}

RUM_INTERPOSE ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  size_t total;
  if (!vector_needs_bounce(iov, cnt, &total)) {
    RUM_REAL(writev);
    return real_writev(fd, iov, cnt);
  }
  struct vcall c = {fd, 0};
  return vector_transfer(iov, cnt, total, false, true, flat_write, &c);
}

RUM_INTERPOSE ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t offset) {
  size_t total;
  if (!vector_needs_bounce(iov, cnt, &total)) {
    RUM_REAL(preadv64);
    return real_preadv64(fd, iov, cnt, offset);
  }
  struct vcall c = {fd, offset};
  return vector_transfer(iov, cnt, total, true, true, flat_pread, &c);
}

RUM_INTERPOSE ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t offset) {
  return preadv64(fd, iov, cnt, offset);
}

RUM_INTERPOSE ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t offset) {
  size_t total;
  if (!vector_needs_bounce(iov, cnt, &total)) {
    RUM_REAL(pwritev64);
    return real_pwritev64(fd, iov, cnt, offset);
  }
  struct vcall c = {fd, offset};
  return vector_transfer(iov, cnt, total, false, true, flat_pwrite, &c);
}

RUM_INTERPOSE ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t offset) {
  return pwritev64(fd, iov, cnt, offset);
}

/* ---- recvmsg / sendmsg ---- */

static bool msg_needs_bounce(const struct msghdr *m, size_t *total) {
  bool grid = vector_needs_bounce(m->msg_iov, (int)m->msg_iovlen, total);
  return grid || rum__preload_needs_bounce(m) || (m->msg_name != NULL && rum__preload_needs_bounce(m->msg_name)) ||
         (m->msg_control != NULL && rum__preload_needs_bounce(m->msg_control));
}

struct msgcall {
  int fd, flags;
  struct msghdr *local; /* name and control local; iov replaced per call */
};

static ssize_t flat_recvmsg(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  struct msgcall *c = ctx;
  struct iovec one = {buf, len};
  c->local->msg_iov = &one;
  c->local->msg_iovlen = 1;
  RUM_REAL(recvmsg);
  return real_recvmsg(c->fd, c->local, c->flags);
}

static ssize_t flat_sendmsg(void *ctx, void *buf, size_t len, size_t done) {
  (void)done;
  struct msgcall *c = ctx;
  struct iovec one = {buf, len};
  c->local->msg_iov = &one;
  c->local->msg_iovlen = 1;
  RUM_REAL(sendmsg);
  return real_sendmsg(c->fd, c->local, c->flags);
}

RUM_INTERPOSE ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
  size_t total;
  if (msg == NULL || !msg_needs_bounce(msg, &total)) {
    RUM_REAL(recvmsg);
    return real_recvmsg(fd, msg, flags);
  }
  if (msg->msg_controllen > CONTROL_MAX || msg->msg_namelen > sizeof(struct sockaddr_storage)) {
    errno = ENOBUFS; /* larger than any address or control data this supports */
    return -1;
  }
  struct sockaddr_storage name;
  _Alignas(struct cmsghdr) uint8_t control[CONTROL_MAX];
  struct msghdr local = *msg;
  local.msg_name = msg->msg_name != NULL ? &name : NULL;
  local.msg_control = msg->msg_control != NULL ? control : NULL;
  struct msgcall c = {fd, flags, &local};
  ssize_t rc;
  if (total > 0) {
    rc = vector_transfer(msg->msg_iov, (int)msg->msg_iovlen, total, true, false, flat_recvmsg, &c);
  } else {
    rc = flat_recvmsg(&c, NULL, 0, 0);
  }
  if (rc < 0) return rc;
  if (msg->msg_name != NULL) memcpy(msg->msg_name, &name, local.msg_namelen < msg->msg_namelen ? local.msg_namelen : msg->msg_namelen);
  if (msg->msg_control != NULL) memcpy(msg->msg_control, control, local.msg_controllen);
  msg->msg_namelen = local.msg_namelen;
  msg->msg_controllen = local.msg_controllen;
  msg->msg_flags = local.msg_flags;
  return rc;
}

RUM_INTERPOSE ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
  size_t total;
  if (msg == NULL || !msg_needs_bounce(msg, &total)) {
    RUM_REAL(sendmsg);
    return real_sendmsg(fd, msg, flags);
  }
  if (msg->msg_controllen > CONTROL_MAX || msg->msg_namelen > sizeof(struct sockaddr_storage)) {
    errno = ENOBUFS;
    return -1;
  }
  struct sockaddr_storage name;
  _Alignas(struct cmsghdr) uint8_t control[CONTROL_MAX];
  struct msghdr local = *msg;
  if (msg->msg_name != NULL) {
    memcpy(&name, msg->msg_name, msg->msg_namelen);
    local.msg_name = &name;
  }
  if (msg->msg_control != NULL) {
    memcpy(control, msg->msg_control, msg->msg_controllen);
    local.msg_control = control;
  }
  struct msgcall c = {fd, flags, &local};
  if (total > 0) return vector_transfer(msg->msg_iov, (int)msg->msg_iovlen, total, false, false, flat_sendmsg, &c);
  return flat_sendmsg(&c, NULL, 0, 0);
}
