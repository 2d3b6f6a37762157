/* One writer per store: the owner record in the named region "kvs.NAME.lock".
 *
 * Creating a named region is atomic on the nodes (a second creator gets EEXIST), so
 * creating the lock region is taking the lock, and a clean stop frees it. A process
 * that died holding it leaves the region behind; its owner record says who it was and
 * when it last beat. The rule: the owner is alive while its heartbeat (rewritten and
 * flushed every second) is younger than KV_LOCK_STALE_MS and, when it ran on this host
 * since this boot, its pid still exists. A dead owner's lock is taken over by freeing
 * the region and creating it again; if two starters race for that, the nodes let only
 * one create it. */
#include "kv.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rum/rum.h>

#define KV_LOCK_MAGIC 0x4b434f4c564b5552ull /* "RUKVLOCK" */

struct kv_owner {
  uint64_t magic;
  int64_t pid;
  int64_t started_ms;
  int64_t heartbeat_ms;
  char host[256];
  char boot_id[64];
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void read_boot_id(char *out, size_t len) {
  out[0] = 0;
  FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
  if (f == NULL) return;
  if (fgets(out, (int)len, f) == NULL) out[0] = 0;
  out[strcspn(out, "\n")] = 0;
  fclose(f);
}

static void fill_owner(struct kv_owner *o, int64_t now) {
  memset(o, 0, sizeof *o);
  o->pid = getpid();
  o->started_ms = now;
  o->heartbeat_ms = now;
  if (gethostname(o->host, sizeof o->host - 1) != 0) snprintf(o->host, sizeof o->host, "?");
  read_boot_id(o->boot_id, sizeof o->boot_id);
  o->magic = KV_LOCK_MAGIC;
}

/* 1 if the recorded owner may still be running, 0 if it is certainly gone. */
static int owner_alive(const struct kv_owner *o, int64_t now) {
  if (o->magic != KV_LOCK_MAGIC) return now - o->heartbeat_ms < KV_LOCK_STALE_MS; /* mid-creation */
  if (now - o->heartbeat_ms >= KV_LOCK_STALE_MS) return 0;
  struct kv_owner me;
  fill_owner(&me, now);
  if (strcmp(me.host, o->host) == 0 && strcmp(me.boot_id, o->boot_id) == 0 && o->pid > 0) {
    if (kill((pid_t)o->pid, 0) != 0 && errno == ESRCH) return 0;
  }
  return 1;
}

static void describe(const struct kv_owner *o, int64_t now, const char *store, char *err, size_t errlen) {
  snprintf(err, errlen,
           "store '%s' is in use by rum-kvs pid %lld on host %s (last heartbeat %lld ms ago); "
           "one rum-kvs writes a store at a time: stop that one, or wait %d s after it died",
           store, (long long)o->pid, o->host, (long long)(now - o->heartbeat_ms), KV_LOCK_STALE_MS / 1000);
}

static int create_and_claim(const char *name, void **region) {
  struct kv_owner *o = rum_alloc_named(name, sizeof *o);
  if (o == NULL) return -errno;
  fill_owner(o, wall_ms());
  int rc = rum_flush(o, sizeof *o);
  if (rc != 0) {
    rum_free(o);
    return rc;
  }
  *region = o;
  return 0;
}

int kv_lock_acquire(const char *store, void **region, char *err, size_t errlen) {
  char name[PH_NAME_MAX + 32];
  snprintf(name, sizeof name, "kvs.%s.lock", store);
  int rc = create_and_claim(name, region);
  if (rc != RUM_EEXIST) {
    if (rc != 0) snprintf(err, errlen, "cannot create lock region %s: %s", name, rum_strerror(rc));
    return rc;
  }
  size_t size = 0;
  struct kv_owner *o = rum_attach(name, &size);
  if (o == NULL) {
    rc = -errno;
    snprintf(err, errlen, "cannot read lock region %s: %s", name, rum_strerror(rc));
    return rc;
  }
  int64_t now = wall_ms();
  if (size >= sizeof *o && owner_alive(o, now)) {
    describe(o, now, store, err, errlen);
    rum_detach(o);
    return RUM_EBUSY;
  }
  rum_free(o); /* the owner is gone: take its lock over */
  rc = create_and_claim(name, region);
  if (rc == RUM_EEXIST) {
    snprintf(err, errlen, "store '%s' was just taken by another rum-kvs starting at the same time", store);
    return RUM_EBUSY;
  }
  if (rc != 0) snprintf(err, errlen, "cannot create lock region %s: %s", name, rum_strerror(rc));
  return rc;
}

int kv_lock_heartbeat(void *region) {
  struct kv_owner *o = region;
  o->heartbeat_ms = wall_ms();
  return rum_flush(o, sizeof *o);
}

void kv_lock_release(void *region) {
  if (region != NULL) rum_free(region);
}
