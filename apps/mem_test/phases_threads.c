/* Phase threads: N threads at once allocate, write and verify blocks of their own,
 * and all of them write interleaved words of one shared region, so that every page
 * of it is written by every thread in every round while evictions go on (the shared
 * region is larger than the cache). A counter in RUM memory is incremented with
 * atomic operations by all threads; no increment may be lost. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_test.h"

enum { PRIVATE_LIVE = 4, COUNT_EVERY = 64 };

struct private_block {
  uint8_t *p;
  size_t size;
  uint64_t salt;
};

struct worker {
  struct mt_ctx *c;
  unsigned id, nthreads, rounds;
  uint64_t *shared;        /* RUM memory, nwords words; word w belongs to thread w % n */
  size_t nwords;
  uint64_t *counter;       /* RUM memory */
  pthread_barrier_t *barrier;
  size_t private_max;
  pthread_t thread;
  /* Results, read by the main thread after join. */
  uint64_t increments;
  size_t private_bytes;
  unsigned private_allocs;
};

static uint64_t shared_value(const struct mt_ctx *c, size_t w, unsigned round) {
  return mt_pattern_word(w, mt_salt(c, 16, round));
}

static void private_drop(struct worker *wk, struct private_block *b) {
  mt_verify(wk->c, b->p, 0, b->size, b->salt, "threads: private block before free");
  rum_free(b->p);
  b->p = NULL;
}

/* One allocate / fill / verify / maybe-resize / maybe-refresh step on private data. */
static void private_step(struct worker *wk, struct mt_rng *r, struct private_block *live, unsigned step) {
  struct mt_ctx *c = wk->c;
  struct private_block *b = &live[mt_rng_below(r, PRIVATE_LIVE)];
  if (b->p != NULL) private_drop(wk, b);
  b->size = mt_rng_size(r, wk->private_max);
  b->salt = mt_salt(c, 17, ((uint64_t)wk->id << 32) | step);
  errno = 0;
  b->p = rum_alloc(b->size);
  if (b->p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "thread %u: rum_alloc(%zu) = NULL, errno %s", wk->id, b->size,
            mt_errno_name(errno));
    return;
  }
  wk->private_allocs++;
  mt_fill(b->p, 0, b->size, b->salt);
  wk->private_bytes += b->size;
  mt_verify(c, b->p, 0, b->size, b->salt, "threads: private block after fill");
  if (mt_rng_below(r, 2) == 0) {
    size_t ns = b->size + 1 + (size_t)mt_rng_below(r, wk->private_max);
    uint8_t *q = rum_realloc(b->p, ns);
    if (q == NULL) {
      mt_fail(c, __FILE__, __LINE__, "thread %u: rum_realloc(%zu -> %zu) = NULL, errno %s", wk->id,
              b->size, ns, mt_errno_name(errno));
    } else {
      mt_verify(c, q, 0, b->size, b->salt, "threads: private block kept by realloc");
      mt_fill(q, b->size, ns, b->salt);
      b->p = q;
      b->size = ns;
    }
  }
  if (mt_rng_below(r, 3) == 0) {
    MT_CHECK_RC(c, rum_refresh(b->p, b->size), 0);
    mt_verify(c, b->p, 0, b->size, b->salt, "threads: private block after refresh");
  }
}

