/* RUM: an in-memory data grid as a C library.
 *
 * A program calls rum_init(), allocates with rum_alloc() and friends, and uses the
 * memory with ordinary loads and stores. The bytes live on memory nodes (rumd); a
 * page that is not resident locally is fetched on first touch, cached, and written
 * back when evicted, on rum_sync()/rum_flush(), and at exit.
 *
 * Consistency: a region has one writer at a time. Writes of this process become
 * durable on their nodes when rum_sync() or rum_flush() returns, and at rum_shutdown()
 * (which also runs at normal exit). Another process sees them after it attaches (or
 * rum_refresh()es) later than that. Nothing is promised for concurrent writers of one
 * region from different processes.
 *
 * Thread safety: every function may be called from any thread once rum_init() has
 * returned 0. rum_init() and rum_shutdown() must not race with other RUM calls.
 * Plain loads and stores to RUM memory are safe from any thread, as for malloc memory.
 *
 * Errors: functions returning int return 0 (or a count) on success and a negative
 * RUM_E* code (rum_errors.h) on failure. Allocation-style functions return NULL and
 * set errno, as malloc does. */
#ifndef RUM_RUM_H
#define RUM_RUM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <rum/rum_errors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Counters of this process's RUM activity since rum_init(). */
struct rum_stats {
  uint64_t faults;        /* page faults served (read and write) */
  uint64_t read_faults;   /* faults that fetched or installed a page */
  uint64_t write_faults;  /* faults that made a resident page writable (dirty) */
  uint64_t hits;          /* faults that found the page already being fetched or resident */
  uint64_t zero_fills;    /* pages installed as zeros without a fetch (never written anywhere) */
  uint64_t evictions;     /* pages dropped from the cache */
  uint64_t writebacks;    /* pages written back to their nodes */
  uint64_t readahead;     /* pages brought in by read-ahead */
  uint64_t bytes_in;      /* payload bytes received from nodes */
  uint64_t bytes_out;     /* payload bytes sent to nodes */
  uint64_t rpcs;          /* RPCs completed */
  uint64_t retries;       /* RPC retransmissions */
  uint64_t cache_pages;   /* pages currently resident */
  uint64_t cache_capacity;/* cache size in pages */
  uint64_t regions;       /* regions currently allocated or attached */
  /* The undo journal (rum_journal_open); all 0 without one. */
  uint64_t journal_images;      /* undo images taken (pages of named regions first dirtied) */
  uint64_t journal_commits;     /* atomic syncs */
  uint64_t journal_unprotected; /* syncs that were not atomic: the journal was full */
  uint64_t journal_used;        /* slots the current epoch holds */
  uint64_t journal_slots;       /* the journal's size in slots (pages) */
};

/* Start RUM. machines_csv names the cluster file; NULL means $RUM_MACHINES, then
 * ./machines.csv. The environment (RUM_CACHE_MB, RUM_FAULT, RUM_TRANSPORT, RUM_LOG,
 * RUM_DPDK_ARGS) tunes it. Registers rum_shutdown() to run at exit.
 * Returns 0, RUM_EBUSY if already initialised, RUM_ECONFIG for a bad file, or another
 * negative RUM_E* code. Not thread safe. */
RUM_API int rum_init(const char *machines_csv);

/* Write back every dirty page, free the leased regions, detach the named ones and
 * release all resources. Afterwards every pointer RUM returned is invalid. Runs at
 * exit too; calling it twice is harmless. Returns 0 or the first write-back error
 * (the data that could not be written is named in the log). Not thread safe. */
RUM_API int rum_shutdown(void);

/* Allocate size bytes of grid memory, 16-byte aligned, contents unspecified
 * (in practice zero). Leased: reclaimed by the nodes if this process dies.
 * Returns NULL with errno ENOMEM (no memory on the nodes or too large), EINVAL
 * (size 0 is allowed and returns a unique pointer), or EIO (nodes unreachable). */
RUM_API void *rum_alloc(size_t size);

/* Allocate n*size zeroed bytes. Overflow of n*size returns NULL with errno ENOMEM. */
RUM_API void *rum_calloc(size_t n, size_t size);

/* C realloc semantics: NULL ptr allocates; size 0 frees and returns NULL; contents up
 * to min(old, new) are kept. Grows in place when it can; a large region otherwise
 * moves with the copy done by the nodes. On failure returns NULL, sets errno and
 * leaves ptr untouched. */
RUM_API void *rum_realloc(void *ptr, size_t size);

/* Free memory from rum_alloc and friends. NULL is a no-op. Freeing a named region
 * destroys it on the nodes. A pointer RUM did not return is ignored with a logged
 * warning (it cannot be checked cheaply in every case, so do not rely on it). */
RUM_API void rum_free(void *ptr);

