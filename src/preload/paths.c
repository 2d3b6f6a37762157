/* Calls that give the kernel a path name or take a struct stat back, with the
 * name or the struct in grid memory: the kernel copies a name from user memory
 * (EFAULT on an absent page) and writes a struct stat there (EFAULT on an absent or
 * clean one). Each goes through a local copy made in user space, where RUM's faults
 * are served. These are the calls programs make with heap names (binutils' ld
 * builds every library path it tries on the heap); a name longer than PATH_MAX is
 * passed as it is (the kernel refuses it with ENAMETOOLONG anyway). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/preload.h"

/* name, or a copy of it in buf when it is grid memory. */
static const char *local_name(const char *name, char *buf) {
  if (name == NULL || !rum__preload_needs_bounce(name)) return name;
  size_t n = strnlen(name, PATH_MAX);
  if (n == PATH_MAX) return name;
  memcpy(buf, name, n + 1);
  return buf;
}

#define LOCAL_NAME(p)                                                                              \
  char p##_copy[PATH_MAX];                                                                         \
  p = local_name(p, p##_copy)

/* Whether the call takes a mode argument (O_CREAT or O_TMPFILE). */
static bool has_mode(int flags) { return (flags & O_CREAT) != 0 || (flags & __O_TMPFILE) == __O_TMPFILE; }

/* open and its variants: the mode argument is there only with O_CREAT or O_TMPFILE. */
#define OPEN_CALL(name, params, args)                                                              \
  RUM_INTERPOSE int name params {                                                                  \
    mode_t mode = 0;                                                                               \
    if (has_mode(flags)) {                                                                         \
      va_list ap;                                                                                  \
      va_start(ap, flags);                                                                         \
      mode = (mode_t)va_arg(ap, int);                                                              \
      va_end(ap);                                                                                  \
    }                                                                                              \
    LOCAL_NAME(path);                                                                              \
    RUM_REAL(name);                                                                                \
    return real_##name args;                                                                       \
  }

OPEN_CALL(open, (const char *path, int flags, ...), (path, flags, mode))
OPEN_CALL(open64, (const char *path, int flags, ...), (path, flags, mode))
OPEN_CALL(openat, (int dir, const char *path, int flags, ...), (dir, path, flags, mode))
OPEN_CALL(openat64, (int dir, const char *path, int flags, ...), (dir, path, flags, mode))

/* A call whose one name argument is `path`: the name copied when it is grid memory. */
#define NAME_CALL(ret, name, params, args)                                                         \
  RUM_INTERPOSE ret name params {                                                                  \
    LOCAL_NAME(path);                                                                              \
    RUM_REAL(name);                                                                                \
    return real_##name args;                                                                       \
  }

NAME_CALL(FILE *, fopen, (const char *path, const char *mode), (path, mode))
NAME_CALL(FILE *, fopen64, (const char *path, const char *mode), (path, mode))
NAME_CALL(FILE *, freopen, (const char *path, const char *mode, FILE *fp), (path, mode, fp))
NAME_CALL(DIR *, opendir, (const char *path), (path))
NAME_CALL(int, access, (const char *path, int mode), (path, mode))
NAME_CALL(int, faccessat, (int dir, const char *path, int mode, int flags), (dir, path, mode, flags))
NAME_CALL(int, unlink, (const char *path), (path))
NAME_CALL(int, mkdir, (const char *path, mode_t mode), (path, mode))
NAME_CALL(int, chdir, (const char *path), (path))

RUM_INTERPOSE int rename(const char *from, const char *to) {
  LOCAL_NAME(from);
  LOCAL_NAME(to);
  RUM_REAL(rename);
  return real_rename(from, to);
}

RUM_INTERPOSE ssize_t readlink(const char *path, char *buf, size_t n) {
  LOCAL_NAME(path);
  RUM_REAL(readlink);
  if (!rum__preload_needs_bounce(buf)) return real_readlink(path, buf, n);
  char out[PATH_MAX];
  ssize_t rc = real_readlink(path, out, n < sizeof(out) ? n : sizeof(out));
  if (rc > 0) memcpy(buf, out, (size_t)rc);
  return rc;
}

/* A call that writes a struct stat at st (and takes a name `path` when named):
 * through a local struct when st is grid memory. */
#define STAT_CALL(name, type, params, pre, args_with)                                             \
  RUM_INTERPOSE int name params {                                                                  \
    pre;                                                                                           \
    RUM_REAL(name);                                                                                \
    if (!rum__preload_needs_bounce(st)) return real_##name args_with;                              \
    type *user = st, local;                                                                        \
    st = &local;                                                                                   \
    int rc = real_##name args_with;                                                                \
    if (rc == 0) memcpy(user, &local, sizeof(local));                                              \
    return rc;                                                                                     \
  }

STAT_CALL(stat, struct stat, (const char *path, struct stat *st), LOCAL_NAME(path), (path, st))
STAT_CALL(lstat, struct stat, (const char *path, struct stat *st), LOCAL_NAME(path), (path, st))
STAT_CALL(fstat, struct stat, (int fd, struct stat *st), (void)0, (fd, st))
STAT_CALL(fstatat, struct stat, (int dir, const char *path, struct stat *st, int flags), LOCAL_NAME(path),
          (dir, path, st, flags))
STAT_CALL(stat64, struct stat64, (const char *path, struct stat64 *st), LOCAL_NAME(path), (path, st))
STAT_CALL(lstat64, struct stat64, (const char *path, struct stat64 *st), LOCAL_NAME(path), (path, st))
STAT_CALL(fstat64, struct stat64, (int fd, struct stat64 *st), (void)0, (fd, st))
STAT_CALL(fstatat64, struct stat64, (int dir, const char *path, struct stat64 *st, int flags), LOCAL_NAME(path),
          (dir, path, st, flags))
