/* The page cache and both fault backends against an in-process page store: faults
 * fetch, zero-fill, write faults dirty, CLOCK evicts, write-back batches, threads
 * faulting the same pages fetch each page once, data larger than the cache survives,
 * and a page that cannot be fetched stops the program with a message.
 * Every test runs twice: once on the uffd backend, once on the sigsegv backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "client/cache.h"
#include "client/fault.h"
#include "client/region_table.h"
#include "util/spinlock.h"

enum { MAX_TEST_REGIONS = 8 };

/* An asynchronous read of the in-process store: started now, copied when finished
 * (the first polls say "still in flight", like a reply not arrived yet). */
enum { STORE_OPS = 16 };
struct rum_fetch_op {
  _Atomic bool busy;
  struct rum_region *r;
  uint64_t first;
  uint32_t n;
  uint8_t *dst;
  unsigned polls;
};

/* The in-process backing store: one flat buffer per region, indexed by page. It runs
 * inside the fault handler, so it takes only a spinlock and never allocates. */
struct page_store {
  rum_spinlock_t lock;
  struct {
    uint64_t id;
    uint64_t npages;
    uint8_t *bytes;
  } regions[MAX_TEST_REGIONS];
  unsigned nregions;
  _Atomic uint64_t fetch_calls, fetched_pages, store_calls, stored_pages, max_batch;
  _Atomic uint64_t async_started, async_in_flight;
  _Atomic uint64_t fetchv_calls, fetchv_pieces;
  _Atomic int fail_piece; /* fetchv: the piece whose first page is this fails (0: none) */
  _Atomic int fail;       /* non-zero: every call fails with this code */
  _Atomic int fail_async; /* non-zero: asynchronous reads fail with this code */
  bool no_async;          /* fetch_start declines */
  struct rum_fetch_op ops[STORE_OPS];
};

static uint8_t *store_bytes(struct page_store *s, uint64_t id, uint64_t page) {
  for (unsigned i = 0; i < s->nregions; i++)
    if (s->regions[i].id == id && page < s->regions[i].npages)
      return s->regions[i].bytes + page * RUM_PAGE_SIZE;
  return NULL;
}

static int store_fetch(void *ctx, struct rum_region *r, uint64_t first, uint32_t n, uint8_t *dst,
                       struct rum_store_error *err) {
  struct page_store *s = ctx;
  int fail = atomic_load(&s->fail);
  if (fail != 0) {
    err->node_id = 7;
    err->code = fail;
    return fail;
  }
  rum__spin_lock(&s->lock);
  for (uint32_t i = 0; i < n; i++) memcpy(dst + (size_t)i * RUM_PAGE_SIZE, store_bytes(s, r->id, first + i), RUM_PAGE_SIZE);
  rum__spin_unlock(&s->lock);
  atomic_fetch_add(&s->fetch_calls, 1);
  atomic_fetch_add(&s->fetched_pages, n);
  return 0;
}

static int store_store(void *ctx, const struct rum_page_io *pages, unsigned n, struct rum_store_error *err) {
  struct page_store *s = ctx;
  int fail = atomic_load(&s->fail);
  if (fail != 0) {
    err->node_id = 7;
    err->code = fail;
    return fail;
  }
  rum__spin_lock(&s->lock);
  for (unsigned i = 0; i < n; i++)
    memcpy(store_bytes(s, pages[i].region->id, pages[i].page), pages[i].data, RUM_PAGE_SIZE);
  rum__spin_unlock(&s->lock);
  atomic_fetch_add(&s->store_calls, 1);
  atomic_fetch_add(&s->stored_pages, n);
  uint64_t m = atomic_load(&s->max_batch);
  while (n > m && !atomic_compare_exchange_weak(&s->max_batch, &m, n)) {
  }
  return 0;
}

static struct rum_fetch_op *store_fetch_start(void *ctx, struct rum_region *r, uint64_t first, uint32_t n,
                                              uint8_t *dst) {
  struct page_store *s = ctx;
  if (s->no_async) return NULL;
  for (unsigned i = 0; i < STORE_OPS; i++) {
    struct rum_fetch_op *op = &s->ops[i];
    if (atomic_exchange(&op->busy, true)) continue;
    op->r = r;
    op->first = first;
    op->n = n;
    op->dst = dst;
    op->polls = 0;
    atomic_fetch_add(&s->async_started, 1);
    atomic_fetch_add(&s->async_in_flight, 1);
    return op;
  }
  return NULL;
}

static int store_fetch_finish(void *ctx, struct rum_fetch_op *op, bool wait, struct rum_store_error *err) {
  struct page_store *s = ctx;
  if (!wait && op->polls++ < 2) return 1;
  int fail = atomic_load(&s->fail_async);
  int rc = fail != 0 ? fail : store_fetch(ctx, op->r, op->first, op->n, op->dst, err);
  if (fail != 0) {
    err->node_id = 8;
    err->code = fail;
  }
  atomic_fetch_sub(&s->async_in_flight, 1);
  atomic_store(&op->busy, false);
  return rc;
}

