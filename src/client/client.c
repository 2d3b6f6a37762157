/* The client object: creating and tearing down the arena, table, cache, allocator and
 * fault handler as one unit (rum_init/rum_shutdown wrap it; unit tests use it over
 * an in-process remote). */
#include "client/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util/log.h"

enum {
  DEFAULT_ARENA_GB = 1024,
  DEFAULT_CACHE_MB_MAX = 1024,
};

int rum__errno_of(int code) {
  switch (code) {
  case RUM_ENOMEM:
  case RUM_ENOSPC:
  case RUM_EDQUOT: /* this client's quota on a node: to the program, memory ran out */
    return ENOMEM;
  case RUM_EPERM:
    return EPERM;
  case RUM_EINVAL:
    return EINVAL;
  case RUM_EEXIST:
    return EEXIST;
  case RUM_ENOENT:
    return ENOENT;
  case RUM_ENOTSUP:
    return ENOTSUP;
  default:
    return EIO;
  }
}

static uint64_t env_u64(const char *name, uint64_t fallback) {
  const char *v = getenv(name);
  if (v == NULL || v[0] == '\0') return fallback;
  char *end;
  unsigned long long n = strtoull(v, &end, 10);
  if (*end != '\0' || n == 0) {
    RUM_LOG_W("%s=%s: not a positive number; using %llu", name, v, (unsigned long long)fallback);
    return fallback;
  }
  return n;
}

static uint64_t default_cache_pages(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
  uint64_t ram_mb = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize >> 20 : 4096;
  uint64_t mb = ram_mb / 4 < DEFAULT_CACHE_MB_MAX ? ram_mb / 4 : DEFAULT_CACHE_MB_MAX;
  mb = env_u64("RUM_CACHE_MB", mb);
  return (mb << 20) / RUM_PAGE_SIZE;
}

uint64_t rum__client_new_region_id(struct rum_client *cl) {
  for (;;) {
    /* splitmix64 over a per-client random start: ids differ between clients with
     * overwhelming probability and never repeat within one. */
    uint64_t z = atomic_fetch_add(&cl->id_state, 0x9e3779b97f4a7c15ull) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    z &= ~(1ull << 63);
    if (z != 0) return z;
  }
}

int rum__client_create(const struct rum_client_config *cfg, const struct rum_remote_ops *remote,
                       void *remote_ctx, struct rum_client **out) {
  struct rum_client *cl = calloc(1, sizeof(*cl));
  if (cl == NULL) return RUM_ENOMEM;
  cl->remote = *remote;
  cl->remote_ctx = remote_ctx;
  uint64_t seed;
  if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) seed = (uint64_t)getpid() * 0x2545f4914f6cdd1dull;
  atomic_init(&cl->id_state, seed);
  cl->client_id = seed;
  uint64_t arena = cfg->arena_bytes != 0 ? cfg->arena_bytes : env_u64("RUM_ARENA_GB", DEFAULT_ARENA_GB) << 30;
  int rc = rum__fault_open(cfg->fault_kind, arena, &cl->fault);
  if (rc != 0) goto err_free;
  rc = rum__region_table_init(&cl->table, cl->fault->base, cl->fault->arena_bytes);
  if (rc != 0) goto err_fault;
  struct rum_cache_config cc = {
      .capacity_pages = cfg->cache_pages != 0 ? cfg->cache_pages : default_cache_pages(),
      .max_readahead = cfg->max_readahead,
      .readahead_depth = cfg->readahead_depth,
  };
  const char *depth = getenv("RUM_READAHEAD_DEPTH");
  if (cc.readahead_depth == 0 && depth != NULL && depth[0] != '\0') {
    /* 0 (or anything not positive) turns asynchronous read-ahead off. */
    int d = atoi(depth);
    cc.readahead_depth = d > 0 ? d : -1;
  }
  if (cc.capacity_pages < 2 * RUM_WIRE_MAX_PAGES) cc.capacity_pages = 2 * RUM_WIRE_MAX_PAGES;
  rc = rum__cache_create(&cc, &cl->table, cl->fault, &remote->pages, remote_ctx, &cl->cache);
  if (rc != 0) goto err_table;
  pthread_rwlock_init(&cl->regions_lock, NULL);
  pthread_mutex_init(&cl->named_lock, NULL);
  rc = rum__heap_init(&cl->heap, cl, &cfg->heap);
  if (rc != 0) goto err_locks;
  rc = rum__fault_handler_install(cl->fault, rum__cache_fault, cl->cache);
  if (rc != 0) goto err_cache;
  cl->handler_installed = true;
  rc = rum__heap_start(&cl->heap);
  if (rc != 0) goto err_handler;
  RUM_LOG_I("client: %s fault backend, cache %llu pages, arena %llu GiB", cl->fault->ops->name,
            (unsigned long long)cl->cache->capacity, (unsigned long long)(arena >> 30));
  *out = cl;
  return 0;
