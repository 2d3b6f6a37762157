/* The allocator and the client's region life cycle over an in-process remote (the
 * struct rum_remote_ops seam): size classes, packing overhead for several size
 * distributions (printed, and bounded for realistic mixes), reuse, calloc zeroing,
 * realloc in place and by moving, usable sizes, named regions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum.h>

#include "client/client.h"
#include "util/spinlock.h"

/* ---- the in-process remote: regions by id, each a flat zeroed buffer ---- */

enum { MAX_REMOTE = 4096 };

struct remote_region {
  uint64_t id;
  uint64_t size;      /* whole pages held */
  uint64_t user_size; /* bytes registered (what attach reports) */
  uint8_t *bytes;
  char name[RUM_NAME_MAX + 1];
};

struct local_remote {
  rum_spinlock_t lock;
  struct remote_region regions[MAX_REMOTE];
  unsigned n;
  unsigned creates, destroys, resizes, copies, discards;
  uint64_t pages_stored, pages_discarded;
  /* Pages that must never be written back (a freed block), and how many were. */
  uint64_t forbid_region, forbid_first, forbid_n, forbidden_stores;
};

static struct remote_region *find(struct local_remote *lr, uint64_t id) {
  for (unsigned i = 0; i < lr->n; i++)
    if (lr->regions[i].id == id) return &lr->regions[i];
  return NULL;
}

static int lr_fetch(void *ctx, struct rum_region *r, uint64_t first, uint32_t n, uint8_t *dst,
                    struct rum_store_error *err) {
  struct local_remote *lr = ctx;
  rum__spin_lock(&lr->lock);
  struct remote_region *x = find(lr, r->id);
  int rc = x == NULL || (first + n) * RUM_PAGE_SIZE > x->size ? RUM_EINVAL : 0;
  if (rc == 0) memcpy(dst, x->bytes + first * RUM_PAGE_SIZE, (size_t)n * RUM_PAGE_SIZE);
  rum__spin_unlock(&lr->lock);
  err->code = rc;
  return rc;
}

static int lr_store(void *ctx, const struct rum_page_io *p, unsigned n, struct rum_store_error *err) {
  struct local_remote *lr = ctx;
  int rc = 0;
  rum__spin_lock(&lr->lock);
  for (unsigned i = 0; i < n && rc == 0; i++) {
    struct remote_region *x = find(lr, p[i].region->id);
    if (x == NULL || (p[i].page + 1) * RUM_PAGE_SIZE > x->size) {
      rc = RUM_EINVAL;
    } else {
      memcpy(x->bytes + p[i].page * RUM_PAGE_SIZE, p[i].data, RUM_PAGE_SIZE);
      lr->pages_stored++;
      if (x->id == lr->forbid_region && p[i].page >= lr->forbid_first && p[i].page - lr->forbid_first < lr->forbid_n)
        lr->forbidden_stores++;
    }
  }
  rum__spin_unlock(&lr->lock);
  err->code = rc;
  return rc;
}

static int lr_create(void *ctx, struct rum_region *r, const char *name, size_t len) {
  struct local_remote *lr = ctx;
  int rc = 0;
  rum__spin_lock(&lr->lock);
  /* Like rumd: an ALLOC of an existing leased id with the same size (from the same
   * client) is a retried registration and succeeds; an existing named region, or
   * another size, clashes. */
  struct remote_region *old = find(lr, r->id);
  if (old != NULL) {
    rc = old->user_size == r->user_size && name == NULL ? 0 : RUM_EEXIST;
    rum__spin_unlock(&lr->lock);
    return rc;
  }
  for (unsigned i = 0; name != NULL && i < lr->n; i++)
    if (strcmp(lr->regions[i].name, name) == 0) rc = RUM_EEXIST;
  if (rc == 0 && lr->n == MAX_REMOTE) rc = RUM_ENOSPC;
  if (rc == 0) {
    struct remote_region *x = &lr->regions[lr->n++];
    memset(x, 0, sizeof(*x));
    x->id = r->id;
    x->size = atomic_load(&r->npages) * RUM_PAGE_SIZE;
    x->user_size = r->user_size;
    x->bytes = calloc(1, x->size);
    if (name != NULL) memcpy(x->name, name, len);
    lr->creates++;
  }
  rum__spin_unlock(&lr->lock);
  return rc;
}

