/* Phase stress: the allocator under load. N threads at once (--threads, default 4)
 * run a random mix of rum_alloc, rum_calloc, rum_realloc (growing and shrinking),
 * rum_free and in-place writes on blocks of 1 byte up to the largest size (64 MiB;
 * 8 MiB with --quick), each block mirrored by a shadow copy in local memory. Every
 * block is compared with its shadow whenever it is freed or resized, and a random
 * one every few steps, until each thread has written its budget (48 MiB with --quick,
 * 384 MiB otherwise); the blocks live at once total several times the cache, so
 * pages are evicted, written back and fetched again all the time while the heap
 * carves, coalesces and reuses its spans. A free in one thread of a block made by
 * another is part of the mix (blocks change hands through a shared pool). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem_test.h"

enum { STRESS_SLOTS = 24, POOL_SLOTS = 8, VERIFY_EVERY = 8 };

struct shadow_block {
  uint8_t *p;      /* RUM memory */
  uint8_t *copy;   /* the same bytes in local memory */
  size_t size;
};

struct stress_pool {
  pthread_mutex_t lock;
  struct shadow_block slot[POOL_SLOTS];
};

struct stress_worker {
  struct mt_ctx *c;
  struct stress_pool *pool;
  unsigned id;
  unsigned steps;
  size_t live_max;  /* bytes of blocks this thread keeps at most */
  size_t budget;    /* stop after writing this many bytes */
  pthread_t thread;
  size_t live, bytes_written;
  unsigned allocs, reallocs, frees, handoffs;
};

/* Random bytes for [from, to) of both the block and its shadow. */
static void scribble(struct mt_rng *r, struct shadow_block *b, size_t from, size_t to) {
  uint64_t salt = mt_rng_next(r);
  for (size_t off = from; off < to;) {
    size_t run = to - off < 4096 - (off % 4096) ? to - off : 4096 - (off % 4096);
    uint64_t x = mt_mix64(salt ^ (off / 4096));
    for (size_t i = 0; i < run; i++) {
      if (i % 8 == 0) x = mt_mix64(x);
      b->copy[off + i] = (uint8_t)(x >> (8 * (i % 8)));
    }
    memcpy(b->p + off, b->copy + off, run);
    off += run;
  }
}

static bool same(struct stress_worker *wk, const struct shadow_block *b, size_t len, const char *what) {
  if (memcmp(b->p, b->copy, len) == 0) return true;
  size_t i = 0;
  while (i < len && b->p[i] == b->copy[i]) i++;
  mt_fail(wk->c, __FILE__, __LINE__, "thread %u: %s: block %p of %zu bytes differs from its shadow at offset %zu "
          "(page %zu): %02x, want %02x", wk->id, what, (void *)b->p, b->size, i, i / MT_PAGE, b->p[i], b->copy[i]);
  return false;
}

static void drop(struct stress_worker *wk, struct shadow_block *b) {
  same(wk, b, b->size, "before free");
  rum_free(b->p);
  free(b->copy);
  wk->live -= b->size;
  wk->frees++;
  *b = (struct shadow_block){0};
}

/* A size for a new block: log-uniform up to the largest, within what may live. */
static size_t pick_size(struct stress_worker *wk, struct mt_rng *r) {
  size_t size = mt_rng_size(r, wk->c->max_size);
  size_t room = wk->live_max > wk->live ? wk->live_max - wk->live : 0;
  return size <= room ? size : 1 + mt_rng_below(r, 4096);
}

static void make(struct stress_worker *wk, struct mt_rng *r, struct shadow_block *b) {
  size_t size = pick_size(wk, r);
  bool zeroed = mt_rng_below(r, 4) == 0;
  errno = 0;
  b->p = zeroed ? rum_calloc(1, size) : rum_alloc(size);
  b->copy = malloc(size);
  if (b->p == NULL || b->copy == NULL) {
    mt_fail(wk->c, __FILE__, __LINE__, "thread %u: %s(%zu) = %p, errno %s", wk->id, zeroed ? "rum_calloc" : "rum_alloc",
            size, (void *)b->p, mt_errno_name(errno));
    rum_free(b->p);
    free(b->copy);
    *b = (struct shadow_block){0};
    return;
  }
  b->size = size;
  wk->live += size;
  wk->allocs++;
  if (zeroed) {
    memset(b->copy, 0, size);
    same(wk, b, size, "rum_calloc memory");
    size_t to = mt_rng_below(r, 2) ? size : size / 3;
    scribble(r, b, 0, to);
    wk->bytes_written += to;
  } else {
    scribble(r, b, 0, size);
    wk->bytes_written += size;
  }
}