/* Like rum_alloc, but the region is placed on node node_id (from machines.csv) as a
 * region of its own. NULL with errno EINVAL for an unknown node, ENOTSUP when the
 * cluster replicates (replication > 1 in machines.csv: a chunk lives on its
 * replica group, which the nodes choose by key, so it cannot be pinned). */
RUM_API void *rum_alloc_on(int node_id, size_t size);

/* Make every dirty page of this process durable on its node(s) before returning.
 * Returns 0 or a negative RUM_E* code (some pages stayed dirty; retry later). */
RUM_API int rum_sync(void);

/* Write back the dirty pages of [ptr, ptr+len). Same returns as rum_sync(). */
RUM_API int rum_flush(void *ptr, size_t len);

/* Drop the clean cached pages of [ptr, ptr+len) so that the next touch reads the
 * node's current bytes. Dirty pages are written back first. Returns 0 or RUM_E*. */
RUM_API int rum_refresh(void *ptr, size_t len);

/* Hint: start fetching [ptr, ptr+len) now. Returns 0 or RUM_E* (the hint is then
 * simply not acted on; the memory stays usable). */
RUM_API int rum_prefetch(void *ptr, size_t len);

/* Hint: fetch the n ranges iov[0..n) now, with the reads of up to RUM_WIRE_MAX_PAGES
 * (64) pages in flight at once instead of one after another: for a program about to
 * touch many scattered pages (a batch of hash lookups), one round trip per batch
 * instead of one per page. Pages already cached, in flight, or never written are
 * skipped; at most half the cache is fetched in all. Ranges outside RUM memory are
 * ignored. Returns 0, RUM_EINVAL (n < 0, or iov NULL with n > 0), RUM_ENOTINIT, or the
 * first fetch error (the hint is then partly not acted on; memory stays usable). */
RUM_API int rum_prefetchv(const struct iovec *iov, int n);

/* Bytes usable at ptr (>= the size asked for), 0 for NULL or a foreign pointer. */
RUM_API size_t rum_usable_size(void *ptr);

/* rum_strerror(err): text for a RUM_E* code, declared in rum_errors.h. */

/* Fill *out with this process's counters. Returns 0, RUM_EINVAL for NULL, or
 * RUM_ENOTINIT. Thread safe; the counters are read without stopping other threads. */
RUM_API int rum_stats(struct rum_stats *out);

/* Named regions: permanent until rum_free()d, found again by any process.
 * A name is 1..RUM_NAME_MAX bytes of printable ASCII (0x21..0x7e); anything else is
 * EINVAL. */
#define RUM_NAME_MAX 255

/* Create a named region of size bytes. NULL + EEXIST if the name exists,
 * EINVAL for a bad name or size 0, ENOMEM if the nodes are full. */
RUM_API void *rum_alloc_named(const char *name, size_t size);

/* Map an existing named region; *size_out (if not NULL) receives its size.
 * NULL + ENOENT if there is none, EINVAL for a bad name. Attaching a name already
 * attached in this process returns the same pointer. */
RUM_API void *rum_attach(const char *name, size_t *size_out);

/* Write back and unmap a named region, keeping its data on the nodes.
 * Returns 0, RUM_EINVAL if ptr is not the start of an attached named region. */
RUM_API int rum_detach(void *ptr);

/* Atomic sync. After rum_journal_open(), every rum_sync() (and the write-back at
 * rum_shutdown) is all or nothing for the named regions of this process: if the
 * process dies, the nodes hold each named region as it was at the end of the last
 * rum_sync() that returned 0, once the next rum_journal_open() of the same journal
 * has run (it finishes what the dead process left: the bytes a sync in progress or an
 * eviction had already written home are put back). The journal is a named region of
 * its own; bytes sets its size when it is created (an existing journal keeps its
 * size); each page of a named region that existed at the last sync and is dirtied
 * again takes one page of it per epoch. When an epoch needs more, that one sync is
 * not atomic (counted in rum_stats.journal_unprotected, logged): sync before the
 * journal fills (journal_used against journal_slots). Not undone: creating or freeing
 * a named region, rum_discard, and stores by other threads while rum_sync() runs. One
 * journal per process; only one process may use a journal at a time (the caller's
 * lock, as for any named region it writes). Returns 0, RUM_EBUSY (one is open),
 * RUM_EINVAL (bad name, bytes under 64 KiB), RUM_EPROTO (the region is not a
 * journal), RUM_ENOTINIT, or a node's error. */
RUM_API int rum_journal_open(const char *name, size_t bytes);

/* Sync (a commit), then stop journaling and detach the journal. Returns 0, the
 * sync's error (the journal stays open), or RUM_EINVAL when none is open. */
RUM_API int rum_journal_close(void);

#ifdef __cplusplus
}
#endif
#endif
