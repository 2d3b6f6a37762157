/* librum's internal state: one struct rum_client ties the arena, the region table,
 * the fault backend, the page cache, the allocator and the remote side together.
 *
 * The public API (rum.h) works on one process-wide instance behind a static pointer
 * (init.c); every function here takes its client explicitly, so unit tests can create
 * their own over an in-process remote (struct rum_remote_ops) and tear it down. */
#ifndef RUM_CLIENT_CLIENT_H
#define RUM_CLIENT_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rum/rum.h>

#include "client/cache.h"
#include "client/fault.h"
#include "client/heap.h"
#include "client/region_table.h"

/* Pages [first, first + npages) of a region. */
struct rum_page_range {
  uint64_t first, npages;
};

/* Everything the client needs from the memory nodes. fetch.c implements it with RPCs;
 * tests with an in-process store. fetch/store may run in signal context (see
 * struct rum_store_ops); the others run in normal context. */
struct rum_remote_ops {
  struct rum_store_ops pages;
  /* Register r (id, npages, user_size, wire_flags, pinned_node set) on every node
   * homing one of its chunks, with r->user_size as the region's size in bytes (what a
   * later rum_attach reports); a named region also on its name's home node, which
   * answers EEXIST. Returns 0 or RUM_E* (then nothing is left registered). */
  int (*region_create)(void *ctx, struct rum_region *r, const char *name, size_t name_len);
  /* Destroy r on its nodes. */
  int (*region_destroy)(void *ctx, struct rum_region *r, const char *name, size_t name_len);
  /* Change r's size from old_npages to its current npages (r->user_size bytes) on its
   * nodes (registering it on nodes that home new chunks). */
  int (*region_resize)(void *ctx, struct rum_region *r, uint64_t old_npages);
  /* Copy pages [0, npages) of src into dst, node-side (COPY) for chunks whose homes
   * are the same node, by reading and writing otherwise. Both are written back. */
  int (*region_copy)(void *ctx, struct rum_region *src, struct rum_region *dst, uint64_t npages);
  /* Drop the nodes' bytes of n page ranges of r (freed heap blocks; they read as
   * zeros afterwards; the region keeps its size and reservation). May be NULL: the
   * bytes then stay until the region is freed. Returns 0 or the first RUM_E*. */
  int (*region_discard)(void *ctx, struct rum_region *r, const struct rum_page_range *ranges, unsigned n);
  /* Look a name up: its region id, size in bytes and wire flags. RUM_ENOENT if none. */
  int (*attach)(void *ctx, const char *name, size_t name_len, uint64_t *id, uint64_t *size,
                uint32_t *flags);
  /* Whether node_id exists (rum_alloc_on). */
  bool (*node_exists)(void *ctx, uint32_t node_id);
  /* Whether a region can be placed on one node (not with replication > 1). May be
   * NULL: it can. */
  bool (*can_pin)(void *ctx);
  /* Add the remote side's counters (bytes_in/out, rpcs, retries). May be NULL. */
  void (*stats)(void *ctx, struct rum_stats *out);
};

struct rum_client_config {
  uint64_t cache_pages;     /* 0: min(RAM / 4, 1 GiB) or $RUM_CACHE_MB */
  uint64_t arena_bytes;     /* 0: 1 TiB */
  const char *fault_kind;   /* NULL: $RUM_FAULT, then auto */
  unsigned max_readahead;   /* 0: 64 */
  int readahead_depth;      /* windows in flight ahead of a scan; 0: $RUM_READAHEAD_DEPTH, then
                               4; -1: synchronous read-ahead only */
  struct rum_heap_config heap; /* zeros: the defaults */
};

struct rum_client {
  struct rum_fault_backend *fault;
  struct rum_region_table table;
  struct rum_cache *cache;
  struct rum_heap heap;       /* slabs and blocks up to RUM_HEAP_EXTENT_MAX */
  struct rum_remote_ops remote;
  void *remote_ctx;
  /* Serialises region creation/destruction/resizing against each other and against
   * rum_sync's walk (readers); the fault path never takes it. */
  pthread_rwlock_t regions_lock;
  pthread_mutex_t named_lock; /* rum_attach / rum_alloc_named / rum_detach */
  uint64_t client_id;         /* random, for region ids */
  _Atomic uint64_t id_state;  /* region id generator */
  _Atomic uint64_t bytes_requested; /* for overhead figures */
  bool handler_installed;
  bool discard_at_destroy;    /* destroy drops dirty pages instead of writing them back
                                 (librum-preload at exit: the heap dies with the program) */
  struct rum_region **named;  /* attached named regions (under named_lock) */
  size_t nnamed, named_cap;
  uint32_t journal_tags;      /* commit tags handed out to journals (journal_open.c) */
};

