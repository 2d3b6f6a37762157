/* What librum-preload needs of the client beyond the public API (hooks.h): the
 * arena's bounds, fork support and block sizes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "client/client.h"
#include "client/hooks.h"

void rum__client_arena(struct rum_client *cl, uint8_t **base, uint64_t *len) {
  *base = cl->fault->base;
  *len = cl->fault->arena_bytes;
}

void rum__client_fork_lock(struct rum_client *cl, bool lock) {
  for (int i = 0; i < RUM_HEAP_ARENAS; i++) {
    if (lock)
      pthread_mutex_lock(&cl->heap.arenas[i].lock);
    else
      pthread_mutex_unlock(&cl->heap.arenas[i].lock);
  }
}

size_t rum__client_block_size(struct rum_client *cl, void *ptr) { return rum__client_usable_size(cl, ptr); }

static int cmp_addr(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* The addresses of the pages resident (CLEAN or DIRTY) at the fork, sorted. The
 * frame table is read without its lock: in the child no other thread runs, and a
 * frame the fork caught in mid-update belongs to a page in FETCHING or BUSY, which is
 * left out. */
static uintptr_t *resident_pages(struct rum_cache *c, size_t *n) {
  uintptr_t *pages = malloc((c->capacity + 1) * sizeof(*pages));
  *n = 0;
  if (pages == NULL) return NULL;
  for (uint64_t i = 0; i < c->capacity; i++) {
    struct rum_region *r = c->frames[i].region;
    if (r == NULL) continue;
    uint64_t page = c->frames[i].page;
    if (page >= r->reserved_pages) continue;
    uint8_t s = rum__page_load(r, page) & RUM_PAGE_STATE_MASK;
    if (s == RUM_PAGE_CLEAN || s == RUM_PAGE_DIRTY) pages[(*n)++] = (uintptr_t)rum__region_page_addr(r, page);
  }
  qsort(pages, *n, sizeof(*pages), cmp_addr);
  return pages;
}

/* Runs of consecutive pages: fn(addr, len) for each; stops at the first error. */
static int each_run(const uintptr_t *pages, size_t n, int (*fn)(uint8_t *addr, size_t len, void *ctx), void *ctx) {
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && pages[j] == pages[j - 1] + RUM_PAGE_SIZE) j++;
    int rc = fn((uint8_t *)pages[i], (j - i) * RUM_PAGE_SIZE, ctx);
    if (rc != 0) return rc;
    i = j;
  }
  return 0;
}

static int open_run(uint8_t *addr, size_t len, void *ctx) {
  (void)ctx;
  return mprotect(addr, len, PROT_READ | PROT_WRITE) == 0 ? 0 : -errno;
}

struct copy_ctx {
  uint8_t *saved;
  size_t off;
  bool restore;
};

static int copy_run(uint8_t *addr, size_t len, void *ctx) {
  struct copy_ctx *cc = ctx;
  if (cc->restore) {
    if (mprotect(addr, len, PROT_READ | PROT_WRITE) != 0) return -errno;
    memcpy(addr, cc->saved + cc->off, len);
  } else {
    memcpy(cc->saved + cc->off, addr, len);
  }
  cc->off += len;
  return 0;
}

int rum__client_isolate_after_fork(struct rum_client *cl) {
  uint8_t *base = cl->fault->base;
  size_t len = cl->fault->arena_bytes;
  size_t n;
  uintptr_t *pages = resident_pages(cl->cache, &n);
  int rc = 0;
  if (pages == NULL) {
    rc = -ENOMEM;
    mprotect(base, len, PROT_NONE);
    return rc;
  }
  if (cl->fault->kind == RUM_FAULT_UFFD) {
    /* Private anonymous memory: the fork gave the child its own copy of each
     * resident page already; the uffd registration (and its write protection) did
     * not come along, so only the absent pages need closing. */
    if (mprotect(base, len, PROT_NONE) != 0) rc = -errno;
    if (rc == 0) rc = each_run(pages, n, open_run, NULL);
  } else {
    /* A shared memfd: the child's writes would land in the parent's pages. Copy the
     * resident pages out, put private memory in the arena's place, copy them back. */
    size_t bytes = n * RUM_PAGE_SIZE;
    uint8_t *saved = bytes > 0 ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : NULL;
    if (saved == MAP_FAILED) {
      rc = -errno;
      saved = NULL;
    }
    struct copy_ctx cc = {saved, 0, false};
    if (rc == 0 && saved != NULL) each_run(pages, n, copy_run, &cc);
    if (mmap(base, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED &&
        rc == 0)
      rc = -errno;
    if (rc == 0 && saved != NULL) {
      cc.off = 0;
      cc.restore = true;
      rc = each_run(pages, n, copy_run, &cc);
    }
    if (saved != NULL) munmap(saved, bytes);
  }
  if (rc != 0) mprotect(base, len, PROT_NONE);
  free(pages);
  return rc;
}