err_handler:
  rum__fault_handler_remove(cl->fault);
err_cache:
  rum__heap_uninit(&cl->heap);
err_locks:
  pthread_mutex_destroy(&cl->named_lock);
  pthread_rwlock_destroy(&cl->regions_lock);
  rum__cache_destroy(cl->cache);
err_table:
  rum__region_table_uninit(&cl->table);
err_fault:
  rum__fault_destroy(cl->fault);
err_free:
  free(cl);
  return rc;
}

int rum__client_destroy(struct rum_client *cl) {
  if (cl == NULL) return 0;
  int rc = cl->discard_at_destroy ? 0 : rum__client_sync(cl);
  if (rc != 0) RUM_LOG_E("shutdown: some dirty pages could not be written back: %s", rum_strerror(rc));
  rum__client_journal_drop(cl);
  /* The heap's bookkeeping goes first, then every region (its heap regions too):
   * leased ones are freed on the nodes, named ones stay there (detached). */
  rum__heap_uninit(&cl->heap);
  for (;;) {
    struct rum_region *batch[64];
    size_t n = rum__region_table_snapshot(&cl->table, batch, 64);
    if (n == 0) break;
    for (size_t i = 0; i < n; i++) rum__client_region_drop(cl, batch[i], batch[i]->kind != RUM_REGION_NAMED);
  }
  if (cl->handler_installed) rum__fault_handler_remove(cl->fault);
  rum__cache_destroy(cl->cache);
  rum__region_table_uninit(&cl->table);
  rum__fault_destroy(cl->fault);
  pthread_mutex_destroy(&cl->named_lock);
  pthread_rwlock_destroy(&cl->regions_lock);
  free(cl->named);
  free(cl);
  return rc;
}

struct rum_region **rum__client_snapshot(struct rum_client *cl, size_t *n) {
  size_t cap = (size_t)atomic_load(&cl->table.nregions) + 64;
  struct rum_region **all = malloc(cap * sizeof(*all));
  *n = all != NULL ? rum__region_table_snapshot(&cl->table, all, cap) : 0;
  return all;
}

void rum__client_mark_node_lost(struct rum_client *cl, uint32_t node_id,
                                bool (*homes)(void *ctx, const struct rum_region *r, uint32_t node),
                                void *ctx) {
  pthread_rwlock_rdlock(&cl->regions_lock);
  size_t n;
  struct rum_region **batch = rum__client_snapshot(cl, &n);
  size_t lost = 0;
  for (size_t i = 0; i < n; i++) {
    if (batch[i]->kind == RUM_REGION_NAMED) continue; /* named regions have no lease */
    if (homes(ctx, batch[i], node_id)) {
      atomic_store(&batch[i]->lost, (int)node_id + 1);
      lost++;
    }
  }
  pthread_rwlock_unlock(&cl->regions_lock);
  free(batch);
  if (lost > 0)
    RUM_LOG_E("node %u reclaimed this client's lease: %zu region(s) lost; touching them stops the "
              "program, calls on them fail with RUM_ELEASE",
              node_id, lost);
}