static int lr_destroy(void *ctx, struct rum_region *r, const char *name, size_t len) {
  (void)name;
  (void)len;
  struct local_remote *lr = ctx;
  rum__spin_lock(&lr->lock);
  struct remote_region *x = find(lr, r->id);
  if (x != NULL) {
    free(x->bytes);
    *x = lr->regions[--lr->n];
    lr->destroys++;
  }
  rum__spin_unlock(&lr->lock);
  return x != NULL ? 0 : RUM_ENOENT;
}

static int lr_resize(void *ctx, struct rum_region *r, uint64_t old_npages) {
  (void)old_npages;
  struct local_remote *lr = ctx;
  rum__spin_lock(&lr->lock);
  struct remote_region *x = find(lr, r->id);
  uint64_t size = atomic_load(&r->npages) * RUM_PAGE_SIZE;
  uint8_t *b = realloc(x->bytes, size);
  if (size > x->size) memset(b + x->size, 0, size - x->size);
  x->bytes = b;
  x->size = size;
  x->user_size = r->user_size;
  lr->resizes++;
  rum__spin_unlock(&lr->lock);
  return 0;
}

static int lr_copy(void *ctx, struct rum_region *src, struct rum_region *dst, uint64_t npages) {
  struct local_remote *lr = ctx;
  rum__spin_lock(&lr->lock);
  struct remote_region *s = find(lr, src->id), *d = find(lr, dst->id);
  memcpy(d->bytes, s->bytes, npages * RUM_PAGE_SIZE);
  lr->copies++;
  rum__spin_unlock(&lr->lock);
  return 0;
}

static int lr_attach(void *ctx, const char *name, size_t len, uint64_t *id, uint64_t *size, uint32_t *flags) {
  (void)len;
  struct local_remote *lr = ctx;
  int rc = RUM_ENOENT;
  rum__spin_lock(&lr->lock);
  for (unsigned i = 0; i < lr->n; i++)
    if (strcmp(lr->regions[i].name, name) == 0) {
      *id = lr->regions[i].id;
      *size = lr->regions[i].user_size;
      *flags = RUM_REGION_F_NAMED;
      rc = 0;
    }
  rum__spin_unlock(&lr->lock);
  return rc;
}

static int lr_discard(void *ctx, struct rum_region *r, const struct rum_page_range *ranges, unsigned n) {
  struct local_remote *lr = ctx;
  int rc = 0;
  rum__spin_lock(&lr->lock);
  struct remote_region *x = find(lr, r->id);
  for (unsigned i = 0; x != NULL && i < n && rc == 0; i++) {
    if ((ranges[i].first + ranges[i].npages) * RUM_PAGE_SIZE > x->size) {
      rc = RUM_EINVAL;
      break;
    }
    memset(x->bytes + ranges[i].first * RUM_PAGE_SIZE, 0, ranges[i].npages * RUM_PAGE_SIZE);
    lr->pages_discarded += ranges[i].npages;
  }
  if (x == NULL) rc = RUM_ENOENT;
  lr->discards++;
  rum__spin_unlock(&lr->lock);
  return rc;
}

static bool lr_node_exists(void *ctx, uint32_t id) {
  (void)ctx;
  return id < 3;
}

static const struct rum_remote_ops lr_ops = {
    .pages = {lr_fetch, lr_store, NULL, NULL, NULL},
    .region_create = lr_create,
    .region_destroy = lr_destroy,
    .region_resize = lr_resize,
    .region_copy = lr_copy,
    .region_discard = lr_discard,
    .attach = lr_attach,
    .node_exists = lr_node_exists,
};

static struct local_remote *g_remote;
static struct rum_client *g_cl;

/* Tests open their client inside the test body: cmocka installs its own crash
 * handlers around each test function, which would replace the fault handler if it
 * were installed in a setup fixture. */
