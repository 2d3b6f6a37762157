/* A program built outside the tree against an installed librum (tests/install):
 * writes 8 MiB through a small cache, syncs, drops its cached pages, reads them back
 * from the nodes and checks the sum; then a named region survives detach + attach.
 * Prints a fixed text that install_test.sh compares. Usage: hello NAME */
#include <rum/rum.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WORDS (1u << 20) /* 8 MiB of uint64_t */

static int fail(const char *what, int rc) {
  fprintf(stderr, "hello: %s: %s\n", what, rc < 0 ? rum_strerror(rc) : strerror(rc));
  return 1;
}

static int named_round_trip(const char *name) {
  const char text[] = "hello from an installed librum";
  char *s = rum_alloc_named(name, 4096);
  if (s == NULL) return fail("rum_alloc_named", errno);
  memcpy(s, text, sizeof text);
  int rc = rum_detach(s);
  if (rc != 0) return fail("rum_detach", rc);
  size_t size = 0;
  s = rum_attach(name, &size);
  if (s == NULL) return fail("rum_attach", errno);
  printf("named region %s, %zu bytes: %s\n", name, size, s);
  rum_free(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: hello NAME\n");
    return 2;
  }
  int rc = rum_init(NULL);
  if (rc != 0) return fail("rum_init", rc);
  uint64_t *v = rum_calloc(WORDS, sizeof *v);
  if (v == NULL) return fail("rum_calloc", errno);
  for (uint64_t i = 0; i < WORDS; i++) v[i] = i * 2654435761u;
  if ((rc = rum_sync()) != 0) return fail("rum_sync", rc);
  if ((rc = rum_refresh(v, WORDS * sizeof *v)) != 0) return fail("rum_refresh", rc);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < WORDS; i++) sum += v[i];
  struct rum_stats st;
  if ((rc = rum_stats(&st)) != 0) return fail("rum_stats", rc);
  printf("sum of %u words: %llu\n", WORDS, (unsigned long long)sum);
  printf("read back from the nodes: %s\n", st.bytes_in >= WORDS * sizeof *v ? "yes" : "no");
  rum_free(v);
  if (named_round_trip(argv[1]) != 0) return 1;
  if ((rc = rum_shutdown()) != 0) return fail("rum_shutdown", rc);
  return 0;
}
