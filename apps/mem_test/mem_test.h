/* mem_test: the correctness tool. It calls every function of rum.h and checks every
 * byte it wrote. This header is what the phase files share: the run context, the
 * check macros, the byte pattern and the seeded PRNG.
 *
 * Patterns: the byte at offset o of a buffer filled with salt s is a function of
 * (o, s) only (see mt_pattern_word), so any range can be re-verified at any time
 * without keeping a copy, and two buffers filled with different salts never agree by
 * accident. Salts are derived from the run's seed, so a failing seed replays. */
#ifndef MEM_TEST_H
#define MEM_TEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rum/rum.h>

enum {
  MT_PAGE = 4096,            /* RUM's default page size; used to size ranges only */
  MT_MAX_NODES = 64,
  MT_MAX_REPORTS = 20,       /* failure messages printed per phase before muting */
  MT_EXIT_PASS = 0,
  MT_EXIT_FAIL = 1,
  MT_EXIT_USAGE = 2,
  MT_EXIT_SKIP = 77,         /* the fault backend asked for is not available here */
};

#define MT_MIB ((size_t)1 << 20)

struct mt_options {
  uint64_t seed;
  bool quick;
  const char *phases;        /* comma-separated list; NULL = the default set */
  unsigned threads;
  size_t cache_mb;           /* 0 = take $RUM_CACHE_MB, then the library's figure */
  unsigned nodes;            /* 0 = read node ids from the machines file */
  const char *machines;      /* passed to rum_init(); NULL = $RUM_MACHINES */
  const char *name;          /* named region for the persist phases */
  bool keep;                 /* persist-verify: leave the region in place */
};

/* State of one run, shared by all phases. Phases may run on several threads at once
 * (the threads phase); failures is atomic and reporting goes through stdio, whose
 * calls lock the stream. */
struct mt_ctx {
  const struct mt_options *opt;
  uint64_t seed;
  size_t cache_bytes;        /* the client cache size the big-data phases scale to */
  size_t max_size;           /* largest single random allocation */
  int node_ids[MT_MAX_NODES];
  unsigned nnodes;
  unsigned replication;      /* replication= of the machines file (1 when absent) */
  const char *exe;           /* /proc/self/exe, for phases that run a second process */
  const char *phase;         /* name of the phase running, for messages */
  atomic_uint failures;      /* checks failed in the current phase */
  char detail[160];          /* one-line summary a phase leaves for its PASS line */
  bool skip;                 /* init found the fault backend unavailable: exit 77 */
};

/* Report a failed check; counts it and prints at most MT_MAX_REPORTS lines a phase. */
void mt_fail(struct mt_ctx *c, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Say something about the run that is not a failure. */
void mt_note(struct mt_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set the text printed after PASS/FAIL. */
void mt_detail(struct mt_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define MT_CHECK(c, cond, ...)                         \
  do {                                                 \
    if (!(cond)) mt_fail((c), __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

/* Allocation-style call expected to fail with NULL and errno err. */
#define MT_CHECK_NULL_ERRNO(c, expr, err)                                             \
  do {                                                                                \
    errno = 0;                                                                        \
    void *mt_p_ = (expr);                                                             \
    int mt_e_ = errno;                                                                \
    MT_CHECK((c), mt_p_ == NULL && mt_e_ == (err), "%s: want NULL/%s, got %p/%s",     \
             #expr, mt_errno_name(err), mt_p_, mt_errno_name(mt_e_));                 \
  } while (0)

/* int-returning call expected to return want. */
#define MT_CHECK_RC(c, expr, want)                                                    \
  do {                                                                                \
    int mt_rc_ = (expr);                                                              \
    MT_CHECK((c), mt_rc_ == (want), "%s: want %d, got %d (%s)", #expr, (int)(want),   \
             mt_rc_, rum_strerror(mt_rc_));                                           \
  } while (0)

const char *mt_errno_name(int err);
double mt_now(void);

/* --- PRNG: splitmix64, one state per user (threads keep their own). --- */
struct mt_rng {
  uint64_t state;
};
uint64_t mt_mix64(uint64_t x);
void mt_rng_seed(struct mt_rng *r, uint64_t seed, uint64_t stream);
uint64_t mt_rng_next(struct mt_rng *r);
uint64_t mt_rng_below(struct mt_rng *r, uint64_t n);      /* uniform in [0, n), n > 0 */
/* A size in [1, max], log-uniform so that small and huge sizes are equally common. */
size_t mt_rng_size(struct mt_rng *r, size_t max);

/* --- Patterns --- */
uint64_t mt_salt(const struct mt_ctx *c, uint64_t a, uint64_t b);
uint64_t mt_pattern_word(uint64_t word_index, uint64_t salt);
/* Fill bytes [from, to) of base with the pattern of salt (offsets relative to base). */
void mt_fill(void *base, size_t from, size_t to, uint64_t salt);
/* Returns SIZE_MAX if [from, to) holds the pattern, else the first wrong offset;
 * *nbad (if not NULL) receives how many bytes are wrong. */
size_t mt_scan(const void *base, size_t from, size_t to, uint64_t salt, size_t *nbad);
/* Like mt_scan, but reports a failure naming what, the offset and the bytes. */
bool mt_verify(struct mt_ctx *c, const void *base, size_t from, size_t to, uint64_t salt,
               const char *what);
/* Reports unless every byte of [base, base+len) is zero. */
bool mt_verify_zero(struct mt_ctx *c, const void *base, size_t len, const char *what);
uint8_t mt_pattern_byte(size_t offset, uint64_t salt);

/* --- Helpers --- */
bool mt_stats(struct mt_ctx *c, struct rum_stats *out);
/* Run this program again with args (NULL-terminated, after argv[0]) and wait.
 * Returns its exit status, or -1 if it could not be run or was killed. */
int mt_run_self(struct mt_ctx *c, const char *const *args);
/* A name unique to this run: "mem_test.<seed>.<pid>.<tag>". */
void mt_unique_name(const struct mt_ctx *c, const char *tag, char *out, size_t outlen);
/* Whether the --phase list asks for name (the default list when there is none). */
bool mt_phase_selected(const struct mt_ctx *c, const char *name, bool in_default);

/* --- Phases (one function each; they record failures in c) --- */
void mt_phase_strerror(struct mt_ctx *c);
void mt_phase_alloc(struct mt_ctx *c);
void mt_phase_calloc(struct mt_ctx *c);
void mt_phase_realloc(struct mt_ctx *c);
void mt_phase_reuse(struct mt_ctx *c);
void mt_phase_usable_size(struct mt_ctx *c);
void mt_phase_alloc_on(struct mt_ctx *c);
void mt_phase_sync(struct mt_ctx *c);
void mt_phase_refresh(struct mt_ctx *c);
void mt_phase_prefetch(struct mt_ctx *c);
void mt_phase_stress(struct mt_ctx *c);
void mt_phase_stats(struct mt_ctx *c);
void mt_phase_named(struct mt_ctx *c);
void mt_phase_big(struct mt_ctx *c);
void mt_phase_threads(struct mt_ctx *c);
void mt_phase_reinit(struct mt_ctx *c);
void mt_phase_persist_write(struct mt_ctx *c);
void mt_phase_persist_verify(struct mt_ctx *c);
void mt_phase_rewrite_child(struct mt_ctx *c);

#endif
