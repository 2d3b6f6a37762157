/* Multi-Paxos under a hostile simulated network (paxos_sim.h), many seeds.
 *
 * Each seed picks a fault mix (loss, duplication, delay and so reordering, and some
 * messages held back for hundreds of ticks, and half the seeds give each replica a
 * clock of its own, started anywhere and up to 5% fast or slow), then runs
 * a chaos phase with proposals at whoever leads, partitions, crashes of the leader or
 * any replica (never more than a minority lacking state at once, the model Paxos
 * tolerates) and restarts with empty memory; then it heals the network and restarts
 * everyone, and the group must make progress: elect, decide a new proposal, and bring
 * every replica to the same applied slot. Checked throughout: one value per slot, each
 * replica applies slots in order, at most one replica may serve reads; at the end:
 * every acknowledged proposal is in the log and every table equals the log's.
 *
 * Environment: RUM_PAXOS_SIM_SEEDS=N runs N seeds per group size (default 1000; a
 * million is fine overnight), RUM_PAXOS_SIM_FIRST=S starts at seed S,
 * RUM_PAXOS_SIM_SEED=S replays exactly one seed (and prints its statistics). A failing
 * seed prints the line that replays it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "paxos_sim.h"
#include "paxos/paxos_internal.h"

enum { CHAOS_TICKS = 3000, HEAL_TICKS = 6000 };

struct partition {
  uint64_t until;
};

static void cut_random(struct sim *s) {
  memset(s->cut, 0, sizeof s->cut);
  unsigned side = (unsigned)(sim_rand(s) % ((1u << s->n) - 1)) + 1;
  bool oneway = sim_chance(s, 30);
  for (unsigned a = 0; a < s->n; a++)
    for (unsigned b = 0; b < s->n; b++)
      if (((side >> a) & 1) != ((side >> b) & 1) && (!oneway || ((side >> a) & 1))) s->cut[a][b] = true;
}

static void chaos(struct sim *s) {
  unsigned f = (s->n - 1) / 2;
  uint64_t heal_at = 0;
  unsigned crash_rate = 1 + (unsigned)(sim_rand(s) % 6);     /* per mille per tick */
  unsigned cut_rate = (unsigned)(sim_rand(s) % 4);           /* per mille per tick */
  unsigned propose_pct = 10 + (unsigned)(sim_rand(s) % 60);
  for (unsigned t = 0; t < CHAOS_TICKS && s->failure[0] == '\0'; t++) {
    if (sim_chance(s, propose_pct)) sim_propose(s);
    if (sim_rand(s) % 1000 < crash_rate && sim_stateless(s) + 1 <= f) {
      int l = sim_leader(s);
      unsigned victim = l >= 0 && sim_chance(s, 50) ? (unsigned)l : (unsigned)(sim_rand(s) % s->n);
      if (s->nodes[victim].px != NULL) sim_crash(s, &s->nodes[victim], 20 + sim_rand(s) % 600);
    }
    if (heal_at == 0 && sim_rand(s) % 1000 < cut_rate) {
      cut_random(s);
      heal_at = s->now + 50 + sim_rand(s) % 500;
    } else if (heal_at != 0 && s->now >= heal_at) {
      memset(s->cut, 0, sizeof s->cut);
      heal_at = 0;
    }
    sim_step(s);
  }
}

/* After healing: everyone up and voting, one more proposal acknowledged, and every
 * replica at the same applied slot. Returns the ticks it took, or 0. */
static uint64_t heal(struct sim *s) {
  memset(s->cut, 0, sizeof s->cut);
  s->drop_pct = s->dup_pct = s->late_permille = 0;
  s->max_delay = 3;
  for (unsigned i = 0; i < s->n; i++)
    if (s->nodes[i].px == NULL) s->nodes[i].up_at = s->now;
  uint64_t start = s->now;
  size_t acked_before = s->nacked;
  for (unsigned t = 0; t < HEAL_TICKS && s->failure[0] == '\0'; t++) {
    if (t % 20 == 0) sim_propose(s);
    sim_step(s);
    if (s->nacked == acked_before || sim_stateless(s) != 0 || sim_leader(s) < 0) continue;
    struct rum_paxos_status st0;
    rum__paxos_status(s->nodes[0].px, &st0);
    bool same = st0.applied >= s->acked[s->nacked - 1].index;
    for (unsigned i = 1; i < s->n && same; i++) {
      struct rum_paxos_status st;
      rum__paxos_status(s->nodes[i].px, &st);
      same = st.applied == st0.applied;
    }
    if (same) return s->now - start;
  }
  return 0;
}

