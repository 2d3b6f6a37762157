/* Phases named, reinit, persist-write and persist-verify: named regions and data that
 * outlives a rum_shutdown() or the process. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mem_test.h"

static uint8_t *create_named(struct mt_ctx *c, const char *name, size_t size) {
  errno = 0;
  uint8_t *p = rum_alloc_named(name, size);
  if (p == NULL)
    mt_fail(c, __FILE__, __LINE__, "rum_alloc_named(%s, %zu) = NULL, errno %s", name, size,
            mt_errno_name(errno));
  return p;
}

static uint8_t *attach_checked(struct mt_ctx *c, const char *name, size_t want_size) {
  size_t sz = 0;
  errno = 0;
  uint8_t *p = rum_attach(name, &sz);
  if (p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "rum_attach(%s) = NULL, errno %s", name, mt_errno_name(errno));
    return NULL;
  }
  MT_CHECK(c, sz == want_size, "rum_attach(%s): size %zu, created with %zu", name, sz, want_size);
  MT_CHECK(c, rum_usable_size(p) >= want_size, "rum_attach(%s): usable %zu < %zu", name,
           rum_usable_size(p), want_size);
  return p;
}

/* rum_alloc_named of a name that exists must fail with EEXIST. If it wrongly
 * succeeds, detach what it returned so that later checks see the real region. */
static void expect_eexist(struct mt_ctx *c, const char *name, size_t size, const char *when) {
  errno = 0;
  void *q = rum_alloc_named(name, size);
  int e = errno;
  if (q != NULL) {
    mt_fail(c, __FILE__, __LINE__, "%s: rum_alloc_named(%s, %zu) of an existing name = %p (errno %s), "
            "want NULL/EEXIST", when, name, size, q, mt_errno_name(e));
    rum_detach(q);
    return;
  }
  MT_CHECK(c, e == EEXIST, "%s: rum_alloc_named(%s, %zu) errno %s, want EEXIST", when, name, size,
           mt_errno_name(e));
}

static void check_bad_names(struct mt_ctx *c) {
  char long_name[RUM_NAME_MAX + 2];
  memset(long_name, 'a', RUM_NAME_MAX + 1);
  long_name[RUM_NAME_MAX + 1] = '\0';
  const char *bad[] = {"", "a b", "tab\there", "del\x7f", "caf\xc3\xa9", "new\nline", " lead", long_name};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    MT_CHECK_NULL_ERRNO(c, rum_alloc_named(bad[i], 4096), EINVAL);
    MT_CHECK_NULL_ERRNO(c, rum_attach(bad[i], NULL), EINVAL);
  }
  /* The longest legal name, and one using every printable character. */
  char max_name[RUM_NAME_MAX + 1];
  mt_unique_name(c, "max", max_name, sizeof max_name);
  size_t n = strlen(max_name);
  memset(max_name + n, 'x', RUM_NAME_MAX - n);
  max_name[RUM_NAME_MAX] = '\0';
  char all_name[160];
  mt_unique_name(c, "", all_name, sizeof all_name);
  n = strlen(all_name);
  for (int ch = 0x21; ch <= 0x7e; ch++) all_name[n++] = (char)ch;
  all_name[n] = '\0';
  const char *good[] = {max_name, all_name};
  for (unsigned i = 0; i < 2; i++) {
    uint8_t *p = create_named(c, good[i], 100);
    if (p == NULL) continue;
    mt_fill(p, 0, 100, mt_salt(c, 13, 100 + i));
    uint8_t *q = rum_attach(good[i], NULL);
    MT_CHECK(c, q == p, "rum_attach of a name attached here = %p, want %p", (void *)q, (void *)p);
    rum_free(p);
    MT_CHECK_NULL_ERRNO(c, rum_attach(good[i], NULL), ENOENT);
  }
}