static void open_client_cache(uint64_t cache_pages) {
  g_remote = calloc(1, sizeof(*g_remote));
  /* No maintenance thread: the tests run rounds themselves (rum__heap_maintain). */
  struct rum_client_config cfg = {.cache_pages = cache_pages, .arena_bytes = 256ull << 30, .fault_kind = "auto",
                                  .heap = {.tick_ms = -1}};
  assert_int_equal(rum__client_create(&cfg, &lr_ops, g_remote, &g_cl), 0);
}

static void open_client(void) { open_client_cache(1024); }

static void close_client(void) {
  if (g_cl == NULL) return;
  assert_int_equal(rum__client_destroy(g_cl), 0);
  g_cl = NULL;
  for (unsigned i = 0; i < g_remote->n; i++) free(g_remote->regions[i].bytes);
  free(g_remote);
  g_remote = NULL;
}

static int setup(void **state) {
  (void)state;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  close_client();
  return 0;
}

/* ---- size classes ---- */

static void test_size_classes(void **state) {
  (void)state;
  size_t prev = 0;
  for (int c = 0; c < RUM_SLAB_CLASSES; c++) {
    size_t s = rum__slab_class_size(c);
    assert_true(s > prev);
    assert_int_equal(s % 16, 0);
    if (s <= 128) assert_int_equal(s - prev, 16);
    else assert_true((double)s <= (double)prev * 1.125 + 0.5); /* at most 12.5% apart */
    assert_int_equal(rum__slab_class_of(s), c);
    assert_int_equal(rum__slab_class_of(prev + 1), c);
    prev = s;
  }
  assert_int_equal(prev, RUM_SLAB_MAX);
  assert_int_equal(rum__slab_class_of(RUM_SLAB_MAX + 1), -1);
  assert_int_equal(rum__slab_class_of(0), 0);
}

/* ---- overhead ---- */

