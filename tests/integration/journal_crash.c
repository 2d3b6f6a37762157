/* journal_crash: rum_sync with a journal is all or nothing across a SIGKILL.
 *
 *   journal_crash ROUNDS [--no-journal]
 *
 * Each round forks a writer that opens the journal (finishing what the previous one
 * left), checks that every page of the named region holds one and the same epoch,
 * reports it, then rewrites all pages with the next epoch (in a shuffled order,
 * through a cache smaller than the region, so that evictions write pages home in the
 * middle of an epoch) and syncs, again and again, reporting each epoch whose sync
 * returned. The parent kills it at a random moment with SIGKILL. The next writer must
 * find the last acknowledged epoch or the one after it (killed after the commit,
 * before the report), never a mix. --no-journal runs the same without a journal: it
 * is expected to find mixes (the reason for the journal), and exits 0 only if it did,
 * so that the test shows it can fail. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rum/rum.h>

enum { NPAGES = 1024, PAGE = 4096 };
static const char *const DATA = "jc.data", *const JOURNAL = "jc.journal";

static uint64_t word_of(uint64_t epoch, uint64_t page, uint64_t i) {
  return (epoch * 0x9e3779b97f4a7c15ull) ^ (page << 20) ^ i;
}

static void fill(uint8_t *p, uint64_t epoch, uint64_t page) {
  uint64_t *w = (uint64_t *)(p + page * PAGE);
  w[0] = epoch;
  for (uint64_t i = 1; i < PAGE / 8; i++) w[i] = word_of(epoch, page, i);
}

/* The page's epoch, or UINT64_MAX when the page is not whole. */
static uint64_t epoch_of(const uint8_t *p, uint64_t page) {
  const uint64_t *w = (const uint64_t *)(p + page * PAGE);
  for (uint64_t i = 1; i < PAGE / 8; i++)
    if (w[i] != word_of(w[0], page, i)) return UINT64_MAX;
  return w[0];
}

static void report(int fd, const char *fmt, unsigned long long a, unsigned long long b) {
  char line[128];
  int n = snprintf(line, sizeof line, fmt, a, b);
  if (write(fd, line, (size_t)n) != n) _exit(5);
}

static _Noreturn void writer(int fd, int journal, unsigned seed) {
  int rc = rum_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "journal_crash: rum_init: %s\n", rum_strerror(rc));
    _exit(2);
  }
  /* The size changes from round to round: a journal of another size is recovered,
   * then made again at the size asked for. */
  size_t journal_bytes = (seed & 1) ? 8u << 20 : 6u << 20;
  if (journal && (rc = rum_journal_open(JOURNAL, journal_bytes)) != 0) {
    fprintf(stderr, "journal_crash: rum_journal_open: %s\n", rum_strerror(rc));
    _exit(2);
  }
  size_t size = 0;
  uint8_t *p = rum_attach(DATA, &size);
  if (p == NULL) {
    p = rum_alloc_named(DATA, (size_t)NPAGES * PAGE);
    if (p == NULL) _exit(2);
    for (uint64_t i = 0; i < NPAGES; i++) fill(p, 0, i);
    if (rum_sync() != 0) _exit(2);
  }
  uint64_t e = epoch_of(p, 0);
  unsigned long long mixed = 0;
  for (uint64_t i = 1; i < NPAGES; i++)
    if (epoch_of(p, i) != e) mixed++;
  if (mixed > 0 || e == UINT64_MAX) {
    report(fd, "MIX %llu %llu\n", mixed, (unsigned long long)e);
    _exit(0);
  }
  report(fd, "FOUND %llu %llu\n", (unsigned long long)e, 0);
  uint32_t order[NPAGES];
  for (uint32_t i = 0; i < NPAGES; i++) order[i] = i;
  for (;;) {
    e++;
    for (uint32_t i = NPAGES - 1; i > 0; i--) {
      uint32_t k = (uint32_t)(rand_r(&seed) % (i + 1)), t = order[i];
      order[i] = order[k];
      order[k] = t;
    }
    for (uint32_t i = 0; i < NPAGES; i++) fill(p, e, order[i]);
    if ((rc = rum_sync()) != 0) {
      fprintf(stderr, "journal_crash: rum_sync: %s\n", rum_strerror(rc));
      _exit(3);
    }
    report(fd, "ACK %llu %llu\n", (unsigned long long)e, 0);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: journal_crash ROUNDS [--no-journal]\n");
    return 2;
  }
  int rounds = atoi(argv[1]);
  int journal = !(argc > 2 && strcmp(argv[2], "--no-journal") == 0);
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  unsigned long long acked = 0, mixes = 0;
  int have_ack = 0;
  for (int round = 0; round <= rounds; round++) {
    int fds[2];
    if (pipe(fds) != 0) return perror("pipe"), 1;
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 1;
    if (pid == 0) {
      close(fds[0]);
      writer(fds[1], journal, seed + (unsigned)round);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char kind[8];
    unsigned long long a, b;
    if (fscanf(in, "%7s %llu %llu", kind, &a, &b) != 3) {
      fprintf(stderr, "journal_crash: round %d: the writer reported nothing\n", round);
      kill(pid, SIGKILL);
      return 1;
    }
    if (strcmp(kind, "MIX") == 0) {
      mixes++;
      printf("round %d: %llu pages from another epoch than page 0's (%llu)\n", round, a, b);
      if (journal) {
        kill(pid, SIGKILL);
        fprintf(stderr, "journal_crash: FAILED: a killed writer left a mix of epochs\n");
        return 1;
      }
      waitpid(pid, NULL, 0);
      fclose(in);
      /* Start over from a clean region. */
      if (rum_init(NULL) == 0) {
        void *d = rum_attach(DATA, NULL);
        if (d != NULL) rum_free(d);
        rum_shutdown();
      }
      have_ack = 0;
      continue;
    }
    if (have_ack && (a < acked || a > acked + 1)) {
      kill(pid, SIGKILL);
      fprintf(stderr, "journal_crash: FAILED: found epoch %llu after epoch %llu was acknowledged\n", a, acked);
      return 1;
    }
    if (round == rounds) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      break;
    }
    /* Let it run a while, then kill it wherever it is. */
    struct timespec ts = {0, (long)(50 + rand_r(&seed) % 400) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    acked = a;
    while (fscanf(in, "%7s %llu %llu", kind, &a, &b) == 3)
      if (strcmp(kind, "ACK") == 0) acked = a;
    have_ack = 1;
    fclose(in);
    if (!WIFSIGNALED(status)) {
      fprintf(stderr, "journal_crash: round %d: the writer exited with %d before the kill\n", round,
              WEXITSTATUS(status));
      return 1;
    }
    printf("round %d: killed after epoch %llu was acknowledged\n", round, acked);
  }
  if (!journal) {
    printf("%s: %llu of %d rounds found a mix without the journal\n", mixes ? "PASS" : "FAIL", mixes, rounds);
    return mixes > 0 ? 0 : 1;
  }
  printf("PASS: %d kills, every restart found the last acknowledged epoch or the next\n", rounds);
  return 0;
}
