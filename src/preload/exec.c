/* exec and posix_spawn given names, argument or environment strings in grid memory
 * (a shell's or Python's argv is built on the heap): the kernel copies them from
 * user memory while replacing the image, where an absent page is EFAULT. They are
 * copied into one local mapping first (unmapped again if the call fails; on success
 * the image it lived in is gone). */
#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/preload.h"

extern char **environ;

struct local_exec {
  char *path;
  char **argv, **envp;
  void *map;
  size_t map_len;
};

static bool vector_is_grid(char *const *v) {
  if (v == NULL) return false;
  if (rum__preload_needs_bounce(v)) return true;
  for (size_t i = 0; v[i] != NULL; i++)
    if (rum__preload_needs_bounce(v[i])) return true;
  return false;
}

static size_t vector_bytes(char *const *v, size_t *count) {
  size_t bytes = 0, n = 0;
  if (v != NULL)
    for (; v[n] != NULL; n++) bytes += strlen(v[n]) + 1;
  *count = n;
  return bytes + (n + 1) * sizeof(char *);
}

static char **vector_copy(char *const *v, size_t n, char **at) {
  char **out = (char **)*at;
  char *s = *at + (n + 1) * sizeof(char *);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(v[i]) + 1;
    memcpy(s, v[i], len);
    out[i] = s;
    s += len;
  }
  out[n] = NULL;
  *at = (char *)(((uintptr_t)s + 15) & ~(uintptr_t)15);
  return out;
}

/* Copy whatever of path, argv and envp is grid memory. Returns 0, or -1 with errno
 * (ENOMEM: no local memory for the copy). */
static int localise(const char *path, char *const argv[], char *const envp[], struct local_exec *out) {
  memset(out, 0, sizeof(*out));
  out->path = (char *)path;
  out->argv = (char **)argv;
  out->envp = (char **)envp;
  bool gp = path != NULL && rum__preload_needs_bounce(path), ga = vector_is_grid(argv), ge = vector_is_grid(envp);
  if (!gp && !ga && !ge) return 0;
  size_t na = 0, ne = 0;
  size_t bytes = (gp ? strlen(path) + 16 : 0) + (ga ? vector_bytes(argv, &na) + 16 : 0) +
                 (ge ? vector_bytes(envp, &ne) + 16 : 0);
  void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return -1;
  char *at = map;
  if (gp) {
    size_t len = strlen(path) + 1;
    memcpy(at, path, len);
    out->path = at;
    at = (char *)(((uintptr_t)at + len + 15) & ~(uintptr_t)15);
  }
  if (ga) out->argv = vector_copy(argv, na, &at);
  if (ge) out->envp = vector_copy(envp, ne, &at);
  out->map = map;
  out->map_len = bytes;
  return 0;
}

static void release(struct local_exec *l) {
  if (l->map == NULL) return;
  int saved = errno;
  munmap(l->map, l->map_len);
  errno = saved;
}

RUM_INTERPOSE int execve(const char *path, char *const argv[], char *const envp[]) {
  RUM_REAL(execve);
  struct local_exec l;
  if (localise(path, argv, envp, &l) != 0) return -1;
  int rc = real_execve(l.path, l.argv, l.envp);
  release(&l);
  return rc;
}

RUM_INTERPOSE int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }

RUM_INTERPOSE int execvpe(const char *file, char *const argv[], char *const envp[]) {
  RUM_REAL(execvpe);
  struct local_exec l;
  if (localise(file, argv, envp, &l) != 0) return -1;
  int rc = real_execvpe(l.path, l.argv, l.envp);
  release(&l);
  return rc;
}

RUM_INTERPOSE int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

RUM_INTERPOSE int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                              const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  RUM_REAL(posix_spawn);
  struct local_exec l;
  if (localise(path, argv, envp, &l) != 0) return errno;
  int rc = real_posix_spawn(pid, l.path, fa, attr, l.argv, l.envp);
  release(&l);
  return rc;
}

RUM_INTERPOSE int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                               const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  RUM_REAL(posix_spawnp);
  struct local_exec l;
  if (localise(file, argv, envp, &l) != 0) return errno;
  int rc = real_posix_spawnp(pid, l.path, fa, attr, l.argv, l.envp);
  release(&l);
  return rc;
}