static void final_checks(struct sim *s) {
  for (size_t i = 0; i < s->nacked && s->failure[0] == '\0'; i++) {
    const struct sim_acked *a = &s->acked[i];
    if (a->index >= s->log_cap || !s->log[a->index].set || s->log[a->index].tag != a->tag)
      sim_fail(s, "acknowledged proposal %llu lost from slot %llu", (unsigned long long)a->tag,
               (unsigned long long)a->index);
  }
  for (unsigned i = 0; i < s->n && s->failure[0] == '\0'; i++) {
    struct rum_paxos_status st;
    uint64_t want[SIM_KEYS];
    rum__paxos_status(s->nodes[i].px, &st);
    if (!sim_reference(s, st.applied, want))
      sim_fail(s, "replica %u applied %llu but the log has a hole", i, (unsigned long long)st.applied);
    else if (memcmp(want, s->nodes[i].table, sizeof want) != 0)
      sim_fail(s, "replica %u's table differs from the log at slot %llu", i,
               (unsigned long long)st.applied);
  }
}

/* Run one seed; on failure print why and how to replay it. */
static bool run_seed(uint64_t seed, unsigned n, bool verbose) {
  struct sim s;
  sim_init(&s, seed, n);
  s.drop_pct = (unsigned)(sim_rand(&s) % 20);
  s.dup_pct = (unsigned)(sim_rand(&s) % 10);
  s.max_delay = 1 + (unsigned)(sim_rand(&s) % 20);
  s.late_permille = sim_chance(&s, 50) ? (unsigned)(sim_rand(&s) % 20) : 0;
  if (sim_chance(&s, 50)) sim_drift(&s, 50000); /* clocks 5% apart at most */
  chaos(&s);
  uint64_t took = s.failure[0] == '\0' ? heal(&s) : 0;
  if (s.failure[0] == '\0' && took == 0) sim_fail(&s, "liveness: no progress %d ticks after healing", HEAL_TICKS);
  final_checks(&s);
  for (unsigned i = 0; i < n; i++) {
    struct rum_paxos_status st;
    if (s.nodes[i].px == NULL) continue;
    rum__paxos_status(s.nodes[i].px, &st);
    s.stat_elections += st.elections;
    s.stat_snapshot_bytes += st.snapshot_bytes;
    s.stat_catchup_bytes += st.catchup_bytes;
  }
  bool ok = s.failure[0] == '\0';
  for (unsigned i = 0; i < n && !ok; i++) {
    const struct rum_paxos *p = s.nodes[i].px;
    if (p == NULL) continue;
    fprintf(stderr, "  replica %u: role %u voter %d promised %llx ballot %llx leader %d base %llu commit %llu "
            "applied %llu max %llu lc %llu snap %d/%d src %d bmax %llx\n", i, p->role, p->voter,
            (unsigned long long)p->promised, (unsigned long long)p->ballot, p->leader,
            (unsigned long long)p->base, (unsigned long long)p->commit, (unsigned long long)p->applied,
            (unsigned long long)p->max_slot, (unsigned long long)p->leader_commit, p->snap_active,
            p->snap_done, p->snap_source, (unsigned long long)p->rec_bmax);
  }
  if (!ok)
    fprintf(stderr, "paxos sim n=%u seed %llu FAILED: %s\n  replay: RUM_PAXOS_SIM_SEED=%llu RUM_PAXOS_SIM_N=%u test_paxos_sim\n",
            n, (unsigned long long)seed, s.failure, (unsigned long long)seed, n);
  if (verbose || !ok)
    fprintf(stderr, "  n=%u seed %llu: log %llu slots, %zu acknowledged, %llu restarts, %llu elections, "
            "%llu catch-up bytes (%llu by transfer), healed in %llu ticks\n",
            n, (unsigned long long)seed, (unsigned long long)s.log_max, s.nacked,
            (unsigned long long)s.stat_restarts, (unsigned long long)s.stat_elections,
            (unsigned long long)s.stat_catchup_bytes, (unsigned long long)s.stat_snapshot_bytes,
            (unsigned long long)took);
  sim_free(&s);
  return ok;
}

static uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : dflt;
}

static void run_many(unsigned n) {
  if (getenv("RUM_PAXOS_SIM_SEED") != NULL) {
    if (env_u64("RUM_PAXOS_SIM_N", n) != n) skip();
    assert_true(run_seed(env_u64("RUM_PAXOS_SIM_SEED", 0), n, true));
    return;
  }
  uint64_t first = env_u64("RUM_PAXOS_SIM_FIRST", 1), count = env_u64("RUM_PAXOS_SIM_SEEDS", 1000);
  unsigned failed = 0;
  for (uint64_t seed = first; seed < first + count && failed < 5; seed++)
    if (!run_seed(seed, n, false)) failed++;
  assert_int_equal(failed, 0);
}

static void test_sim_three_replicas(void **state) {
  (void)state;
  run_many(3);
}

static void test_sim_five_replicas(void **state) {
  (void)state;
  run_many(5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sim_three_replicas),
      cmocka_unit_test(test_sim_five_replicas),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