static uint64_t xorshift(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static size_t uniform(uint64_t *s, size_t lo, size_t hi) { return lo + xorshift(s) % (hi - lo + 1); }

/* Log-uniform without libm: a uniform octave, then uniform within it. */
static size_t log_uniform(uint64_t *s, size_t lo, size_t hi) {
  unsigned octaves = 0;
  while ((lo << (octaves + 1)) <= hi) octaves++;
  size_t base = lo << (xorshift(s) % octaves);
  return uniform(s, base, base * 2 > hi ? hi : base * 2);
}

enum dist { D_FIXED24, D_U16_128, D_U16_1K, D_U16_64K, D_LOG16_1M, D_POW2, D_MIX };
static const char *dist_names[] = {"fixed 24 B", "uniform 16-128 B", "uniform 16 B-1 KiB",
                                   "uniform 16 B-64 KiB", "log-uniform 16 B-1 MiB", "powers of two 16 B-64 KiB",
                                   "mix (50% <=64 B, 30% <=512 B, 15% <=8 KiB, 4% <=256 KiB, 1% <=4 MiB)"};

static size_t draw(enum dist d, uint64_t *s) {
  switch (d) {
  case D_FIXED24: return 24;
  case D_U16_128: return uniform(s, 16, 128);
  case D_U16_1K: return uniform(s, 16, 1024);
  case D_U16_64K: return uniform(s, 16, 65536);
  case D_LOG16_1M: return log_uniform(s, 16, 1 << 20);
  case D_POW2: return (size_t)16 << (xorshift(s) % 13);
  default: {
    uint64_t p = xorshift(s) % 100;
    if (p < 50) return uniform(s, 16, 64);
    if (p < 80) return uniform(s, 65, 512);
    if (p < 95) return uniform(s, 513, 8192);
    if (p < 99) return uniform(s, 8193, 256 << 10);
    return uniform(s, (256 << 10) + 1, 4 << 20);
  }
  }
}

static int sum_large(void *ctx, struct rum_region *r) {
  if (r->kind != RUM_REGION_HEAP) *(uint64_t *)ctx += atomic_load(&r->npages) * RUM_PAGE_SIZE;
  return 0;
}

/* consumed region bytes / requested bytes - 1, after n allocations of d. */
static double measure(enum dist d, unsigned n, uint64_t *requested_out) {
  uint64_t seed = 0x9e3779b97f4a7c15ull + d;
  void **ptrs = malloc(n * sizeof(void *));
  uint64_t requested = 0;
  for (unsigned i = 0; i < n; i++) {
    size_t size = draw(d, &seed);
    ptrs[i] = rum__client_alloc(g_cl, size, false);
    assert_non_null(ptrs[i]);
    assert_true(rum__client_usable_size(g_cl, ptrs[i]) >= size);
    assert_int_equal((uintptr_t)ptrs[i] % 16, 0);
    requested += size;
  }
  uint64_t consumed, heap_bytes;
  rum__heap_usage(&g_cl->heap, &consumed, &heap_bytes);
  rum__region_table_each(&g_cl->table, sum_large, &consumed);
  for (unsigned i = 0; i < n; i++) rum__client_free(g_cl, ptrs[i]);
  free(ptrs);
  *requested_out = requested;
  return (double)consumed / (double)requested - 1.0;
}

static void test_overhead(void **state) {
  (void)state;
  static const unsigned counts[] = {200000, 200000, 100000, 20000, 20000, 20000, 50000};
  printf("allocator overhead (bytes of spans and regions in use / requested bytes - 1):\n");
  for (int d = D_FIXED24; d <= D_MIX; d++) {
    uint64_t requested;
    open_client(); /* fresh: no spare slabs left over from another distribution */
    double o = measure((enum dist)d, counts[d], &requested);
    close_client();
    printf("  %-70s %7u allocs %9.1f MiB  overhead %5.2f%%\n", dist_names[d], counts[d],
           (double)requested / (1 << 20), o * 100);
    if (d != D_FIXED24) assert_true(o <= 0.125); /* 24 B -> 32 B class is 33% by design */
    if (d == D_POW2) assert_true(o <= 0.02);
  }
}

/* ---- life cycle ---- */

static void test_small_alloc_packs_and_reuses(void **state) {
  (void)state;
  open_client();
  unsigned creates = g_remote->creates;
  void *p[1000];
  for (int i = 0; i < 1000; i++) p[i] = rum__client_alloc(g_cl, 16, false);
  assert_int_equal(g_remote->creates - creates, 1); /* 16000 B share one 64 KiB slab */
  for (int i = 1; i < 1000; i++) assert_ptr_not_equal(p[i], p[i - 1]);
  void *q = p[500];
  rum__client_free(g_cl, q);
  assert_ptr_equal(rum__client_alloc(g_cl, 10, false), q); /* the freed object comes back */
  for (int i = 0; i < 1000; i++) rum__client_free(g_cl, p[i]);
  void *z1 = rum__client_alloc(g_cl, 0, false), *z2 = rum__client_alloc(g_cl, 0, false);
  assert_non_null(z1);
  assert_ptr_not_equal(z1, z2);
  rum__client_free(g_cl, z1);
  rum__client_free(g_cl, z2);
}

static void test_empty_slabs_are_returned(void **state) {
  (void)state;
  open_client();
  void *p[20000];
  for (int i = 0; i < 20000; i++) p[i] = rum__client_alloc(g_cl, 1000, false);
  uint64_t used, heap;
  rum__heap_usage(&g_cl->heap, &used, &heap);
  assert_true(used >= 20000u * 1000);
  for (int i = 0; i < 20000; i++) rum__client_free(g_cl, p[i]);
  uint64_t used_after;
  rum__heap_usage(&g_cl->heap, &used_after, &heap);
  assert_true(used_after <= 128u << 10); /* all but one spare slab went back to the heap */
}

/* Blocks of every heap size, allocated and freed over and over, make no round trip
 * once the heap has grown to hold them. */
static void test_heap_blocks_make_no_rpc(void **state) {
  (void)state;
  open_client();
  static const size_t sizes[] = {16, 300, 5000, 70000, 300000, 1 << 20, 5u << 20, RUM_HEAP_EXTENT_MAX};
  void *warm[sizeof sizes / sizeof *sizes];
  for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) warm[i] = rum__client_alloc(g_cl, sizes[i], false);
  for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) rum__client_free(g_cl, warm[i]);
  unsigned before = g_remote->creates + g_remote->destroys + g_remote->resizes;
  for (int round = 0; round < 200; round++) {
    void *p[sizeof sizes / sizeof *sizes];
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
      p[i] = rum__client_alloc(g_cl, sizes[i], round % 2 == 0);
      assert_non_null(p[i]);
      ((uint8_t *)p[i])[0] = (uint8_t)round;
    }
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) rum__client_free(g_cl, p[i]);
  }
  assert_int_equal(g_remote->creates + g_remote->destroys + g_remote->resizes, before);
  errno = 0;
  void *own = rum__client_alloc(g_cl, RUM_HEAP_EXTENT_MAX + 1, false); /* a region of its own */
  assert_non_null(own);
  assert_int_equal(g_remote->creates + g_remote->destroys + g_remote->resizes, before + 1);
  rum__client_free(g_cl, own);
}

