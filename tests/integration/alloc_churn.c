/* alloc_churn: allocate and free TOTAL MiB in blocks of 16 B .. 4 MiB (log-uniform)
 * while keeping at most LIVE MiB alive, every block written whole with a pattern and
 * checked before it is freed. Then, still holding the live blocks, print
 *   ready <live bytes>
 * and wait (up to 60 s) until the file given with --hold exists, so that a script
 * can look at the nodes' memory meanwhile; then check and free everything.
 * Exit 0 when every byte read back was right, 1 otherwise, 2 usage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rum/rum.h>

enum { SLOTS = 4096, MAX_BLOCK = 4 << 20 };

struct block {
  uint64_t *p;
  size_t size;
  uint64_t salt;
};

static uint64_t next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void fill(struct block *b) {
  for (size_t i = 0; i < b->size / 8; i++) b->p[i] = b->salt ^ (i * 0x100000001b3ull);
}

static int check(const struct block *b) {
  for (size_t i = 0; i < b->size / 8; i++)
    if (b->p[i] != (b->salt ^ (i * 0x100000001b3ull))) {
      fprintf(stderr, "alloc_churn: block %p (%zu bytes) word %zu is wrong\n", (void *)b->p, b->size, i);
      return 1;
    }
  return 0;
}

int main(int argc, char **argv) {
  size_t total_mb = 10240, live_mb = 100;
  const char *hold = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--total-mb") == 0) total_mb = strtoull(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--live-mb") == 0) live_mb = strtoull(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--hold") == 0) hold = argv[i + 1];
    else {
      fprintf(stderr, "usage: alloc_churn [--total-mb N] [--live-mb N] [--hold FILE]\n");
      return 2;
    }
  }
  if (argc % 2 == 0 || live_mb == 0 || total_mb < live_mb) {
    fprintf(stderr, "usage: alloc_churn [--total-mb N] [--live-mb N] [--hold FILE]\n");
    return 2;
  }
  int rc = rum_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "alloc_churn: rum_init: %s\n", rum_strerror(rc));
    return 1;
  }
  static struct block slot[SLOTS];
  uint64_t seed = 42, allocated = 0, live = 0, live_max = (uint64_t)live_mb << 20;
  int bad = 0;
  while (allocated < ((uint64_t)total_mb << 20) && !bad) {
    struct block *b = &slot[next(&seed) % SLOTS];
    if (b->p != NULL) {
      bad |= check(b);
      rum_free(b->p);
      live -= b->size;
      b->p = NULL;
    }
    unsigned bits = 4 + (unsigned)(next(&seed) % 19); /* 16 B .. 4 MiB */
    size_t size = (((size_t)1 << bits) + next(&seed) % ((size_t)1 << bits)) & ~(size_t)7;
    if (size > MAX_BLOCK) size = MAX_BLOCK;
    if (live + size > live_max) continue;
    b->p = rum_alloc(size);
    if (b->p == NULL) {
      fprintf(stderr, "alloc_churn: rum_alloc(%zu) failed\n", size);
      return 1;
    }
    b->size = size;
    b->salt = next(&seed);
    fill(b);
    live += size;
    allocated += size;
  }
  printf("ready %llu allocated %llu\n", (unsigned long long)live, (unsigned long long)allocated);
  fflush(stdout);
  for (int waited = 0; hold != NULL && access(hold, F_OK) != 0 && waited < 600; waited++) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < SLOTS; i++)
    if (slot[i].p != NULL) {
      bad |= check(&slot[i]);
      rum_free(slot[i].p);
    }
  rc = rum_shutdown();
  return bad || rc != 0 ? 1 : 0;
}