static int store_fetchv(void *ctx, struct rum_fetch_piece *pieces, unsigned n, struct rum_store_error *err) {
  struct page_store *s = ctx;
  assert_true(n >= 1 && n <= RUM_WIRE_MAX_PAGES);
  atomic_fetch_add(&s->fetchv_calls, 1);
  atomic_fetch_add(&s->fetchv_pieces, n);
  int first_rc = 0, fp = atomic_load(&s->fail_piece);
  for (unsigned i = 0; i < n; i++) {
    struct rum_fetch_piece *pc = &pieces[i];
    /* Each piece stays within one chunk, as the remote needs (one READ, one node). */
    assert_int_equal(pc->first >> RUM_CHUNK_SHIFT, (pc->first + pc->npages - 1) >> RUM_CHUNK_SHIFT);
    pc->status = fp != 0 && pc->first == (uint64_t)fp ? RUM_ETIMEDOUT
                                                       : store_fetch(ctx, pc->r, pc->first, pc->npages, pc->dst, err);
    if (pc->status != 0 && first_rc == 0) {
      first_rc = pc->status;
      err->node_id = 9;
      err->code = first_rc;
    }
  }
  return first_rc;
}

static const struct rum_store_ops store_ops = {store_fetch, store_store, store_fetch_start, store_fetch_finish,
                                               store_fetchv};

struct env {
  struct rum_fault_backend *fault;
  struct rum_region_table table;
  struct rum_cache *cache;
  struct page_store store;
  struct rum_region *regions[MAX_TEST_REGIONS];
  unsigned nregions;
};

static const char *g_kind = "uffd";
static struct env *g_env; /* the open environment, closed by teardown even on failure */
static void env_close(struct env *e);
static int teardown(void **state) {
  (void)state;
  if (g_env != NULL) env_close(g_env);
  return 0;
}

static struct env *env_open(uint64_t capacity, unsigned readahead, unsigned batch) {
  struct env *e = calloc(1, sizeof(*e));
  assert_non_null(e);
  assert_int_equal(rum__fault_open(g_kind, 16ull << 30, &e->fault), 0);
  assert_int_equal(rum__region_table_init(&e->table, e->fault->base, e->fault->arena_bytes), 0);
  struct rum_cache_config cfg = {.capacity_pages = capacity, .max_readahead = readahead, .evict_batch = batch};
  assert_int_equal(rum__cache_create(&cfg, &e->table, e->fault, &store_ops, &e->store, &e->cache), 0);
  assert_int_equal(rum__fault_handler_install(e->fault, rum__cache_fault, e->cache), 0);
  g_env = e;
  return e;
}

/* A region of npages; fresh regions zero-fill, others fetch from the store, whose
 * bytes start as a pattern derived from (id, page, offset). */
static struct rum_region *env_region(struct env *e, uint64_t npages, bool fresh) {
  struct rum_region *r;
  assert_int_equal(rum__region_table_carve(&e->table, npages, npages, &r), 0);
  r->id = 0x1000 + e->nregions;
  r->fresh = fresh;
  assert_int_equal(e->fault->ops->map_region(e->fault, r->base, r->reserved_pages * RUM_PAGE_SIZE), 0);
  unsigned i = e->store.nregions++;
  e->store.regions[i].id = r->id;
  e->store.regions[i].npages = npages;
  e->store.regions[i].bytes = malloc(npages * RUM_PAGE_SIZE);
  assert_non_null(e->store.regions[i].bytes);
  for (uint64_t p = 0; p < npages; p++) {
    uint64_t *w = (uint64_t *)(e->store.regions[i].bytes + p * RUM_PAGE_SIZE);
    for (unsigned k = 0; k < RUM_PAGE_SIZE / 8; k++) w[k] = fresh ? 0 : (r->id << 40) ^ (p << 12) ^ k;
  }
  e->regions[e->nregions++] = r;
  return r;
}

static void env_close(struct env *e) {
  for (unsigned i = 0; i < e->nregions; i++) {
    struct rum_region *r = e->regions[i];
    rum__cache_discard(e->cache, r, 0, r->reserved_pages, true);
    e->fault->ops->unmap_region(e->fault, r->base, r->reserved_pages * RUM_PAGE_SIZE);
    rum__region_table_release(&e->table, r);
  }
  for (unsigned i = 0; i < e->store.nregions; i++) free(e->store.regions[i].bytes);
  rum__fault_handler_remove(e->fault);
  rum__cache_destroy(e->cache);
  rum__region_table_uninit(&e->table);
  rum__fault_destroy(e->fault);
  free(e);
  g_env = NULL;
}