/* A freed block is never written back; calloc of reused memory reads zeros; the
 * maintenance round tells the "nodes" (DISCARD) and shrinks the free heap top. */
static void test_freed_pages_discarded_and_trimmed(void **state) {
  (void)state;
  open_client();
  enum { N = 12, BLOCK = 1 << 20 };
  uint8_t *b[N];
  for (int i = 0; i < N; i++) {
    b[i] = rum__client_alloc(g_cl, BLOCK, false);
    assert_non_null(b[i]);
  }
  memset(b[1], 0x77, BLOCK);
  assert_int_equal(rum__client_sync(g_cl), 0);
  uint64_t stored = g_remote->pages_stored;
  b[0][5] = 1; /* dirty, resident: freeing must not write it back */
  rum__client_free(g_cl, b[0]);
  assert_int_equal(rum__client_sync(g_cl), 0);
  assert_int_equal(g_remote->pages_stored, stored);
  uint8_t *again = rum__client_alloc(g_cl, BLOCK, false); /* its resident pages serve again */
  assert_ptr_equal(again, b[0]);
  b[0] = again;
  /* Written back, then freed: the node copy is stale but the block reads as zeros. */
  assert_int_equal(rum__client_sync(g_cl), 0);
  rum__client_free(g_cl, b[1]);
  uint8_t *z = rum__client_alloc(g_cl, BLOCK, true);
  assert_ptr_equal(z, b[1]);
  for (size_t i = 0; i < BLOCK; i += 997) assert_int_equal(z[i], 0);
  assert_int_equal(rum__client_refresh(g_cl, z, BLOCK), 0); /* rereading keeps the zeros */
  for (size_t i = 0; i < BLOCK; i += 997) assert_int_equal(z[i], 0);
  b[1] = z;
  uint64_t used, heap_before, heap_after;
  rum__heap_usage(&g_cl->heap, &used, &heap_before);
  for (int i = 0; i < N; i++) rum__client_free(g_cl, b[i]);
  uint64_t discarded = g_remote->pages_discarded;
  rum__heap_maintain(&g_cl->heap, rum__heap_now_ms(), false); /* too young to discard */
  assert_int_equal(g_remote->pages_discarded, discarded);
  rum__heap_maintain(&g_cl->heap, rum__heap_now_ms(), true);
  rum__heap_usage(&g_cl->heap, &used, &heap_after);
  assert_true(heap_after <= (uint64_t)RUM_HEAP_INITIAL_PAGES * RUM_PAGE_SIZE);
  assert_true(heap_after < heap_before);
  assert_true(g_remote->pages_discarded > discarded || atomic_load(&g_cl->heap.trimmed_pages) > 0);
  assert_int_equal(atomic_load(&g_cl->heap.discard_errors), 0);
  uint8_t *c = rum__client_alloc(g_cl, 3 * BLOCK, true); /* the heap grows again */
  assert_non_null(c);
  for (size_t i = 0; i < 3u * BLOCK; i += 4096) assert_int_equal(c[i], 0);
  rum__client_free(g_cl, c);
}

/* A freed block's dirty pages stay resident for reuse, but when the cache needs their
 * frames they are dropped, never written back. */