static void resize(struct stress_worker *wk, struct mt_rng *r, struct shadow_block *b) {
  size_t ns = mt_rng_below(r, 2) ? pick_size(wk, r) : 1 + mt_rng_below(r, b->size + 1);
  if (ns > b->size && ns - b->size > (wk->live_max > wk->live ? wk->live_max - wk->live : 0)) ns = b->size / 2 + 1;
  same(wk, b, b->size, "before realloc");
  uint8_t *copy = realloc(b->copy, ns);
  errno = 0;
  uint8_t *q = rum_realloc(b->p, ns);
  if (q == NULL || copy == NULL) {
    mt_fail(wk->c, __FILE__, __LINE__, "thread %u: rum_realloc(%zu -> %zu) = NULL, errno %s", wk->id, b->size, ns,
            mt_errno_name(errno));
    if (copy != NULL) b->copy = copy;
    if (q != NULL) b->p = q;
    return;
  }
  size_t kept = ns < b->size ? ns : b->size;
  wk->live = wk->live - b->size + ns;
  b->p = q;
  b->copy = copy;
  size_t old = b->size;
  b->size = ns;
  same(wk, b, kept, "contents kept by realloc");
  if (ns > old) {
    scribble(r, b, old, ns);
    wk->bytes_written += ns - old;
  }
  wk->reallocs++;
}

/* Swap a block with the shared pool: another thread will free or resize it. */
static void hand_off(struct stress_worker *wk, struct mt_rng *r, struct shadow_block *b) {
  struct stress_pool *pool = wk->pool;
  unsigned k = (unsigned)mt_rng_below(r, POOL_SLOTS);
  pthread_mutex_lock(&pool->lock);
  struct shadow_block theirs = pool->slot[k];
  pool->slot[k] = *b;
  pthread_mutex_unlock(&pool->lock);
  wk->live = wk->live - b->size + theirs.size;
  *b = theirs;
  wk->handoffs++;
}

static void *stress_main(void *arg) {
  struct stress_worker *wk = arg;
  struct mt_rng r;
  mt_rng_seed(&r, wk->c->seed, 0x5757000 + wk->id);
  struct shadow_block live[STRESS_SLOTS] = {{0}};
  for (unsigned step = 0; step < wk->steps && wk->bytes_written < wk->budget && atomic_load(&wk->c->failures) == 0;
       step++) {
    struct shadow_block *b = &live[mt_rng_below(&r, STRESS_SLOTS)];
    unsigned what = (unsigned)mt_rng_below(&r, 10);
    if (b->p == NULL) {
      make(wk, &r, b);
    } else if (what < 3) {
      drop(wk, b);
    } else if (what < 6) {
      resize(wk, &r, b);
    } else if (what < 8) {
      size_t from = (size_t)mt_rng_below(&r, b->size), to = from + (size_t)mt_rng_below(&r, b->size - from) + 1;
      scribble(&r, b, from, to);
      wk->bytes_written += to - from;
    } else {
      hand_off(wk, &r, b);
    }
    if (step % VERIFY_EVERY == 0) {
      struct shadow_block *v = &live[mt_rng_below(&r, STRESS_SLOTS)];
      if (v->p != NULL) same(wk, v, v->size, "random check");
    }
  }
  for (unsigned i = 0; i < STRESS_SLOTS; i++)
    if (live[i].p != NULL) drop(wk, &live[i]);
  return NULL;
}

void mt_phase_stress(struct mt_ctx *c) {
  unsigned n = c->opt->threads;
  if (n == 0 || n > 64) n = 4;
  struct stress_pool pool = {.lock = PTHREAD_MUTEX_INITIALIZER};
  struct stress_worker *wk = calloc(n, sizeof(*wk));
  if (wk == NULL) {
    mt_fail(c, __FILE__, __LINE__, "out of local memory");
    return;
  }
  /* Together the threads keep about four times the cache alive (at least two of the
   * largest blocks each), so the data never fits. */
  size_t live_max = 4 * c->cache_bytes / n;
  if (live_max < 2 * c->max_size) live_max = 2 * c->max_size;
  for (unsigned i = 0; i < n; i++) {
    wk[i] = (struct stress_worker){.c = c, .pool = &pool, .id = i, .steps = c->opt->quick ? 400 : 3000,
                                   .live_max = live_max, .budget = (c->opt->quick ? 48 : 384) * MT_MIB};
    if (pthread_create(&wk[i].thread, NULL, stress_main, &wk[i]) != 0) {
      mt_fail(c, __FILE__, __LINE__, "pthread_create failed");
      n = i;
      break;
    }
  }
  size_t written = 0;
  unsigned allocs = 0, reallocs = 0, frees = 0, handoffs = 0;
  for (unsigned i = 0; i < n; i++) {
    pthread_join(wk[i].thread, NULL);
    written += wk[i].bytes_written;
    allocs += wk[i].allocs;
    reallocs += wk[i].reallocs;
    frees += wk[i].frees;
    handoffs += wk[i].handoffs;
  }
  /* Blocks left in the pool were made by some thread and are freed here. */
  struct stress_worker last = {.c = c, .id = n};
  for (unsigned k = 0; k < POOL_SLOTS; k++)
    if (pool.slot[k].p != NULL) {
      last.live += pool.slot[k].size;
      drop(&last, &pool.slot[k]);
    }
  free(wk);
  mt_detail(c, "%u threads: %u allocs, %u reallocs, %u frees, %u hand-offs, %.0f MiB written, up to %zu B", n, allocs,
            reallocs, frees + last.frees, handoffs, (double)written / (double)MT_MIB, c->max_size);
}
