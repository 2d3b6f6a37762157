/* The linearizability checker (lincheck.h) on histories known to be linearizable and
 * known not to be: a stale read, a lost acknowledged write, a new-old inversion
 * between two reads, a read of a value nobody wrote; writes with unknown outcome that
 * may or may not have happened; and many random histories of a real atomic register,
 * which must all pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lincheck.h"

#define W(v, a, b) {.write = true, .value = (v), .invoked = (a), .returned = (b), .responded = true}
#define R(v, a, b) {.write = false, .value = (v), .invoked = (a), .returned = (b), .responded = true}
#define WUNKNOWN(v, a) {.write = true, .value = (v), .invoked = (a), .returned = 0, .responded = false}

static bool check(const struct lin_op *ops, size_t n) {
  char why[128] = "";
  bool ok = lin_check_register(ops, n, 0, why, sizeof why);
  if (!ok) print_message("    not linearizable: %s\n", why);
  return ok;
}
#define CHECK(...) check((const struct lin_op[]){__VA_ARGS__}, sizeof((const struct lin_op[]){__VA_ARGS__}) / sizeof(struct lin_op))

static void test_linearizable_histories(void **state) {
  (void)state;
  assert_true(CHECK(W(1, 0, 1), R(1, 2, 3), W(2, 4, 5), R(2, 6, 7)));
  /* A read overlapping a write may see either value. */
  assert_true(CHECK(W(1, 0, 1), W(2, 2, 6), R(1, 3, 4)));
  assert_true(CHECK(W(1, 0, 1), W(2, 2, 6), R(2, 3, 4)));
  /* Two overlapping writes: reads after both agree on one of them. */
  assert_true(CHECK(W(1, 0, 5), W(2, 1, 4), R(1, 6, 7), R(1, 8, 9)));
  /* Initial value before any write. */
  assert_true(CHECK(R(0, 0, 1), W(3, 2, 3), R(3, 4, 5)));
}

static void test_stale_read_and_lost_write(void **state) {
  (void)state;
  /* Stale: the write was acknowledged before the read began. */
  assert_false(CHECK(W(1, 0, 1), R(0, 2, 3)));
  /* Lost write: w2 acknowledged after w1, a later read still sees 1. */
  assert_false(CHECK(W(1, 0, 1), W(2, 2, 3), R(1, 4, 5)));
  /* New-old inversion: a read that began after another ended sees an older value. */
  assert_false(CHECK(W(0x1, 0, 1), W(2, 2, 10), R(2, 3, 4), R(1, 5, 6)));
  /* Nobody wrote 9. */
  char why[128];
  struct lin_op h[] = {W(1, 0, 1), R(9, 2, 3)};
  assert_false(lin_check_register(h, 2, 0, why, sizeof why));
  assert_non_null(strstr(why, "nothing wrote"));
}

static void test_unknown_outcome_writes(void **state) {
  (void)state;
  /* A timed-out write may have happened... */
  assert_true(CHECK(W(1, 0, 1), WUNKNOWN(2, 2), R(2, 5, 6)));
  /* ...or not. */
  assert_true(CHECK(W(1, 0, 1), WUNKNOWN(2, 2), R(1, 5, 6)));
  /* But once a read saw it, a later read cannot go back. */
  assert_false(CHECK(W(1, 0, 1), WUNKNOWN(2, 2), R(2, 5, 6), R(1, 7, 8)));
  /* And it cannot take effect before it was invoked. */
  assert_false(CHECK(W(1, 0, 1), R(2, 2, 3), WUNKNOWN(2, 4)));
}

/* Random histories of a real register: each operation takes effect at a random point
 * inside its interval, in the order of those points. */
static void test_random_atomic_histories_pass(void **state) {
  (void)state;
  uint64_t rng = 42;
  for (int round = 0; round < 300; round++) {
    enum { N = 24 };
    struct lin_op ops[N];
    uint64_t point[N];
    for (int i = 0; i < N; i++) {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t start = (rng >> 33) % 200, len = 1 + (rng >> 20) % 40;
      point[i] = start * 100 + (rng >> 10) % (len * 100);
      ops[i] = (struct lin_op){.write = (rng >> 5) % 3 == 0, .invoked = start * 100,
                               .returned = (start + len) * 100, .responded = true};
      if (ops[i].write) ops[i].value = (uint64_t)i + 1;
      point[i] = ops[i].invoked + point[i] % (ops[i].returned - ops[i].invoked);
    }
    /* Apply in point order to get each read's value. */
    int order[N];
    for (int i = 0; i < N; i++) order[i] = i;
    for (int i = 1; i < N; i++)
      for (int j = i; j > 0 && point[order[j]] < point[order[j - 1]]; j--) {
        int t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
    uint64_t value = 0;
    for (int k = 0; k < N; k++) {
      struct lin_op *o = &ops[order[k]];
      if (o->write) value = o->value;
      else o->value = value;
    }
    char why[128];
    assert_true(lin_check_register(ops, N, 0, why, sizeof why));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_linearizable_histories),
      cmocka_unit_test(test_stale_read_and_lost_write),
      cmocka_unit_test(test_unknown_outcome_writes),
      cmocka_unit_test(test_random_atomic_histories_pass),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
