/* rum-run: run an unmodified program with its heap (malloc and friends) in RUM.
 *
 *   rum-run [--machines FILE] [--cache-mb N] [--min-bytes B] [--] PROGRAM [ARGS...]
 *
 * Sets the environment librum-preload.so reads (RUM_MACHINES, RUM_CACHE_MB,
 * RUM_RUN_MIN_BYTES), puts the library first in LD_PRELOAD and executes PROGRAM in
 * its place, so its exit status is the program's. The library is found next to this
 * program (../lib/ from its folder, RUM_PRELOAD_RELATIVE), or at $RUM_PRELOAD.
 * Exit status: the program's; 125 for rum-run's own errors (bad usage, no library) and
 * when RUM cannot start in the program; 126 PROGRAM not executable; 127 not found. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RUM_PRELOAD_RELATIVE
#define RUM_PRELOAD_RELATIVE "../lib/librum-preload.so"
#endif

enum { EXIT_USAGE = 125, EXIT_CANNOT_EXEC = 126, EXIT_NOT_FOUND = 127 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: rum-run [--machines FILE] [--cache-mb N] [--min-bytes B] [--] PROGRAM [ARGS...]\n"
          "Run PROGRAM unchanged with its heap (malloc, calloc, realloc, operator new...) in RUM\n"
          "memory on the nodes of a cluster; only a page cache of it stays local.\n"
          "  --machines FILE  the cluster's machines.csv (default: $RUM_MACHINES, then ./machines.csv)\n"
          "  --cache-mb N     local page cache in MiB (default: $RUM_CACHE_MB, else RAM/4 up to 1024)\n"
          "  --min-bytes B    blocks smaller than B bytes stay in local memory (default 0: all in RUM)\n"
          "  --help           this text\n"
          "Exit status: PROGRAM's; 125 rum-run or RUM failed to start; 126 cannot execute; 127 not found.\n");
}

static int parse_count(const char *opt, const char *text, unsigned long long min, unsigned long long *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (text[0] == '\0' || text[0] == '-' || *end != '\0' || errno != 0 || v < min) {
    fprintf(stderr, "rum-run: %s %s: expected a whole number%s\n", opt, text, min > 0 ? " of at least 1" : "");
    return -1;
  }
  *out = v;
  return 0;
}

/* The library: $RUM_PRELOAD, else RUM_PRELOAD_RELATIVE from this program's folder
 * (the installed layout), else ../lib/ from it (the build tree's). */
static int find_library(char *out, size_t cap) {
  const char *env = getenv("RUM_PRELOAD");
  if (env != NULL && env[0] != '\0') {
    if (snprintf(out, cap, "%s", env) >= (int)cap) return -1;
  } else {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL) return -1;
    *slash = '\0';
    if (snprintf(out, cap, "%s/%s", self, RUM_PRELOAD_RELATIVE) >= (int)cap) return -1;
    if (access(out, R_OK) != 0 && snprintf(out, cap, "%s/../lib/librum-preload.so", self) >= (int)cap) return -1;
  }
  if (access(out, R_OK) != 0) {
    fprintf(stderr, "rum-run: %s: %s (set RUM_PRELOAD to the library's path)\n", out, strerror(errno));
    return -1;
  }
  char *real = realpath(out, NULL);
  if (real == NULL || strlen(real) >= cap) {
    free(real);
    return -1;
  }
  strcpy(out, real);
  free(real);
  return 0;
}

static int set_preload(const char *lib) {
  const char *old = getenv("LD_PRELOAD");
  if (old == NULL || old[0] == '\0') return setenv("LD_PRELOAD", lib, 1);
  size_t n = strlen(lib) + strlen(old) + 2;
  char *v = malloc(n);
  if (v == NULL) return -1;
  snprintf(v, n, "%s:%s", lib, old);
  int rc = setenv("LD_PRELOAD", v, 1);
  free(v);
  return rc;
}

int main(int argc, char **argv) {
  static const struct option options[] = {
      {"machines", required_argument, NULL, 'm'},
      {"cache-mb", required_argument, NULL, 'c'},
      {"min-bytes", required_argument, NULL, 'b'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *machines = NULL;
  unsigned long long cache_mb = 0, min_bytes = 0;
  bool have_cache = false, have_min = false;
  int c;
  /* "+": options end at the program's name, so its own options are left alone. */
  while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
    switch (c) {
    case 'm':
      machines = optarg;
      break;
    case 'c':
      if (parse_count("--cache-mb", optarg, 1, &cache_mb) != 0) return EXIT_USAGE;
      have_cache = true;
      break;
    case 'b':
      if (parse_count("--min-bytes", optarg, 0, &min_bytes) != 0) return EXIT_USAGE;
      have_min = true;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "rum-run: no program given\n");
    usage(stderr);
    return EXIT_USAGE;
  }
  if (machines != NULL) {
    if (access(machines, R_OK) != 0) {
      fprintf(stderr, "rum-run: --machines %s: %s\n", machines, strerror(errno));
      return EXIT_USAGE;
    }
    char *real = realpath(machines, NULL); /* the program may change folder */
    if (real == NULL || setenv("RUM_MACHINES", real, 1) != 0) return EXIT_USAGE;
    free(real);
  }
  char value[32];
  if (have_cache) {
    snprintf(value, sizeof(value), "%llu", cache_mb);
    setenv("RUM_CACHE_MB", value, 1);
  }
  if (have_min) {
    snprintf(value, sizeof(value), "%llu", min_bytes);
    setenv("RUM_RUN_MIN_BYTES", value, 1);
  }
  char lib[PATH_MAX];
  if (find_library(lib, sizeof(lib)) != 0 || set_preload(lib) != 0) {
    fprintf(stderr, "rum-run: cannot find librum-preload.so\n");
    return EXIT_USAGE;
  }
  execvp(argv[optind], &argv[optind]);
  int err = errno;
  fprintf(stderr, "rum-run: %s: %s\n", argv[optind], strerror(err));
  return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}