static uint64_t expected_word(const struct rum_region *r, uint64_t page, unsigned k) {
  return (r->id << 40) ^ (page << 12) ^ k;
}

static uint64_t counter(_Atomic uint64_t *c) { return atomic_load(c); }

/* A read fault fetches the page from the store and maps it read-only: reading it
 * again costs nothing, and nothing is written back. */
static void test_read_fault_fetches(void **state) {
  (void)state;
  struct env *e = env_open(256, 1, 0);
  struct rum_region *r = env_region(e, 32, false);
  uint64_t *w = (uint64_t *)r->base;
  for (uint64_t p = 0; p < 32; p++)
    for (unsigned k = 0; k < RUM_PAGE_SIZE / 8; k += 61)
      assert_int_equal(w[p * RUM_PAGE_SIZE / 8 + k], expected_word(r, p, k));
  assert_int_equal(counter(&e->store.fetched_pages), 32);
  assert_int_equal(counter(&e->cache->counters.read_faults), 32);
  assert_int_equal(counter(&e->cache->counters.write_faults), 0);
  assert_int_equal(rum__page_load(r, 5) & RUM_PAGE_STATE_MASK, RUM_PAGE_CLEAN);
  assert_int_equal(rum__cache_flush(e->cache, r, 0, 32), 0);
  assert_int_equal(counter(&e->store.stored_pages), 0);
  env_close(e);
}

/* A write to a page read before faults once more and makes it dirty; a write to an
 * absent page installs it writable at once. Flush writes exactly the dirty pages. */
static void test_write_fault_marks_dirty(void **state) {
  (void)state;
  struct env *e = env_open(256, 1, 0);
  struct rum_region *r = env_region(e, 8, false);
  volatile uint64_t *w = (uint64_t *)r->base;
  assert_int_equal(w[0], expected_word(r, 0, 0)); /* read: CLEAN */
  w[1] = 42;                                      /* write to a CLEAN page */
  w[512 * 3] = 43;                                /* write to an absent page (page 3) */
  assert_int_equal(rum__page_load(r, 0) & RUM_PAGE_STATE_MASK, RUM_PAGE_DIRTY);
  assert_int_equal(rum__page_load(r, 3) & RUM_PAGE_STATE_MASK, RUM_PAGE_DIRTY);
  assert_int_equal(rum__page_load(r, 1) & RUM_PAGE_STATE_MASK, RUM_PAGE_ABSENT);
  assert_int_equal(counter(&e->cache->counters.write_faults), 2);
  assert_int_equal(atomic_load(&r->ndirty), 2);
  assert_int_equal(rum__cache_flush(e->cache, r, 0, 8), 0);
  assert_int_equal(counter(&e->store.stored_pages), 2);
  uint64_t *sw = (uint64_t *)store_bytes(&e->store, r->id, 0);
  assert_int_equal(sw[1], 42);
  assert_int_equal(((uint64_t *)store_bytes(&e->store, r->id, 3))[0], 43);
  assert_int_equal(rum__page_load(r, 0) & RUM_PAGE_STATE_MASK, RUM_PAGE_CLEAN);
  /* After the flush the page is write-protected again: the next write faults. */
  w[2] = 44;
  assert_int_equal(counter(&e->cache->counters.write_faults), 3);
  assert_int_equal(rum__cache_flush(e->cache, r, 0, 8), 0);
  assert_int_equal(sw[2], 44);
  env_close(e);
}

/* Pages of a region this process created and never wrote back are zeros: no fetch. */
static void test_fresh_region_zero_fills(void **state) {
  (void)state;
  struct env *e = env_open(256, 0, 0);
  struct rum_region *r = env_region(e, 64, true);
  const uint8_t *b = r->base;
  for (size_t i = 0; i < 64 * RUM_PAGE_SIZE; i += 512) assert_int_equal(b[i], 0);
  assert_int_equal(counter(&e->store.fetch_calls), 0);
  assert_int_equal(counter(&e->cache->counters.zero_fills), 64);
  /* Once a page was written back it is fetched, not zero-filled. */
  ((uint8_t *)r->base)[7] = 9;
  assert_int_equal(rum__cache_flush(e->cache, r, 0, 64), 0);
  rum__cache_discard(e->cache, r, 0, 64, false);
  assert_int_equal(b[7], 9);
  assert_int_equal(counter(&e->store.fetched_pages), 1);
  env_close(e);
}

/* A sequential scan grows the read-ahead window up to the maximum: far fewer fetch
 * calls than pages. A random pattern stays at one page a fetch. */
