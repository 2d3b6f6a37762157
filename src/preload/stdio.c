/* stdio given grid memory. stdio's own buffers are local (glibc allocates them:
 * preload.h), so its internal reads and writes never see grid memory, except where
 * glibc hands the caller's buffer to the kernel itself: fread and fwrite of more than
 * the stream's buffer (and fputs, puts of long strings) read or write straight
 * between the file and the caller's memory. Those go through the bounce buffer here,
 * in pieces, under the stream's lock; a buffer the program gives setvbuf in grid
 * memory is replaced by one stdio allocates. */
#include <stdio.h>
#include <string.h>

#include "preload/preload.h"

/* glibc may define these as macros over the stream's buffer; the functions are meant. */
#undef fread_unlocked
#undef fwrite_unlocked
#undef putc_unlocked

static size_t read_pieces(uint8_t *grid, size_t total, FILE *fp) {
  RUM_REAL(fread_unlocked);
  bool temporary;
  uint8_t *b = rum__preload_bounce_take(&temporary);
  if (b == NULL) {
    rum__preload_touch(grid, total, true);
    return real_fread_unlocked(grid, 1, total, fp);
  }
  size_t done = 0;
  while (done < total) {
    size_t len = total - done < RUM_PRELOAD_BOUNCE ? total - done : RUM_PRELOAD_BOUNCE;
    size_t got = real_fread_unlocked(b, 1, len, fp);
    memcpy(grid + done, b, got);
    done += got;
    if (got < len) break;
  }
  rum__preload_bounce_give(b, temporary);
  return done;
}

static size_t write_pieces(const uint8_t *grid, size_t total, FILE *fp) {
  RUM_REAL(fwrite_unlocked);
  bool temporary;
  uint8_t *b = rum__preload_bounce_take(&temporary);
  if (b == NULL) {
    rum__preload_touch(grid, total, false);
    return real_fwrite_unlocked(grid, 1, total, fp);
  }
  size_t done = 0;
  while (done < total) {
    size_t len = total - done < RUM_PRELOAD_BOUNCE ? total - done : RUM_PRELOAD_BOUNCE;
    memcpy(b, grid + done, len);
    size_t put = real_fwrite_unlocked(b, 1, len, fp);
    done += put;
    if (put < len) break;
  }
  rum__preload_bounce_give(b, temporary);
  return done;
}

RUM_INTERPOSE size_t fread_unlocked(void *p, size_t size, size_t n, FILE *fp) {
  size_t total;
  if (size == 0 || n == 0 || __builtin_mul_overflow(size, n, &total) || !rum__preload_needs_bounce(p)) {
    RUM_REAL(fread_unlocked);
    return real_fread_unlocked(p, size, n, fp);
  }
  return read_pieces(p, total, fp) / size;
}

RUM_INTERPOSE size_t fread(void *p, size_t size, size_t n, FILE *fp) {
  size_t total;
  if (size == 0 || n == 0 || __builtin_mul_overflow(size, n, &total) || !rum__preload_needs_bounce(p)) {
    RUM_REAL(fread);
    return real_fread(p, size, n, fp);
  }
  flockfile(fp);
  size_t done = read_pieces(p, total, fp);
  funlockfile(fp);
  return done / size;
}

RUM_INTERPOSE size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *fp) {
  size_t total;
  if (size == 0 || n == 0 || __builtin_mul_overflow(size, n, &total) || !rum__preload_needs_bounce(p)) {
    RUM_REAL(fwrite_unlocked);
    return real_fwrite_unlocked(p, size, n, fp);
  }
  return write_pieces(p, total, fp) / size;
}

RUM_INTERPOSE size_t fwrite(const void *p, size_t size, size_t n, FILE *fp) {
  size_t total;
  if (size == 0 || n == 0 || __builtin_mul_overflow(size, n, &total) || !rum__preload_needs_bounce(p)) {
    RUM_REAL(fwrite);
    return real_fwrite(p, size, n, fp);
  }
  flockfile(fp);
  size_t done = write_pieces(p, total, fp);
  funlockfile(fp);
  return done / size;
}

RUM_INTERPOSE int fputs(const char *s, FILE *fp) {
  if (!rum__preload_needs_bounce(s)) {
    RUM_REAL(fputs);
    return real_fputs(s, fp);
  }
  size_t n = strlen(s);
  if (n == 0) return 1;
  flockfile(fp);
  size_t done = write_pieces((const uint8_t *)s, n, fp);
  funlockfile(fp);
  return done == n ? 1 : EOF;
}

RUM_INTERPOSE int puts(const char *s) {
  if (!rum__preload_needs_bounce(s)) {
    RUM_REAL(puts);
    return real_puts(s);
  }
  flockfile(stdout);
  int rc = fputs(s, stdout) == EOF || putc_unlocked('\n', stdout) == EOF ? EOF : 1;
  funlockfile(stdout);
  return rc;
}

RUM_INTERPOSE int setvbuf(FILE *fp, char *buf, int mode, size_t size) {
  RUM_REAL(setvbuf);
  if (buf != NULL && rum__preload_is_grid(buf)) buf = NULL; /* stdio allocates its own */
  return real_setvbuf(fp, buf, mode, size);
}

RUM_INTERPOSE void setbuffer(FILE *fp, char *buf, size_t size) {
  if (buf != NULL && rum__preload_is_grid(buf)) {
    setvbuf(fp, NULL, _IOFBF, size);
    return;
  }
  RUM_REAL(setbuffer);
  real_setbuffer(fp, buf, size);
}

RUM_INTERPOSE void setbuf(FILE *fp, char *buf) { setbuffer(fp, buf, BUFSIZ); }