static void test_freed_dirty_pages_never_written_back(void **state) {
  (void)state;
  open_client(); /* 4 MiB cache */
  enum { FREED = 2 << 20, OTHER = 12 << 20 };
  uint8_t *f = rum__client_alloc(g_cl, FREED, false);
  uint8_t *o = rum__client_alloc(g_cl, OTHER, false);
  assert_non_null(f);
  assert_non_null(o);
  memset(f, 0x5a, FREED);
  struct rum_region *r = rum__region_table_lookup(&g_cl->table, f);
  g_remote->forbid_region = r->id;
  g_remote->forbid_first = (uint64_t)(f - r->base) / RUM_PAGE_SIZE;
  g_remote->forbid_n = FREED / RUM_PAGE_SIZE;
  rum__client_free(g_cl, f);
  memset(o, 0xa5, OTHER); /* three times the cache: every frame is reused */
  assert_int_equal(rum__client_sync(g_cl), 0);
  assert_int_equal(g_remote->forbidden_stores, 0);
  for (size_t i = 0; i < OTHER; i += 4093) assert_int_equal(o[i], 0xa5);
  struct rum_stats st;
  rum__client_stats(g_cl, &st);
  assert_true(st.evictions >= OTHER / RUM_PAGE_SIZE);
  g_remote->forbid_n = 0;
  rum__client_free(g_cl, o);
}

static void test_calloc_zeroes_reused_memory(void **state) {
  (void)state;
  open_client();
  uint8_t *a = rum__client_alloc(g_cl, 200, false);
  memset(a, 0xab, 200);
  rum__client_free(g_cl, a);
  uint8_t *b = rum__client_alloc(g_cl, 200, true);
  assert_ptr_equal(a, b);
  for (int i = 0; i < 200; i++) assert_int_equal(b[i], 0);
  uint8_t *big = rum__client_alloc(g_cl, 3 << 20, true);
  for (size_t i = 0; i < (3u << 20); i += 4096) assert_int_equal(big[i], 0);
  rum__client_free(g_cl, b);
  rum__client_free(g_cl, big);
}

static void test_realloc_in_place_and_moving(void **state) {
  (void)state;
  open_client_cache(98304); /* 384 MiB: the blocks below stay resident */
  char *s = rum__client_alloc(g_cl, 20, false);
  strcpy(s, "hello, grid");
  assert_ptr_equal(rum__client_realloc(g_cl, s, 30), s); /* same class (32 B) */
  char *t = rum__client_realloc(g_cl, s, 5000);              /* moves to another class */
  assert_ptr_not_equal(t, s);
  assert_string_equal(t, "hello, grid");
  rum__client_free(g_cl, t);

  /* A heap block at the heap's top grows in place, and shrinks in place. */
  size_t mb = 1 << 20;
  uint8_t *big = rum__client_alloc(g_cl, mb, false);
  for (size_t i = 0; i < mb; i += 512) big[i] = (uint8_t)(i >> 9);
  uint8_t *grown = rum__client_realloc(g_cl, big, 5 * mb);
  assert_ptr_equal(grown, big);
  assert_true(rum__client_usable_size(g_cl, grown) >= 5 * mb);
  for (size_t i = 0; i < mb; i += 512) assert_int_equal(grown[i], (uint8_t)(i >> 9));
  assert_int_equal(grown[5 * mb - 1], 0);
  uint8_t *shrunk = rum__client_realloc(g_cl, grown, 2 * mb);
  assert_ptr_equal(shrunk, grown);
  assert_int_equal(rum__client_usable_size(g_cl, shrunk), 2 * mb);
  /* A block in the way: it moves, keeping its bytes. */
  void *wall = rum__client_alloc(g_cl, mb, false);
  uint8_t *moved = rum__client_realloc(g_cl, shrunk, 6 * mb);
  assert_ptr_not_equal(moved, shrunk);
  for (size_t i = 0; i < mb; i += 512) assert_int_equal(moved[i], (uint8_t)(i >> 9));
  rum__client_free(g_cl, wall);

  /* Past RUM_HEAP_EXTENT_MAX a block is a region of its own, with room to grow. */
  size_t own = RUM_HEAP_EXTENT_MAX + mb;
  uint8_t *r = rum__client_realloc(g_cl, moved, own);
  assert_non_null(r);
  for (size_t i = 0; i < mb; i += 512) assert_int_equal(r[i], (uint8_t)(i >> 9));
  memset(r + 6 * mb, 0, own - 6 * mb); /* all of it resident */
  r[2 * mb - 1] = 7;
  unsigned resizes = g_remote->resizes, copies = g_remote->copies;
  uint8_t *rg = rum__client_realloc(g_cl, r, 8 * own - mb); /* within the reserved room */
  assert_ptr_equal(rg, r);
  assert_int_equal(g_remote->resizes - resizes, 1);
  assert_int_equal(rum__client_usable_size(g_cl, rg), 8 * own - mb);
  uint8_t *back = rum__client_realloc(g_cl, rg, own); /* shrinks in place */
  assert_ptr_equal(back, rg);
  /* Beyond the room it moves. Resident, it is copied locally (no node copy); */
  uint8_t *local = rum__client_realloc(g_cl, back, 9 * own);
  assert_ptr_not_equal(local, back);
  assert_int_equal(g_remote->copies - copies, 0);
  for (size_t i = 0; i < mb; i += 512) assert_int_equal(local[i], (uint8_t)(i >> 9));
  assert_int_equal(local[2 * mb - 1], 7);
  assert_int_equal(local[9 * own - 1], 0);
  rum__client_free(g_cl, local);
  /* not resident (written back and dropped), the nodes copy it without a page
   * crossing the network. */
  uint8_t *cold = rum__client_alloc(g_cl, own, false);
  assert_non_null(cold);
  cold[12345] = 0x42;
  cold[own - 1] = 0x43;
  assert_int_equal(rum__client_refresh(g_cl, cold, own), 0);
  uint8_t *far = rum__client_realloc(g_cl, cold, 9 * own);
  assert_ptr_not_equal(far, cold);
  assert_int_equal(g_remote->copies - copies, 1); /* copied by the "nodes", not page by page */
  assert_int_equal(far[12345], 0x42);
  assert_int_equal(far[own - 1], 0x43);
  assert_int_equal(far[9 * own - 1], 0);
  back = far;
  assert_null(rum__client_realloc(g_cl, back, 0)); /* frees */
  assert_int_equal(rum__client_usable_size(g_cl, back), 0);
}