static void *worker_main(void *arg) {
  struct worker *wk = arg;
  struct mt_ctx *c = wk->c;
  struct mt_rng r;
  mt_rng_seed(&r, c->seed, 100 + wk->id);
  struct private_block live[PRIVATE_LIVE] = {{0}};
  for (unsigned round = 0; round < wk->rounds; round++) {
    size_t since = 0;
    for (size_t w = wk->id; w < wk->nwords; w += wk->nthreads) {
      if (round == 0 && wk->shared[w] != 0) {
        mt_fail(c, __FILE__, __LINE__, "thread %u: shared word %zu of a rum_calloc block is 0x%016" PRIx64,
                wk->id, w, wk->shared[w]);
      }
      wk->shared[w] = shared_value(c, w, round);
      if (++since == COUNT_EVERY) {
        __atomic_fetch_add(wk->counter, 1, __ATOMIC_RELAXED);
        wk->increments++;
        since = 0;
      }
    }
    private_step(wk, &r, live, round);
    if (wk->id == 0) MT_CHECK_RC(c, rum_sync(), 0); /* a sync while the others write */
    pthread_barrier_wait(wk->barrier);
    size_t bad = 0, first = SIZE_MAX;
    for (size_t w = 0; w < wk->nwords; w++) {
      if (wk->shared[w] != shared_value(c, w, round)) {
        if (first == SIZE_MAX) first = w;
        bad++;
      }
    }
    MT_CHECK(c, bad == 0, "thread %u round %u: %zu shared words wrong, first word %zu (page %zu, "
             "written by thread %zu): 0x%016" PRIx64 " want 0x%016" PRIx64,
             wk->id, round, bad, first, first * 8 / MT_PAGE, first % wk->nthreads,
             bad ? wk->shared[first] : 0, bad ? shared_value(c, first, round) : 0);
    pthread_barrier_wait(wk->barrier);
  }
  for (unsigned i = 0; i < PRIVATE_LIVE; i++)
    if (live[i].p != NULL) private_drop(wk, &live[i]);
  return NULL;
}

void mt_phase_threads(struct mt_ctx *c) {
  unsigned n = c->opt->threads;
  size_t shared_bytes = (c->opt->quick ? 2 : 4) * c->cache_bytes;
  size_t nwords = shared_bytes / 8;
  struct worker *wk = calloc(n, sizeof *wk);
  uint64_t *shared = rum_calloc(nwords, 8);
  uint64_t *counter = rum_calloc(1, 4096);
  pthread_barrier_t barrier;
  if (wk == NULL || shared == NULL || counter == NULL || pthread_barrier_init(&barrier, NULL, n) != 0) {
    mt_fail(c, __FILE__, __LINE__, "setup: %s", shared == NULL || counter == NULL ? "rum_calloc failed" : "out of memory");
    rum_free(shared);
    rum_free(counter);
    free(wk);
    return;
  }
  unsigned started = 0;
  for (unsigned i = 0; i < n; i++) {
    wk[i] = (struct worker){.c = c, .id = i, .nthreads = n, .rounds = c->opt->quick ? 4 : 8,
                            .shared = shared, .nwords = nwords, .counter = counter,
                            .barrier = &barrier, .private_max = c->opt->quick ? MT_MIB : 4 * MT_MIB};
    int rc = pthread_create(&wk[i].thread, NULL, worker_main, &wk[i]);
    if (rc != 0) {
      /* The barrier counts n threads: without all of them the others would wait forever. */
      fprintf(stderr, "mem_test: pthread_create: %s\n", strerror(rc));
      exit(MT_EXIT_FAIL);
    }
    started++;
  }
  uint64_t increments = 0, bytes = 0;
  unsigned allocs = 0;
  for (unsigned i = 0; i < started; i++) {
    pthread_join(wk[i].thread, NULL);
    increments += wk[i].increments;
    bytes += wk[i].private_bytes;
    allocs += wk[i].private_allocs;
  }
  uint64_t got = __atomic_load_n(counter, __ATOMIC_RELAXED);
  MT_CHECK(c, got == increments, "atomic counter in RUM memory: %" PRIu64 ", want %" PRIu64 " (%" PRId64 " lost)",
           got, increments, (int64_t)(increments - got));
  MT_CHECK_RC(c, rum_sync(), 0);
  MT_CHECK_RC(c, rum_refresh(counter, 4096), 0);
  got = __atomic_load_n(counter, __ATOMIC_RELAXED);
  MT_CHECK(c, got == increments, "atomic counter after sync+refresh: %" PRIu64 ", want %" PRIu64, got, increments);
  pthread_barrier_destroy(&barrier);
  rum_free(shared);
  rum_free(counter);
  free(wk);
  mt_detail(c, "%u threads, %.1f MiB shared region, %u private allocs (%.1f MiB), %" PRIu64 " atomic adds",
            n, (double)shared_bytes / (double)MT_MIB, allocs, (double)bytes / (double)MT_MIB, increments);
}