void mt_phase_named(struct mt_ctx *c) {
  char name[128];
  mt_unique_name(c, "named", name, sizeof name);
  const size_t size = 3 * 4096 + 100, big = 2 * c->cache_bytes + 5;
  const uint64_t sa = mt_salt(c, 13, 1), sb = mt_salt(c, 13, 2), sc = mt_salt(c, 13, 3);
  struct rum_stats s0, s1;
  mt_stats(c, &s0);
  MT_CHECK_NULL_ERRNO(c, rum_attach(name, NULL), ENOENT);
  uint8_t *p = create_named(c, name, size);
  if (p == NULL) return;
  mt_stats(c, &s1);
  MT_CHECK(c, s1.regions == s0.regions + 1, "regions %" PRIu64 " -> %" PRIu64 " after rum_alloc_named",
           s0.regions, s1.regions);
  MT_CHECK(c, rum_usable_size(p) >= size, "named usable %zu < %zu", rum_usable_size(p), size);
  mt_fill(p, 0, size, sa);
  expect_eexist(c, name, size, "while attached");
  expect_eexist(c, name, 2 * size, "while attached, other size");
  size_t sz = 0;
  uint8_t *q = rum_attach(name, &sz);
  MT_CHECK(c, q == p && sz == size, "rum_attach while attached: %p size %zu, want %p size %zu",
           (void *)q, sz, (void *)p, size);

  /* Detach writes back; the name stays taken; attach shows the same bytes. */
  MT_CHECK_RC(c, rum_detach(p), 0);
  expect_eexist(c, name, size, "after rum_detach");
  expect_eexist(c, name, 2 * size, "after rum_detach, other size");
  q = attach_checked(c, name, size);
  if (q == NULL) return;
  mt_verify(c, q, 0, size, sa, "named: bytes after detach and attach");
  uint8_t *q2 = rum_attach(name, &sz);
  MT_CHECK(c, q2 == q && sz == size, "second rum_attach: %p size %zu, want %p size %zu", (void *)q2, sz,
           (void *)q, size);
  mt_fill(q, 0, size / 2, sb);
  MT_CHECK_RC(c, rum_detach(q), 0);
  uint8_t *q3 = attach_checked(c, name, size);
  if (q3 == NULL) return;
  mt_verify(c, q3, 0, size / 2, sb, "named: rewritten half after detach and attach");
  mt_verify(c, q3, size / 2, size, sa, "named: untouched half after detach and attach");

  uint8_t *leased = rum_alloc(4096);
  MT_CHECK_RC(c, rum_detach(NULL), RUM_EINVAL);
  if (leased != NULL) MT_CHECK_RC(c, rum_detach(leased), RUM_EINVAL);
  MT_CHECK_RC(c, rum_detach(q3 + 16), RUM_EINVAL);
  rum_free(leased);

  /* rum_free destroys: the name is gone and can be created anew. */
  rum_free(q3);
  MT_CHECK_NULL_ERRNO(c, rum_attach(name, NULL), ENOENT);
  p = create_named(c, name, big);
  if (p != NULL) {
    mt_fill(p, 0, big, sc);
    MT_CHECK_RC(c, rum_detach(p), 0);
    q = attach_checked(c, name, big);
    if (q != NULL) {
      mt_verify(c, q, 0, big, sc, "named: 2x cache region after detach and attach");
      rum_free(q);
      MT_CHECK_NULL_ERRNO(c, rum_attach(name, NULL), ENOENT);
    }
  }
  MT_CHECK_NULL_ERRNO(c, rum_alloc_named(name, 0), EINVAL);
  check_bad_names(c);
  mt_detail(c, "%s: %zu then %zu bytes; 8 bad names refused", name, size, big);
}

void mt_phase_reinit(struct mt_ctx *c) {
  char name[128];
  mt_unique_name(c, "reinit", name, sizeof name);
  size_t size = c->cache_bytes + 12345;
  uint64_t salt = mt_salt(c, 14, 1);
  uint8_t *p = create_named(c, name, size);
  if (p == NULL) return;
  mt_fill(p, 0, size, salt);
  uint8_t *leased = rum_alloc(3 * 4096);
  if (leased != NULL) mt_fill(leased, 0, 3 * 4096, salt);
  /* No rum_sync: shutdown writes back. */
  MT_CHECK_RC(c, rum_shutdown(), 0);
  MT_CHECK_RC(c, rum_shutdown(), 0);
  struct rum_stats s;
  MT_CHECK_RC(c, rum_stats(&s), RUM_ENOTINIT);
  int rc = rum_init(c->opt->machines);
  if (rc != 0) {
    mt_fail(c, __FILE__, __LINE__, "rum_init after rum_shutdown: %d (%s)", rc, rum_strerror(rc));
    return;
  }
  if (mt_stats(c, &s))
    MT_CHECK(c, s.faults == 0 && s.regions == 0, "stats after re-init: faults %" PRIu64 " regions %" PRIu64,
             s.faults, s.regions);
  uint8_t *q = attach_checked(c, name, size);
  if (q == NULL) return;
  mt_verify(c, q, 0, size, salt, "reinit: named region written before rum_shutdown");
  rum_free(q);
  MT_CHECK_NULL_ERRNO(c, rum_attach(name, NULL), ENOENT);
  mt_detail(c, "%zu bytes survived rum_shutdown + rum_init", size);
}

static size_t persist_size(const struct mt_ctx *c) {
  return 3 * c->cache_bytes + 4321;
}

void mt_phase_persist_write(struct mt_ctx *c) {
  size_t size = persist_size(c);
  errno = 0;
  uint8_t *p = rum_alloc_named(c->opt->name, size);
  if (p == NULL && errno == EEXIST) {
    /* Left over from an earlier run against the same cluster: start afresh. */
    rum_free(rum_attach(c->opt->name, NULL));
    p = rum_alloc_named(c->opt->name, size);
  }
  if (p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "rum_alloc_named(%s, %zu) = NULL, errno %s", c->opt->name, size,
            mt_errno_name(errno));
    return;
  }
  mt_fill(p, 0, size, mt_salt(c, 15, 1));
  mt_detail(c, "%s: %zu bytes written; exiting without rum_sync", c->opt->name, size);
}

void mt_phase_persist_verify(struct mt_ctx *c) {
  size_t size = persist_size(c);
  size_t sz = 0;
  errno = 0;
  uint8_t *p = rum_attach(c->opt->name, &sz);
  if (p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "rum_attach(%s) = NULL, errno %s", c->opt->name, mt_errno_name(errno));
    return;
  }
  MT_CHECK(c, sz == size, "%s has %zu bytes, persist-write makes %zu (same --seed and cache size?)",
           c->opt->name, sz, size);
  mt_verify(c, p, 0, sz < size ? sz : size, mt_salt(c, 15, 1), "persist-verify: bytes the writer left");
  if (!c->opt->keep) {
    rum_free(p);
    MT_CHECK_NULL_ERRNO(c, rum_attach(c->opt->name, NULL), ENOENT);
  }
  mt_detail(c, "%s: %zu bytes verified%s", c->opt->name, sz, c->opt->keep ? ", kept" : ", freed");
}