/* Sizes no region can have fail with ENOMEM and leave the block as it was (SIZE_MAX
 * once wrapped to zero pages and "shrank" the block to nothing). */
static void test_realloc_impossible_sizes(void **state) {
  (void)state;
  open_client();
  const size_t impossible[] = {SIZE_MAX, SIZE_MAX - 4096 + 2, (size_t)1 << 50};
  void *blocks[] = {rum__client_alloc(g_cl, 100, false), rum__client_alloc(g_cl, 1 << 20, false),
                    rum__client_alloc_named(g_cl, "realloc.impossible", 3 * 4096 + 5)};
  for (unsigned b = 0; b < 3; b++) {
    uint8_t *p = blocks[b];
    assert_non_null(p);
    size_t usable = rum__client_usable_size(g_cl, p);
    p[0] = 0x5a;
    for (unsigned i = 0; i < 3; i++) {
      errno = 0;
      assert_null(rum__client_realloc(g_cl, p, impossible[i]));
      assert_int_equal(errno, ENOMEM);
      assert_int_equal(rum__client_usable_size(g_cl, p), usable);
      assert_int_equal(p[0], 0x5a);
    }
    rum__client_free(g_cl, p);
  }
  assert_int_equal(rum__pages_for(SIZE_MAX), (uint64_t)1 << 52);
  assert_int_equal(rum__pages_for(4097), 2);
}

static void test_usable_size_and_foreign_pointers(void **state) {
  (void)state;
  open_client();
  int local;
  assert_int_equal(rum__client_usable_size(g_cl, NULL), 0);
  assert_int_equal(rum__client_usable_size(g_cl, &local), 0);
  rum__client_free(g_cl, &local); /* ignored with a warning */
  void *p = rum__client_alloc(g_cl, 100, false);
  assert_int_equal(rum__client_usable_size(g_cl, p), 112);
  assert_int_equal(rum__client_usable_size(g_cl, (char *)p + 16), 0); /* not allocated */
  rum__client_free(g_cl, p);
  errno = 0;
  assert_null(rum__client_alloc_on(g_cl, 9, 100));
  assert_int_equal(errno, EINVAL);
  void *on = rum__client_alloc_on(g_cl, 1, 100);
  assert_non_null(on);
  struct rum_region *r = rum__region_table_lookup(&g_cl->table, on);
  assert_int_equal(r->pinned_node, 1);
  assert_true(r->wire_flags & RUM_REGION_F_PINNED);
  rum__client_free(g_cl, on);
}