static void test_readahead_sequential(void **state) {
  (void)state;
  struct env *e = env_open(1024, 64, 0);
  struct rum_region *r = env_region(e, 512, false);
  const uint64_t *w = (const uint64_t *)r->base;
  for (uint64_t p = 0; p < 512; p++) assert_int_equal(w[p * 512 + 3], expected_word(r, p, 3));
  uint64_t calls = counter(&e->store.fetch_calls);
  assert_true(calls <= 16); /* 1,2,4,..,64,64,.. */
  assert_int_equal(counter(&e->store.fetched_pages), 512);
  assert_true(counter(&e->cache->counters.readahead) >= 490);
  struct rum_region *q = env_region(e, 64, false);
  const uint64_t *wq = (const uint64_t *)q->base;
  for (uint64_t i = 0; i < 64; i++) {
    uint64_t p = (i * 37) % 64;
    assert_int_equal(wq[p * 512], expected_word(q, p, 0));
  }
  assert_int_equal(counter(&e->store.fetch_calls) - calls, 64);
  env_close(e);
}

/* CLOCK: a page referenced since the hand last passed gets a second chance. */
static void test_clock_second_chance(void **state) {
  (void)state;
  struct env *e = env_open(128, 1, 1);
  struct rum_region *r = env_region(e, 256, false);
  volatile const uint8_t *b = r->base;
  for (uint64_t p = 0; p < 128; p++) (void)b[p * RUM_PAGE_SIZE]; /* cache full, all referenced */
  (void)b[128 * RUM_PAGE_SIZE]; /* sweep clears every bit, evicts page 0 */
  assert_int_equal(rum__page_load(r, 0) & RUM_PAGE_STATE_MASK, RUM_PAGE_ABSENT);
  ((volatile uint8_t *)r->base)[5 * RUM_PAGE_SIZE] = 1; /* write fault: page 5 referenced */
  for (uint64_t p = 129; p < 134; p++) (void)b[p * RUM_PAGE_SIZE];
  /* Pages 1-4 and 6 went; page 5 was spared and keeps its dirty bytes. */
  for (uint64_t p = 1; p <= 6; p++)
    assert_int_equal(rum__page_load(r, p) & RUM_PAGE_STATE_MASK, p == 5 ? RUM_PAGE_DIRTY : RUM_PAGE_ABSENT);
  assert_int_equal(rum__page_load(r, 7) & RUM_PAGE_STATE_MASK, RUM_PAGE_CLEAN);
  assert_int_equal(counter(&e->cache->counters.evictions), 6);
  assert_int_equal(counter(&e->store.stored_pages), 0); /* clean victims are just dropped */
  assert_true(atomic_load(&e->cache->resident) <= 128);
  env_close(e);
}

/* Eviction under pressure: writing 8x the cache keeps residency bounded, dirty
 * victims go back in batches, and everything reads back exactly. */
static void test_eviction_under_pressure(void **state) {
  (void)state;
  struct env *e = env_open(128, 16, 32);
  struct rum_region *r = env_region(e, 1024, true);
  uint64_t *w = (uint64_t *)r->base;
  for (uint64_t p = 0; p < 1024; p++) {
    w[p * 512] = p * 3 + 1;
    w[p * 512 + 511] = ~p;
    assert_true(atomic_load(&e->cache->resident) <= 128);
  }
  assert_true(counter(&e->cache->counters.evictions) >= 1024 - 128);
  uint64_t calls = counter(&e->store.store_calls), pages = counter(&e->store.stored_pages);
  assert_true(pages >= 1024 - 128);
  assert_true(pages / calls >= 16); /* batched write-back, not a page at a time */
  assert_true(counter(&e->store.max_batch) >= 32);
  for (uint64_t p = 0; p < 1024; p++) {
    assert_int_equal(w[p * 512], p * 3 + 1);
    assert_int_equal(w[p * 512 + 511], ~p);
  }
  assert_int_equal(rum__cache_sync(e->cache), 0);
  for (uint64_t p = 0; p < 1024; p++)
    assert_int_equal(((uint64_t *)store_bytes(&e->store, r->id, p))[0], p * 3 + 1);
  env_close(e);
}

/* Data much larger than the cache: 64 MiB through a 1 MiB cache, written then
 * verified twice (the second pass refetches everything). */
static void test_larger_than_cache(void **state) {
  (void)state;
  struct env *e = env_open(256, 0, 0);
  uint64_t npages = 16384;
  struct rum_region *r = env_region(e, npages, true);
  uint64_t *w = (uint64_t *)r->base;
  for (uint64_t i = 0; i < npages * 512; i += 64) w[i] = i * 0x9e3779b97f4a7c15ull;
  for (int pass = 0; pass < 2; pass++)
    for (uint64_t i = 0; i < npages * 512; i += 64) assert_int_equal(w[i], i * 0x9e3779b97f4a7c15ull);
  assert_true(atomic_load(&e->cache->resident) <= 256);
  assert_true(counter(&e->cache->counters.writebacks) >= npages - 256);
  env_close(e);
}

struct thread_arg {
  struct env *e;
  struct rum_region *r;
  pthread_barrier_t *barrier;
  unsigned index;
  uint64_t bad;
};

