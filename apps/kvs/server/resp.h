/* The RESP request parser: RESP2 multibulk requests and inline commands.
 *
 * Pure: it reads a buffer and fills a request, never touches a socket, a clock or a
 * global, so libFuzzer can feed it (tests/fuzz/fuzz_resp.c). It is also stateless:
 * the caller keeps the unparsed bytes and calls again when more arrive; `need` says
 * how many bytes must be buffered before another call can make progress, so a large
 * bulk argument is not re-scanned for every read. Limits are Redis's. */
#ifndef KVS_RESP_H
#define KVS_RESP_H

#include <stddef.h>
#include <stdint.h>

enum {
  RESP_MAX_BULK = 512 * 1024 * 1024, /* proto-max-bulk-len */
  RESP_MAX_INLINE = 64 * 1024,       /* PROTO_INLINE_MAX_SIZE */
  RESP_UNAUTH_MULTIBULK = 10,        /* before AUTH, as Redis */
  RESP_UNAUTH_BULK = 16384,
};

enum resp_status { RESP_ERROR = -1, RESP_INCOMPLETE = 0, RESP_COMPLETE = 1 };

/* One parsed request. argv[i] points into the caller's buffer (multibulk) or into
 * `scratch` (inline, after unquoting); valid until the next resp_parse or
 * resp_req_free. argc 0 with RESP_COMPLETE is an empty request to skip. */
struct resp_req {
  int argc, cap;
  const unsigned char **argv;
  size_t *argl;
  unsigned char *scratch;
  size_t scratch_cap;
  char errbuf[48]; /* a formatted error message */
};

/* Parse one request from buf[0..len). authed = 0 applies the unauthenticated limits.
 * Returns RESP_COMPLETE (*consumed = bytes of this request), RESP_INCOMPLETE (*need =
 * total bytes to wait for), or RESP_ERROR with *err = Redis's message (without "-ERR ").
 * The request's arrays grow with malloc; a failed allocation is reported as an error
 * ("out of memory"). */
int resp_parse(const unsigned char *buf, size_t len, int authed, struct resp_req *r, size_t *consumed,
               size_t *need, const char **err);

void resp_req_free(struct resp_req *r);

#endif
