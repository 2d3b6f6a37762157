/* fork: a program under rum-run starting others (fork + exec, system, popen,
 * posix_spawn) and forking a child that goes on without exec. Prints the same lines
 * plainly and under rum-run.
 *
 *   fork [MB]       every way of starting a program works; a forked child reads and
 *                   writes the heap blocks it touched last, privately
 *   fork --refuse   a forked child touches a heap block pushed out of the cache
 *                   before the fork: under rum-run it is stopped with a message
 *                   (status 125); plainly it reads it */
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int child_status(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
  bool refuse = argc > 1 && strcmp(argv[1], "--refuse") == 0;
  size_t mb = (size_t)(argc > 1 && !refuse ? atoi(argv[1]) : 16);
  size_t n = mb << 20;
  uint8_t *big = malloc(n);
  for (size_t i = 0; i < n; i++) big[i] = (uint8_t)(i * 7);
  char *recent = malloc(64); /* touched last: resident at the fork */
  strcpy(recent, "parent value");
  fflush(stdout);
  if (refuse) {
    pid_t pid = fork();
    if (pid == 0) {
      unsigned sum = 0;
      for (size_t i = 0; i < n; i += 4096) sum += big[i];
      printf("child read the whole heap: %u\n", sum);
      _exit(0);
    }
    printf("child status %d\n", child_status(pid));
    return 0;
  }
  /* fork + exec, with argv built on the heap. */
  char **args = malloc(4 * sizeof(char *));
  args[0] = strdup("/bin/echo");
  args[1] = malloc(32);
  strcpy(args[1], "fork+exec");
  args[2] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    execv(args[0], args);
    _exit(127);
  }
  printf("exec child status %d\n", child_status(pid));
  fflush(stdout);
  printf("system status %d\n", system("echo system works; exit 3") >> 8);
  fflush(stdout);
  FILE *p = popen("echo popen works", "r");
  char line[64] = "";
  if (p == NULL || fgets(line, sizeof(line), p) == NULL) return 1;
  printf("popen read: %s", line);
  pclose(p);
  fflush(stdout);
  strcpy(args[1], "posix_spawn");
  if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) != 0) return 1;
  printf("spawn child status %d\n", child_status(pid));
  fflush(stdout);
  /* A child going on without exec: the blocks it touched last work, its writes are
   * its own, new blocks work, and it exits without freeing the parent's memory. */
  pid = fork();
  if (pid == 0) {
    printf("child sees: %s\n", recent);
    strcpy(recent, "child value");
    char *mine = malloc(1 << 20);
    memset(mine, 'c', 1 << 20);
    mine = realloc(mine, 2 << 20);
    free(recent);
    printf("child wrote: %s %c\n", "child value", mine[12345]);
    fflush(stdout);
    exit(0);
  }
  printf("plain child status %d\n", child_status(pid));
  unsigned sum = 0;
  for (size_t i = 0; i < n; i++) sum += big[i];
  printf("parent still has: %s, heap sum %u\n", recent, sum);
  return 0;
}