static void test_named_regions(void **state) {
  (void)state;
  open_client();
  errno = 0;
  assert_null(rum__client_alloc_named(g_cl, "bad name", 10));
  assert_int_equal(errno, EINVAL);
  assert_null(rum__client_alloc_named(g_cl, "ok", 0));
  char *p = rum__client_alloc_named(g_cl, "kvs.index", 100000);
  assert_non_null(p);
  strcpy(p + 50000, "kept");
  errno = 0;
  assert_null(rum__client_alloc_named(g_cl, "kvs.index", 10));
  assert_int_equal(errno, EEXIST);
  size_t size = 0;
  assert_ptr_equal(rum__client_attach(g_cl, "kvs.index", &size), p); /* attached already */
  assert_int_equal(size, 100000);
  assert_int_equal(rum__client_detach(g_cl, p), 0);
  assert_int_equal(rum__client_detach(g_cl, p), RUM_EINVAL);
  /* Detached, the name is still taken, also for this process and the same size. */
  errno = 0;
  assert_null(rum__client_alloc_named(g_cl, "kvs.index", 100000));
  assert_int_equal(errno, EEXIST);
  size = 0;
  char *q = rum__client_attach(g_cl, "kvs.index", &size);
  assert_non_null(q);
  assert_int_equal(size, 100000); /* the exact size asked, not whole pages */
  assert_string_equal(q + 50000, "kept"); /* fetched from the remote */
  /* A resize is registered with its exact size too. */
  q = rum__client_realloc(g_cl, q, 150001);
  assert_non_null(q);
  assert_int_equal(rum__client_detach(g_cl, q), 0);
  q = rum__client_attach(g_cl, "kvs.index", &size);
  assert_non_null(q);
  assert_int_equal(size, 150001);
  assert_string_equal(q + 50000, "kept");
  rum__client_free(g_cl, q); /* destroys it */
  errno = 0;
  assert_null(rum__client_attach(g_cl, "kvs.index", NULL));
  assert_int_equal(errno, ENOENT);
}

/* Big data through a small cache, via the public-path calls: exact after sync. */
static void test_region_larger_than_cache(void **state) {
  (void)state;
  open_client();
  size_t bytes = 64u << 20; /* the cache is 4 MiB */
  uint64_t *w = rum__client_alloc(g_cl, bytes, false);
  assert_non_null(w);
  for (size_t i = 0; i < bytes / 8; i += 509) w[i] = i ^ 0x5555;
  assert_int_equal(rum__client_sync(g_cl), 0);
  for (size_t i = 0; i < bytes / 8; i += 509) assert_int_equal(w[i], i ^ 0x5555);
  struct rum_stats st;
  rum__client_stats(g_cl, &st);
  assert_true(st.cache_pages <= st.cache_capacity);
  assert_true(st.evictions > 0 && st.writebacks > 0);
  assert_int_equal(rum__client_flush(g_cl, w, bytes), 0);
  assert_int_equal(rum__client_prefetch(g_cl, w, 1 << 20), 0);
  assert_int_equal(rum__client_refresh(g_cl, w, bytes), 0);
  assert_int_equal(w[509], 509 ^ 0x5555);
  rum__client_free(g_cl, w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_size_classes),
      cmocka_unit_test_setup_teardown(test_overhead, setup, teardown),
      cmocka_unit_test_setup_teardown(test_small_alloc_packs_and_reuses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty_slabs_are_returned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_heap_blocks_make_no_rpc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_freed_pages_discarded_and_trimmed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_freed_dirty_pages_never_written_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_calloc_zeroes_reused_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_realloc_in_place_and_moving, setup, teardown),
      cmocka_unit_test_setup_teardown(test_realloc_impossible_sizes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_usable_size_and_foreign_pointers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_named_regions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_region_larger_than_cache, setup, teardown),
  };
  return cmocka_run_group_tests_name("client.alloc", tests, NULL, NULL);
}