/* All live regions (malloc'ed array, *n entries; NULL on ENOMEM). The caller holds
 * regions_lock so that none is released meanwhile. */
struct rum_region **rum__client_snapshot(struct rum_client *cl, size_t *n);

/* errno for a RUM_E* code (alloc-style calls). */
int rum__errno_of(int code);

/* Create a client over remote (copied; ctx borrowed). Installs the fault handler.
 * Returns 0 and *out or RUM_E*. */
int rum__client_create(const struct rum_client_config *cfg, const struct rum_remote_ops *remote,
                       void *remote_ctx, struct rum_client **out);
/* Write back everything, free leased regions, forget named ones (kept on the nodes),
 * remove the fault handler, free all. Returns 0 or the first write-back error. */
int rum__client_destroy(struct rum_client *cl);

/* The public calls, on an explicit client (api_alloc.c, named.c, api_sync.c). */
void *rum__client_alloc(struct rum_client *cl, size_t size, bool zero);
void *rum__client_alloc_on(struct rum_client *cl, int node_id, size_t size);
void *rum__client_realloc(struct rum_client *cl, void *ptr, size_t size);
void rum__client_free(struct rum_client *cl, void *ptr);
size_t rum__client_usable_size(struct rum_client *cl, void *ptr);
void *rum__client_alloc_named(struct rum_client *cl, const char *name, size_t size);
void *rum__client_attach(struct rum_client *cl, const char *name, size_t *size_out);
int rum__client_detach(struct rum_client *cl, void *ptr);
int rum__client_sync(struct rum_client *cl);
int rum__client_flush(struct rum_client *cl, void *ptr, size_t len);
int rum__client_refresh(struct rum_client *cl, void *ptr, size_t len);
int rum__client_prefetch(struct rum_client *cl, void *ptr, size_t len);
int rum__client_prefetchv(struct rum_client *cl, const struct iovec *iov, int n);
void rum__client_stats(struct rum_client *cl, struct rum_stats *out);
int rum__client_journal_open(struct rum_client *cl, const char *name, size_t bytes);
int rum__client_journal_close(struct rum_client *cl);
/* Stop journaling without a sync and free the journal (destroy, after its sync). */
void rum__client_journal_drop(struct rum_client *cl);
/* Whether name is attached in this process (named.c). */
bool rum__client_named_attached(struct rum_client *cl, const char *name);

/* Region life cycle (api_alloc.c): carve + map (+ register on the nodes when
 * register_remote; named regions pass their name); and back. */
struct rum_region_spec {
  uint64_t id;
  uint64_t npages, reserved_pages;
  uint64_t size;         /* bytes asked for (<= npages pages); 0: npages whole pages */
  enum rum_region_kind kind;
  uint32_t wire_flags;
  int32_t pinned_node;   /* -1 unless RUM_REGION_F_PINNED */
  bool fresh;            /* true: created now, pages read as zeros until written back */
  bool register_remote;  /* send ALLOC (false for rum_attach) */
  const char *name;      /* named regions, else NULL */
};
int rum__client_region_new(struct rum_client *cl, const struct rum_region_spec *spec,
                           struct rum_region **out);
/* Set a region's size to npages pages (size bytes asked for) within its room, on the
 * nodes too (RESIZE; shrinking drops the cache's pages past the end without writing
 * them back). On failure nothing changed. Returns 0 or RUM_E*. */
int rum__client_region_resize(struct rum_client *cl, struct rum_region *r, uint64_t npages, uint64_t size);
/* Discard r's pages, optionally destroy it on the nodes, unmap and release it. */
void rum__client_region_drop(struct rum_client *cl, struct rum_region *r, bool destroy_remote);
/* A new random region id (63 bits, top bit clear, never 0). */
uint64_t rum__client_new_region_id(struct rum_client *cl);

/* Mark every region with a chunk on node_id lost (its lease expired). */
void rum__client_mark_node_lost(struct rum_client *cl, uint32_t node_id,
                                bool (*homes)(void *ctx, const struct rum_region *r, uint32_t node),
                                void *ctx);

/* Pages holding bytes bytes; never wraps (SIZE_MAX gives its true page count). */
static inline uint64_t rum__pages_for(uint64_t bytes) {
  return (bytes >> RUM_PAGE_SHIFT) + ((bytes & (RUM_PAGE_SIZE - 1)) != 0);
}

#endif