static void *reader(void *p) {
  struct thread_arg *a = p;
  const volatile uint64_t *w = (const uint64_t *)a->r->base;
  pthread_barrier_wait(a->barrier);
  for (uint64_t page = 0; page < 256; page++)
    if (w[page * 512 + a->index] != expected_word(a->r, page, a->index)) a->bad++;
  return NULL;
}

static void *writer(void *p) {
  struct thread_arg *a = p;
  volatile uint64_t *w = (uint64_t *)a->r->base;
  pthread_barrier_wait(a->barrier);
  for (uint64_t page = 0; page < 256; page++) {
    (void)w[page * 512 + 100]; /* read first so that every page also takes a write fault */
    w[page * 512 + 8 + a->index] = page * 10 + a->index;
  }
  return NULL;
}

static void run_threads(struct env *e, struct rum_region *r, void *(*fn)(void *)) {
  pthread_t th[4];
  struct thread_arg args[4];
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, 4);
  for (unsigned i = 0; i < 4; i++) {
    args[i] = (struct thread_arg){e, r, &barrier, i, 0};
    assert_int_equal(pthread_create(&th[i], NULL, fn, &args[i]), 0);
  }
  for (unsigned i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].bad, 0);
  }
  pthread_barrier_destroy(&barrier);
}

/* Four threads fault the same pages at once: every byte is right and every page was
 * fetched exactly once; concurrent writers to the same pages lose nothing. */
static void test_four_threads_same_pages(void **state) {
  (void)state;
  struct env *e = env_open(1024, 1, 0);
  struct rum_region *r = env_region(e, 256, false);
  run_threads(e, r, reader);
  assert_int_equal(counter(&e->store.fetched_pages), 256);
  assert_int_equal(counter(&e->cache->counters.read_faults), 256);
  struct rum_region *q = env_region(e, 256, false);
  run_threads(e, q, writer);
  assert_int_equal(counter(&e->store.fetched_pages), 512);
  assert_int_equal(rum__cache_sync(e->cache), 0);
  for (uint64_t page = 0; page < 256; page++) {
    const uint64_t *sw = (const uint64_t *)store_bytes(&e->store, q->id, page);
    for (unsigned t = 0; t < 4; t++) assert_int_equal(sw[8 + t], page * 10 + t);
    assert_int_equal(sw[100], expected_word(q, page, 100));
  }
  env_close(e);
}

/* Four threads under eviction pressure on a shared region: still exact. */
static void test_four_threads_with_eviction(void **state) {
  (void)state;
  struct env *e = env_open(128, 8, 16);
  struct rum_region *r = env_region(e, 256, false);
  for (int round = 0; round < 3; round++) run_threads(e, r, writer);
  run_threads(e, r, reader);
  assert_true(counter(&e->cache->counters.evictions) > 0);
  assert_int_equal(rum__cache_sync(e->cache), 0);
  for (uint64_t page = 0; page < 256; page++) {
    const uint64_t *sw = (const uint64_t *)store_bytes(&e->store, r->id, page);
    for (unsigned t = 0; t < 4; t++) assert_int_equal(sw[8 + t], page * 10 + t);
  }
  env_close(e);
}

/* refresh drops clean pages so the next touch sees the store's current bytes. */
static void test_refresh_rereads(void **state) {
  (void)state;
  struct env *e = env_open(256, 1, 0);
  struct rum_region *r = env_region(e, 4, true);
  volatile uint64_t *w = (uint64_t *)r->base;
  w[0] = 5;
  assert_int_equal(rum__cache_refresh(e->cache, r, 0, 4), 0); /* writes back, then drops */
  ((uint64_t *)store_bytes(&e->store, r->id, 0))[0] = 6;      /* "another process" writes */
  ((uint64_t *)store_bytes(&e->store, r->id, 2))[0] = 7;      /* a page never touched here */
  assert_int_equal(w[0], 6);
  assert_int_equal(w[512 * 2], 7);
  env_close(e);
}

/* A sequential writer gets whole windows installed writable and dirty: one fault per
 * window, not a second one on every page; everything it wrote reaches the store. */
static void test_sequential_writes_fault_per_window(void **state) {
  (void)state;
  struct env *e = env_open(1024, 64, 0);
  struct rum_region *r = env_region(e, 512, true);
  volatile uint64_t *w = (uint64_t *)r->base;
  for (uint64_t p = 0; p < 512; p++) w[p * 512 + 5] = p * 7 + 1;
  uint64_t faults = counter(&e->cache->counters.faults);
  assert_true(faults <= 512 / 64 + 16); /* the ramp 1,2,4,..,64, then a fault per window */
  assert_int_equal(atomic_load(&r->ndirty), 512);
  assert_int_equal(rum__cache_sync(e->cache), 0);
  for (uint64_t p = 0; p < 512; p++)
    assert_int_equal(((uint64_t *)store_bytes(&e->store, r->id, p))[5], p * 7 + 1);
  /* Random writes still take their own faults and dirty only what they touch. */
  struct rum_region *q = env_region(e, 64, true);
  volatile uint64_t *wq = (uint64_t *)q->base;
  for (uint64_t i = 0; i < 16; i++) wq[((i * 37) % 64) * 512] = i;
  assert_int_equal(atomic_load(&q->ndirty), 16);
  env_close(e);
}

