/* A small program for gcc to compile (and the compiled program's output is compared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; int key; char name[24]; };

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(void) {
  enum { N = 100000 };
  int *v = malloc(N * sizeof(*v));
  struct node *head = NULL;
  for (int i = 0; i < N; i++) {
    v[i] = (int)((i * 2654435761u) % 100003u);
    if (i % 10 == 0) {
      struct node *n = malloc(sizeof(*n));
      n->key = v[i];
      snprintf(n->name, sizeof(n->name), "n%d", i);
      n->next = head;
      head = n;
    }
  }
  qsort(v, N, sizeof(*v), cmp);
  long sum = 0;
  for (struct node *n = head; n != NULL; n = n->next) sum += n->key + (long)strlen(n->name);
  printf("%d %d %d %ld\n", v[0], v[N / 2], v[N - 1], sum);
  return 0;
}
