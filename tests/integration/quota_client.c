/* quota_client: a program on the public API against nodes started with
 * --client-quota-mb Q: it allocates 1 MiB blocks (touching each) until rum_alloc
 * fails, checks the failure is ENOMEM and came between 1 and 4*Q*nodes MiB, that a
 * freed block can be allocated again, then prints "full N" and (--hold) waits for
 * stdin to close, still holding its memory, so that the test can show another client
 * allocates meanwhile. Exit status 0 pass, 1 fail, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum.h>

enum { MB = 1 << 20, MAX_BLOCKS = 4096 };

int main(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[1], "--quota-mb") != 0) {
    fprintf(stderr, "usage: quota_client --quota-mb Q --nodes N [--hold]\n");
    return 2;
  }
  unsigned long quota = strtoul(argv[2], NULL, 10);
  unsigned long nodes = argc > 4 ? strtoul(argv[4], NULL, 10) : 1;
  int hold = argc > 5 && strcmp(argv[5], "--hold") == 0;
  int rc = rum_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "quota_client: rum_init: %s\n", rum_strerror(rc));
    return 1;
  }
  static char *blocks[MAX_BLOCKS];
  unsigned long n = 0;
  while (n < MAX_BLOCKS && (blocks[n] = rum_alloc(MB)) != NULL) {
    memset(blocks[n], (int)n | 1, MB);
    n++;
  }
  if (n == MAX_BLOCKS || errno != ENOMEM) {
    fprintf(stderr, "quota_client: %lu blocks, then %s\n", n, n == MAX_BLOCKS ? "no failure" : strerror(errno));
    return 1;
  }
  if (n < 1 || n > 4 * quota * nodes) {
    fprintf(stderr, "quota_client: ENOMEM after %lu MiB, want 1..%lu\n", n, 4 * quota * nodes);
    return 1;
  }
  for (unsigned long i = 0; i < n; i++)
    if ((unsigned char)blocks[i][MB - 1] != (unsigned char)(i | 1)) {
      fprintf(stderr, "quota_client: block %lu lost its bytes\n", i);
      return 1;
    }
  rum_free(blocks[n - 1]);
  if ((blocks[n - 1] = rum_alloc(MB)) == NULL) {
    fprintf(stderr, "quota_client: a freed block could not be allocated again\n");
    return 1;
  }
  printf("full %lu\n", n);
  fflush(stdout);
  if (hold) while (getchar() != EOF) continue;
  return 0;
}