static unsigned count_state(const struct rum_region *r, uint64_t first, uint64_t end, uint8_t state) {
  unsigned n = 0;
  for (uint64_t p = first; p < end; p++) n += (rum__page_load(r, p) & RUM_PAGE_STATE_MASK) == state;
  return n;
}

/* A sequential scan past the largest window keeps windows in flight ahead of it
 * (their pages FETCHING while the scan reads the window before), finishes each when
 * it gets there, fetches every page exactly once and reads every byte right. */
static void test_readahead_async_pipeline(void **state) {
  (void)state;
  struct env *e = env_open(1024, 64, 0);
  struct rum_region *r = env_region(e, 2048, false);
  const volatile uint64_t *w = (const uint64_t *)r->base;
  unsigned max_in_flight = 0;
  for (uint64_t p = 0; p < 2048; p++) {
    assert_int_equal(w[p * 512 + 9], expected_word(r, p, 9));
    unsigned fetching = count_state(r, p + 1, p + 1 + 5 * 64 < 2048 ? p + 1 + 5 * 64 : 2048, RUM_PAGE_FETCHING);
    if (fetching > max_in_flight) max_in_flight = fetching;
  }
  assert_true(max_in_flight >= 3 * 64); /* several whole windows ahead */
  assert_int_equal(counter(&e->store.fetched_pages), 2048);
  assert_true(counter(&e->store.async_started) >= 2048 / 64 - 8);
  assert_true(counter(&e->cache->counters.readahead_waits) > 0);
  assert_int_equal(counter(&e->store.async_in_flight), 0); /* nothing left behind past the end */
  assert_int_equal(count_state(r, 0, 2048, RUM_PAGE_FETCHING), 0);
  /* Windows are whole chunks: every window after the first few starts on a chunk. */
  assert_true(counter(&e->store.fetch_calls) <= 2048 / 64 + 16);
  env_close(e);
}

/* A window that fails only turns its pages absent again: the scan fetches them itself
 * and reads the right bytes. Without fetch_start the scan stays synchronous. */
static void test_readahead_window_failure(void **state) {
  (void)state;
  struct env *e = env_open(1024, 64, 0);
  struct rum_region *r = env_region(e, 1024, false);
  atomic_store(&e->store.fail_async, RUM_ETIMEDOUT);
  const volatile uint64_t *w = (const uint64_t *)r->base;
  for (uint64_t p = 0; p < 1024; p++) assert_int_equal(w[p * 512 + 1], expected_word(r, p, 1));
  assert_true(counter(&e->store.async_started) > 0);
  assert_true(counter(&e->cache->counters.fetch_errors) > 0);
  atomic_store(&e->store.fail_async, 0);
  e->store.no_async = true;
  struct rum_region *q = env_region(e, 512, false);
  const volatile uint64_t *wq = (const uint64_t *)q->base;
  uint64_t started = counter(&e->store.async_started);
  for (uint64_t p = 0; p < 512; p++) assert_int_equal(wq[p * 512 + 2], expected_word(q, p, 2));
  assert_int_equal(counter(&e->store.async_started), started);
  env_close(e);
}

/* Windows still in flight when the range is refreshed or discarded are finished, not
 * left FETCHING forever; refresh then rereads the store's current bytes. */
static void test_readahead_in_flight_then_dropped(void **state) {
  (void)state;
  struct env *e = env_open(1024, 64, 0);
  struct rum_region *r = env_region(e, 1024, false);
  const volatile uint64_t *w = (const uint64_t *)r->base;
  for (uint64_t p = 0; p < 300; p++) (void)w[p * 512];
  assert_true(count_state(r, 300, 1024, RUM_PAGE_FETCHING) > 0);
  ((uint64_t *)store_bytes(&e->store, r->id, 700))[0] = 0xfeed; /* changes under the cache */
  assert_int_equal(rum__cache_refresh(e->cache, r, 0, 1024), 0);
  assert_int_equal(count_state(r, 0, 1024, RUM_PAGE_FETCHING), 0);
  assert_int_equal(count_state(r, 0, 1024, RUM_PAGE_CLEAN), 0);
  assert_int_equal(w[700 * 512], 0xfeed);
  for (uint64_t p = 0; p < 400; p++) (void)w[p * 512];
  assert_true(count_state(r, 400, 1024, RUM_PAGE_FETCHING) > 0);
  rum__cache_discard(e->cache, r, 0, r->reserved_pages, true);
  assert_int_equal(counter(&e->store.async_in_flight), 0);
  env_close(e);
}

