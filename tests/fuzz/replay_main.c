/* Runs a libFuzzer harness's LLVMFuzzerTestOneInput over the files given as
 * arguments (a directory stands for the files in it), so that builds without
 * libFuzzer (gcc) exercise the harness on its seed corpus, and so that a crashing
 * input found by the fuzzer replays under a debugger. Fails when given no input. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file; returns 1 if it ran, 0 on a read error (reported). */
static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return 0;
  }
  size_t cap = 4096, len = 0;
  uint8_t *data = malloc(cap);
  size_t n;
  while (data != NULL && (n = fread(data + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      uint8_t *grown = realloc(data, cap *= 2);
      if (grown == NULL) free(data);
      data = grown;
    }
  }
  int ok = data != NULL && !ferror(f);
  fclose(f);
  if (!ok) {
    fprintf(stderr, "%s: cannot read\n", path);
    free(data);
    return 0;
  }
  /* An exactly sized copy, so that AddressSanitizer sees any read past the input. */
  uint8_t *exact = malloc(len ? len : 1);
  if (exact == NULL) {
    free(data);
    return 0;
  }
  memcpy(exact, data, len);
  free(data);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 1;
}

int main(int argc, char **argv) {
  unsigned ran = 0, failed = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      failed++;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (run_file(argv[i])) ran++;
      else failed++;
      continue;
    }
    DIR *dir = opendir(argv[i]);
    if (dir == NULL) {
      perror(argv[i]);
      failed++;
      continue;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      if (run_file(path)) ran++;
      else failed++;
    }
    closedir(dir);
  }
  printf("replayed %u inputs, %u unreadable\n", ran, failed);
  return ran > 0 && failed == 0 ? 0 : 1;
}
