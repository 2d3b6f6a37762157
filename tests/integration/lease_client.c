/* A client for the lease tests: allocates leased and named memory, writes it, syncs,
 * prints "ready" and waits to be killed (or, with --verify NAME, attaches the named
 * region and checks every byte). Uses only the public API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rum/rum.h>

static unsigned char pattern(size_t i) { return (unsigned char)(i * 131 + 7); }

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "--hold") != 0 && strcmp(argv[1], "--verify") != 0)) {
    fprintf(stderr, "usage: lease_client --hold NAME LEASED_MB | --verify NAME NAMED_BYTES\n");
    return 2;
  }
  int rc = rum_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "lease_client: rum_init: %s\n", rum_strerror(rc));
    return 1;
  }
  const char *name = argv[2];
  size_t named_bytes = 1 << 20;
  if (strcmp(argv[1], "--verify") == 0) {
    size_t size = 0;
    unsigned char *p = rum_attach(name, &size);
    if (p == NULL || size != (size_t)strtoull(argv[3], NULL, 10)) {
      fprintf(stderr, "lease_client: attach %s: %s (size %zu)\n", name, p ? "wrong size" : "failed", size);
      return 1;
    }
    for (size_t i = 0; i < size; i++) {
      if (p[i] != pattern(i)) {
        fprintf(stderr, "lease_client: byte %zu of %s is %u, want %u\n", i, name, p[i], pattern(i));
        return 1;
      }
    }
    printf("verified %zu bytes of %s\n", size, name);
    rum_free(p); /* destroys it: the test leaves nothing behind */
    return 0;
  }
  size_t leased = (size_t)strtoull(argv[3], NULL, 10) << 20;
  unsigned char *l = rum_alloc(leased);
  unsigned char *n = rum_alloc_named(name, named_bytes);
  if (l == NULL || n == NULL) {
    fprintf(stderr, "lease_client: allocation failed\n");
    return 1;
  }
  for (size_t i = 0; i < leased; i++) l[i] = (unsigned char)i | 1;
  for (size_t i = 0; i < named_bytes; i++) n[i] = pattern(i);
  rc = rum_sync();
  if (rc != 0) {
    fprintf(stderr, "lease_client: rum_sync: %s\n", rum_strerror(rc));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