static void *scanner(void *p) {
  struct thread_arg *a = p;
  const volatile uint64_t *w = (const uint64_t *)a->r->base;
  pthread_barrier_wait(a->barrier);
  for (uint64_t page = 0; page < 1024; page++)
    if (w[page * 512 + a->index] != expected_word(a->r, page, a->index)) a->bad++;
  return NULL;
}

/* Four threads scanning the same region at once share its windows: each page is
 * fetched once, and no thread waits on a window nobody finishes. */
static void test_readahead_four_scanners(void **state) {
  (void)state;
  struct env *e = env_open(2048, 64, 0);
  struct rum_region *r = env_region(e, 1024, false);
  run_threads(e, r, scanner);
  assert_int_equal(counter(&e->store.fetched_pages), 1024);
  assert_int_equal(counter(&e->store.async_in_flight), 0);
  env_close(e);
}

/* cmocka catches crash signals to report them; a child that must die of one gets
 * the default actions back. */
static void child_default_signals(void) {
  signal(SIGSEGV, SIG_DFL);
  signal(SIGBUS, SIG_DFL);
  signal(SIGABRT, SIG_DFL);
}

/* A page that cannot be fetched stops the program, naming region, page and node. */
/* rum__cache_prefetchv: scattered pages of two regions arrive in batched fetchv
 * calls (not one fetch per page), are installed clean with the right bytes, and
 * touching them afterwards takes no fault. Resident pages are skipped; a failed
 * piece is reported and its page stays ABSENT (a later touch fetches it). */
static void test_prefetchv_batches(void **state) {
  (void)state;
  struct env *e = env_open(1024, 1, 0);
  struct rum_region *a = env_region(e, 600, false), *b = env_region(e, 300, false);
  /* Page 3 of a resident already. */
  assert_int_equal(((uint64_t *)(a->base + 3 * RUM_PAGE_SIZE))[1], expected_word(a, 3, 1));
  struct rum_prefetch_range rg[200];
  unsigned n = 0;
  for (uint64_t p = 3; p < 600; p += 7) rg[n++] = (struct rum_prefetch_range){a, p, 1};
  rg[n++] = (struct rum_prefetch_range){b, 250, 20}; /* crosses a chunk: two pieces */
  for (uint64_t p = 1; p < 300; p += 41) rg[n++] = (struct rum_prefetch_range){b, p, 1};
  uint64_t faults = counter(&e->cache->counters.faults), fetches = counter(&e->store.fetch_calls);
  assert_int_equal(rum__cache_prefetchv(e->cache, rg, n), 0);
  uint64_t pages = 0;
  for (uint64_t p = 3; p < 600; p += 7) pages++;
  pages = pages - 1 + 20 + 8; /* page 3 was resident */
  assert_int_equal(counter(&e->store.fetched_pages), 1 + pages);
  assert_int_equal(counter(&e->store.fetch_calls) - fetches, counter(&e->store.fetchv_pieces));
  /* 112 pages in batches of at most 64 pages: two or three calls, not 112. */
  assert_true(counter(&e->store.fetchv_calls) >= 2 && counter(&e->store.fetchv_calls) <= 3);
  for (unsigned i = 0; i < n; i++)
    for (uint64_t p = rg[i].first; p < rg[i].first + rg[i].n; p++) {
      assert_int_equal(rum__page_load(rg[i].r, p) & RUM_PAGE_STATE_MASK, RUM_PAGE_CLEAN);
      assert_int_equal(((uint64_t *)(rg[i].r->base + p * RUM_PAGE_SIZE))[5], expected_word(rg[i].r, p, 5));
    }
  assert_int_equal(counter(&e->cache->counters.faults), faults);
  /* Again: everything is resident, nothing is fetched. */
  uint64_t calls = counter(&e->store.fetchv_calls);
  assert_int_equal(rum__cache_prefetchv(e->cache, rg, n), 0);
  assert_int_equal(counter(&e->store.fetchv_calls), calls);
  /* A failing piece: reported, page left ABSENT, the other pages of the batch installed. */
  atomic_store(&e->store.fail_piece, 4);
  struct rum_prefetch_range two[2] = {{a, 4, 1}, {a, 5, 1}};
  assert_int_equal(rum__cache_prefetchv(e->cache, two, 2), RUM_ETIMEDOUT);
  assert_int_equal(rum__page_load(a, 4) & RUM_PAGE_STATE_MASK, RUM_PAGE_ABSENT);
  assert_int_equal(rum__page_load(a, 5) & RUM_PAGE_STATE_MASK, RUM_PAGE_CLEAN);
  atomic_store(&e->store.fail_piece, 0);
  assert_int_equal(((uint64_t *)(a->base + 4 * RUM_PAGE_SIZE))[7], expected_word(a, 4, 7));
  env_close(e);
}

static void test_fetch_failure_is_fatal(void **state) {
  (void)state;
  int pipefd[2];
  assert_int_equal(pipe(pipefd), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    child_default_signals();
    dup2(pipefd[1], STDERR_FILENO);
    struct env *e = env_open(256, 1, 0);
    struct rum_region *r = env_region(e, 4, false);
    atomic_store(&e->store.fail, RUM_ETIMEDOUT);
    volatile uint8_t x = ((volatile uint8_t *)r->base)[2 * RUM_PAGE_SIZE];
    (void)x;
    _exit(0); /* a silent zero page would end up here */
  }
  close(pipefd[1]);
  char buf[1024] = {0};
  size_t len = 0;
  ssize_t n;
  while ((n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len)) > 0) len += (size_t)n;
  close(pipefd[0]);
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);
  assert_non_null(strstr(buf, "region 0x0000000000001000"));
  assert_non_null(strstr(buf, "page 2"));
  assert_non_null(strstr(buf, "node 7"));
}

/* An access outside every region still crashes as it would without RUM. */
static void test_foreign_fault_passes_on(void **state) {
  (void)state;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    child_default_signals();
    struct env *e = env_open(256, 1, 0);
    struct rum_region *r = env_region(e, 4, true);
    volatile uint8_t *beyond = r->base + 64 * RUM_PAGE_SIZE; /* arena, but no region */
    *beyond = 1;
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
  int sig = WTERMSIG(status);
  assert_true(sig == SIGSEGV || sig == SIGBUS);
}

/* A write-back failure during eviction keeps the page dirty; nothing is lost. */
static void test_store_failure_keeps_dirty(void **state) {
  (void)state;
  struct env *e = env_open(256, 1, 0);
  struct rum_region *r = env_region(e, 4, true);
  ((volatile uint64_t *)r->base)[0] = 77;
  atomic_store(&e->store.fail, RUM_ETIMEDOUT);
  assert_int_equal(rum__cache_flush(e->cache, r, 0, 4), RUM_ETIMEDOUT);
  assert_int_equal(rum__page_load(r, 0) & RUM_PAGE_STATE_MASK, RUM_PAGE_DIRTY);
  ((volatile uint64_t *)r->base)[1] = 78; /* still writable without a fault */
  atomic_store(&e->store.fail, 0);
  assert_int_equal(rum__cache_flush(e->cache, r, 0, 4), 0);
  assert_int_equal(((uint64_t *)store_bytes(&e->store, r->id, 0))[1], 78);
  env_close(e);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_read_fault_fetches, teardown),
    cmocka_unit_test_teardown(test_write_fault_marks_dirty, teardown),
    cmocka_unit_test_teardown(test_fresh_region_zero_fills, teardown),
    cmocka_unit_test_teardown(test_readahead_sequential, teardown),
    cmocka_unit_test_teardown(test_sequential_writes_fault_per_window, teardown),
    cmocka_unit_test_teardown(test_readahead_async_pipeline, teardown),
    cmocka_unit_test_teardown(test_readahead_window_failure, teardown),
    cmocka_unit_test_teardown(test_readahead_in_flight_then_dropped, teardown),
    cmocka_unit_test_teardown(test_readahead_four_scanners, teardown),
    cmocka_unit_test_teardown(test_clock_second_chance, teardown),
    cmocka_unit_test_teardown(test_eviction_under_pressure, teardown),
    cmocka_unit_test_teardown(test_larger_than_cache, teardown),
    cmocka_unit_test_teardown(test_four_threads_same_pages, teardown),
    cmocka_unit_test_teardown(test_four_threads_with_eviction, teardown),
    cmocka_unit_test_teardown(test_refresh_rereads, teardown),
    cmocka_unit_test_teardown(test_store_failure_keeps_dirty, teardown),
    cmocka_unit_test_teardown(test_fetch_failure_is_fatal, teardown),
    cmocka_unit_test_teardown(test_foreign_fault_passes_on, teardown),
    cmocka_unit_test_teardown(test_prefetchv_batches, teardown),
};

int main(void) {
  int failed = 0;
  struct rum_fault_backend *probe;
  if (rum__fault_uffd_open(1ull << 30, &probe) == 0) {
    rum__fault_destroy(probe);
    g_kind = "uffd";
    failed += cmocka_run_group_tests_name("cache.uffd", tests, NULL, NULL);
  } else {
    fprintf(stderr, "userfaultfd not usable here: uffd backend tests skipped\n");
  }
  g_kind = "sigsegv";
  failed += cmocka_run_group_tests_name("cache.sigsegv", tests, NULL, NULL);
  return failed;
}
