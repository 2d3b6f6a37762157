/* security_test: what a node refuses, checked with hand-built frames on a raw UDP
 * socket, so a test controls every header field (sender, session, seq) and can send
 * the same sealed bytes twice.
 *
 *   security_test SCENARIO --port P [--key-file PATH] [--region ID] [--quota-mb M]
 *
 * The node is the first row of $RUM_MACHINES; P is this program's UDP port.
 *   owner   session A allocates and writes a region; session B finds its id the way
 *           `rumctl regions` does and tries to read, write, resize, discard, copy and
 *           free it: every request gets RUM_EPERM, the node counts them, A's bytes stay
 *   limits  a page past the end, a forged region id and a READ of 65 pages: refused
 *           (RUM_EINVAL, RUM_ENOENT, RUM_EPROTO) and counted
 *   quota   (node started with --client-quota-mb M) A's allocations past M MiB get
 *           RUM_EDQUOT, and so does a resize past it; B still allocates
 *   replay  (needs --key-file) a captured WRITE sent again, right away, after 4200
 *           newer requests, and after its session was pushed out of the node's session
 *           table by 300 others, never runs again; a tampered or unkeyed frame is
 *           dropped and counted
 *   steal   (--region ID of another process's region) every access is RUM_EPERM
 * Exit status 0 pass, 1 fail, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "cluster/machines.h"
#include "proto/wire.h"

#define TEST_PROGRAM "security_test"
#include "check.h"

enum { PS = RUM_PAGE_SIZE, FRAME_MAX = RUM_WIRE_MAX_FRAME, WAIT_MS = 2000, QUIET_MS = 300 };

static int sock = -1;
static struct sockaddr_in node;
static struct rum_wire_key key;
static bool keyed;

/* One client session as the node sees it: a sender id, a session and its seqs. */
struct session {
  uint32_t sender;
  uint64_t session;
  uint64_t seq;
};

static struct session session_new(uint32_t sender) {
  struct session s = {.sender = sender};
  CHECK(getrandom(&s.session, sizeof s.session, 0) == sizeof s.session, "getrandom");
  s.session |= 1;
  return s;
}

/* A sealed single-frame request; returns its length. */
static size_t frame_build(uint8_t *buf, struct session *s, uint8_t type, const void *payload, size_t len) {
  CHECK(len + RUM_WIRE_HEADER_SIZE <= FRAME_MAX, "payload of %zu bytes", len);
  if (len != 0) memcpy(buf + RUM_WIRE_HEADER_SIZE, payload, len); /* payload may be NULL then */
  struct rum_wire_header h = {
      .type = type, .flags = keyed ? RUM_WIRE_F_MAC : 0, .sender = s->sender, .frag_count = 1,
      .session = s->session, .seq = ++s->seq, .msg_len = (uint32_t)len, .payload_len = (uint32_t)len,
  };
  CHECK(rum__wire_frame_seal(buf, RUM_WIRE_HEADER_SIZE + len, &h, keyed ? &key : NULL) == 0, "seal");
  return RUM_WIRE_HEADER_SIZE + len;
}

static void frame_send(const uint8_t *buf, size_t len) {
  CHECK(sendto(sock, buf, len, 0, (const struct sockaddr *)&node, sizeof node) == (ssize_t)len, "sendto: %s",
        strerror(errno));
}

/* The reply to seq, within ms. Returns its type (RUM_MSG_ERROR: *code set) or -1 if
 * none came; the payload lands in out (cap bytes). */
static int frame_wait(uint64_t seq, int ms, uint8_t *out, size_t cap, uint32_t *out_len, int *code) {
  static uint8_t buf[FRAME_MAX];
  for (;;) {
    struct pollfd p = {.fd = sock, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) return -1;
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    struct rum_wire_header h;
    if (n <= 0 || rum__wire_frame_open(buf, (size_t)n, &h, keyed ? &key : NULL) != 0) continue;
    if (h.seq != seq || h.frag_count != 1) continue; /* an older reply */
    const uint8_t *payload = buf + RUM_WIRE_HEADER_SIZE;
    if (h.type == RUM_MSG_ERROR) {
      struct rum_msg_error e;
      CHECK(rum__wire_decode_error(payload, h.payload_len, &e) == 0, "error reply");
      *code = e.code;
      say("  seq %" PRIu64 " refused: %.*s", seq, (int)e.text_len, e.text);
      return RUM_MSG_ERROR;
    }
    CHECK(h.payload_len <= cap, "reply of %u bytes", h.payload_len);
    memcpy(out, payload, h.payload_len);
    if (out_len) *out_len = h.payload_len;
    *code = 0;
    return h.type;
  }
}

static uint8_t reply_buf[FRAME_MAX];
static uint32_t reply_len;

/* Send one request and wait for its answer: returns 0 or the node's error code. */
static int request(struct session *s, uint8_t type, const void *payload, size_t len) {
  static uint8_t buf[FRAME_MAX];
  size_t n = frame_build(buf, s, type, payload, len);
  for (int attempt = 0; attempt < 3; attempt++) {
    frame_send(buf, n);
    int code;
    int t = frame_wait(s->seq, WAIT_MS, reply_buf, sizeof reply_buf, &reply_len, &code);
    if (t >= 0) return t == RUM_MSG_ERROR ? code : 0;
  }
  CHECK(0, "no answer to a %u request", type);
  return 0;
}

static void hello(struct session *s) {
  uint8_t b[64];
  struct rum_msg_hello_req m = {.proto_version = RUM_WIRE_VERSION, .flags = RUM_HELLO_F_CLIENT};
  int len = rum__wire_encode_hello_req(b, sizeof b, &m);
  CHECK(request(s, RUM_MSG_HELLO, b, (size_t)len) == 0, "HELLO");
}

static int alloc(struct session *s, uint64_t id, uint64_t size, uint64_t reserve) {
  uint8_t b[64];
  struct rum_msg_alloc_req m = {.region_id = id, .size = size, .reserve = reserve};
  return request(s, RUM_MSG_ALLOC, b, (size_t)rum__wire_encode_alloc_req(b, sizeof b, &m));
}

static int free_region(struct session *s, uint64_t id) {
  uint8_t b[16];
  struct rum_msg_free_req m = {.region_id = id};
  return request(s, RUM_MSG_FREE, b, (size_t)rum__wire_encode_free_req(b, sizeof b, &m));
}

static int resize(struct session *s, uint64_t id, uint64_t size, uint64_t reserve) {
  uint8_t b[32];
  struct rum_msg_resize_req m = {.region_id = id, .new_size = size, .reserve = reserve};
  return request(s, RUM_MSG_RESIZE, b, (size_t)rum__wire_encode_resize_req(b, sizeof b, &m));
}

static int discard(struct session *s, uint64_t id) {
  uint8_t b[64];
  struct rum_msg_discard_req m = {.region_id = id, .nranges = 1, .ranges = {{.first_page = 0, .npages = 1}}};
  return request(s, RUM_MSG_DISCARD, b, (size_t)rum__wire_encode_discard_req(b, sizeof b, &m));
}

static int copy(struct session *s, uint64_t src, uint64_t dst) {
  uint8_t b[32];
  struct rum_msg_copy_req m = {.src_region = src, .dst_region = dst, .first_page = 0, .npages = 1};
  return request(s, RUM_MSG_COPY, b, (size_t)rum__wire_encode_copy_req(b, sizeof b, &m));
}

/* A WRITE of one page of byte `fill` at page index `page`: its payload in out. */
static size_t write_payload(uint8_t *out, uint64_t id, uint64_t page, uint8_t fill) {
  struct rum_msg_write_req m = {.region_id = id, .npages = 1, .page_index = {page}};
  int fixed = rum__wire_encode_write_req_fixed(out, 64, &m);
  CHECK(fixed > 0, "encode write");
  memset(out + fixed, fill, PS);
  return (size_t)fixed + PS;
}

static int write_page(struct session *s, uint64_t id, uint64_t page, uint8_t fill) {
  static uint8_t b[64 + PS];
  return request(s, RUM_MSG_WRITE, b, write_payload(b, id, page, fill));
}

/* READ one page; returns 0 and its first byte in *fill (the page must be uniform). */
static int read_page(struct session *s, uint64_t id, uint64_t page, uint8_t *fill) {
  uint8_t b[32];
  struct rum_msg_read_req m = {.region_id = id, .first_page = page, .npages = 1};
  int rc = request(s, RUM_MSG_READ, b, (size_t)rum__wire_encode_read_req(b, sizeof b, &m));
  if (rc != 0) return rc;
  struct rum_msg_read_resp r;
  CHECK(rum__wire_decode_read_resp(reply_buf, reply_len, &r) == 0 && r.npages == 1, "read reply");
  for (size_t i = 1; i < PS; i++) CHECK(r.data[i] == r.data[0], "page %" PRIu64 " is not uniform", page);
  *fill = r.data[0];
  return 0;
}

static void stat(struct session *s, struct rum_msg_stat_resp *out) {
  CHECK(request(s, RUM_MSG_STAT, NULL, 0) == 0, "STAT");
  CHECK(rum__wire_decode_stat_resp(reply_buf, reply_len, out) == 0, "stat reply");
}

/* The first leased region of `owner` in the node's REGIONS listing (rumctl's view). */
static uint64_t find_region_of(struct session *looker, uint32_t owner) {
  uint8_t b[16];
  struct rum_msg_regions_req m = {0};
  CHECK(request(looker, RUM_MSG_REGIONS, b, (size_t)rum__wire_encode_regions_req(b, sizeof b, &m)) == 0,
        "REGIONS");
  static struct rum_msg_regions_resp r;
  CHECK(rum__wire_decode_regions_resp(reply_buf, reply_len, &r) == 0, "regions reply");
  for (uint32_t i = 0; i < r.count; i++)
    if (r.entries[i].owner_id == owner && !(r.entries[i].flags & RUM_REGION_F_NAMED)) return r.entries[i].region_id;
  CHECK(0, "no region of client %u listed", owner);
  return 0;
}

/* B tries everything on A's region `victim`; B's own region `mine` is the other side of
 * the copies. Returns the number of refused requests. */
static unsigned attack(struct session *b, uint64_t victim, uint64_t mine) {
  uint8_t fill;
  unsigned n = 0;
  CHECK(read_page(b, victim, 0, &fill) == RUM_EPERM, "READ of another session's region"); n++;
  CHECK(write_page(b, victim, 0, 0x66) == RUM_EPERM, "WRITE"); n++;
  CHECK(resize(b, victim, 1 << 20, 1 << 20) == RUM_EPERM, "RESIZE"); n++;
  CHECK(discard(b, victim) == RUM_EPERM, "DISCARD"); n++;
  if (mine != 0) {
    CHECK(copy(b, victim, mine) == RUM_EPERM, "COPY out of it"); n++;
    CHECK(copy(b, mine, victim) == RUM_EPERM, "COPY into it"); n++;
  }
  CHECK(free_region(b, victim) == RUM_EPERM, "FREE"); n++;
  return n;
}

static void scenario_owner(void) {
  struct session a = session_new(5001), b = session_new(5002), a2 = session_new(5001);
  hello(&a);
  hello(&b);
  hello(&a2);
  const uint64_t ida = 0x1234000000000001ull, idb = 0x1234000000000002ull;
  CHECK(alloc(&a, ida, 4 * PS, 4 * PS) == 0, "A's ALLOC");
  CHECK(write_page(&a, ida, 0, 0xa1) == 0, "A's WRITE");
  CHECK(alloc(&b, idb, 4 * PS, 4 * PS) == 0, "B's ALLOC");
  struct rum_msg_stat_resp before, after;
  stat(&b, &before);
  uint64_t victim = find_region_of(&b, a.sender);
  CHECK(victim == ida, "listed region %016" PRIx64, victim);
  unsigned refused = attack(&b, victim, idb);
  /* The same client id with another session is another session: refused too. */
  refused += attack(&a2, victim, 0);
  stat(&b, &after);
  CHECK(after.access_denied - before.access_denied == refused, "access_denied grew by %" PRIu64 ", want %u",
        after.access_denied - before.access_denied, refused);
  uint8_t fill = 0;
  CHECK(read_page(&a, ida, 0, &fill) == 0 && fill == 0xa1, "A's page is %02x", fill);
  CHECK(resize(&a, ida, 8 * PS, 8 * PS) == 0, "the owner resizes");
  CHECK(free_region(&a, ida) == 0 && free_region(&b, idb) == 0, "owners free");
  say("owner: %u requests on another session's region refused (RUM_EPERM) and counted", refused);
}

static void scenario_limits(void) {
  struct session a = session_new(5003);
  hello(&a);
  const uint64_t id = 0x1234000000000003ull;
  CHECK(alloc(&a, id, 2 * PS + 1, 3 * PS) == 0, "ALLOC");
  struct rum_msg_stat_resp before, after;
  stat(&a, &before);
  uint8_t fill;
  CHECK(read_page(&a, id, 2, &fill) == 0, "the last (partial) page reads");
  CHECK(read_page(&a, id, 3, &fill) == RUM_EINVAL, "READ past the end");
  CHECK(write_page(&a, id, 3, 1) == RUM_EINVAL, "WRITE past the end");
  CHECK(write_page(&a, id, UINT64_C(1) << 40, 1) != 0, "WRITE far past the end");
  CHECK(read_page(&a, 0x7777777777777777ull, 0, &fill) == RUM_ENOENT, "READ of a forged id");
  CHECK(write_page(&a, 0x7777777777777777ull, 0, 1) == RUM_ENOENT, "WRITE to a forged id");
  CHECK(free_region(&a, 0x7777777777777777ull) == RUM_ENOENT, "FREE of a forged id");
  /* READ of 65 pages: the encoder refuses, so the bytes are laid out here. */
  uint8_t b[20];
  uint64_t first = 0;
  uint32_t npages = RUM_WIRE_MAX_PAGES + 1;
  memcpy(b, &id, 8), memcpy(b + 8, &first, 8), memcpy(b + 16, &npages, 4);
  CHECK(request(&a, RUM_MSG_READ, b, sizeof b) == RUM_EPROTO, "READ of %u pages", npages);
  stat(&a, &after);
  CHECK(after.out_of_range - before.out_of_range >= 2, "out_of_range counted");
  CHECK(after.no_region - before.no_region == 3, "no_region +%" PRIu64, after.no_region - before.no_region);
  CHECK(after.oversized - before.oversized == 1, "oversized +%" PRIu64, after.oversized - before.oversized);
  CHECK(free_region(&a, id) == 0, "FREE");
  say("limits: past-the-end, forged ids and oversized READs refused and counted");
}

static void scenario_quota(uint64_t quota_mb) {
  CHECK(quota_mb >= 2, "--quota-mb M (the node's --client-quota-mb) is needed");
  struct session a = session_new(5004), b = session_new(5005);
  hello(&a);
  hello(&b);
  uint64_t mb = 1 << 20, used = 0, id = 0x1234000000000100ull;
  int rc = 0;
  while ((rc = alloc(&a, ++id, mb, mb)) == 0) used += mb;
  CHECK(rc == RUM_EDQUOT && used == quota_mb * mb, "A allocated %" PRIu64 " MiB, then %s", used >> 20,
        rum_strerror(rc));
  CHECK(resize(&a, id - 1, 2 * mb, 2 * mb) == RUM_EDQUOT, "a RESIZE past the quota");
  CHECK(resize(&a, id - 1, mb / 2, mb / 2) == 0, "a shrinking RESIZE");
  CHECK(alloc(&a, id, mb / 2, mb / 2) == 0, "what the shrink gave back is allocatable");
  CHECK(alloc(&a, id + 1, mb, 0) == 0, "an ALLOC reserving nothing");
  CHECK(write_page(&a, id - 1, 1, 7) == 0, "a WRITE inside the reservation");
  CHECK(write_page(&a, id + 1, 0, 7) == RUM_EDQUOT, "a WRITE past reservation and quota");
  CHECK(alloc(&b, 0x1234000000000ff0ull, quota_mb * mb, quota_mb * mb) == 0, "B is not affected");
  struct rum_msg_stat_resp st;
  stat(&a, &st);
  CHECK(st.quota_denied == 3, "quota_denied %" PRIu64, st.quota_denied);
  say("quota: %" PRIu64 " MiB allocated, then RUM_EDQUOT; another session unaffected", used >> 20);
}

/* The page of region id as session s reads it now. */
static uint8_t page_fill(struct session *s, uint64_t id) {
  uint8_t fill = 0;
  CHECK(read_page(s, id, 0, &fill) == 0, "READ");
  return fill;
}

/* Send the captured frame again; the node must not run it: no answer, or the cached one. */
static void replay(const uint8_t *frame, size_t len, uint64_t seq) {
  uint8_t out[64];
  int code;
  frame_send(frame, len);
  (void)frame_wait(seq, QUIET_MS, out, sizeof out, NULL, &code);
}

static void scenario_replay(void) {
  CHECK(keyed, "replay needs --key-file");
  struct session a = session_new(5006);
  hello(&a);
  const uint64_t id = 0x1234000000000200ull;
  CHECK(alloc(&a, id, PS, PS) == 0, "ALLOC");
  static uint8_t old[FRAME_MAX], payload[64 + PS];
  size_t old_len = frame_build(old, &a, RUM_MSG_WRITE, payload, write_payload(payload, id, 0, 0x0a));
  uint64_t old_seq = a.seq;
  frame_send(old, old_len);
  int code;
  CHECK(frame_wait(old_seq, WAIT_MS, reply_buf, sizeof reply_buf, NULL, &code) == RUM_MSG_WRITE, "the WRITE");
  CHECK(write_page(&a, id, 0, 0x0b) == 0, "a newer WRITE");
  replay(old, old_len, old_seq);
  CHECK(page_fill(&a, id) == 0x0b, "a replay at once put old bytes back");
  /* Pushed out of the node's session table (256 sessions) by 300 others: the node must
   * still know which of this session's recent seqs ran. */
  for (uint32_t i = 0; i < 300; i++) {
    struct session other = session_new(6000 + i);
    CHECK(request(&other, RUM_MSG_PING, NULL, 0) == 0, "PING");
  }
  replay(old, old_len, old_seq);
  CHECK(page_fill(&a, id) == 0x0b, "a replay after the session was evicted put old bytes back");
  /* A tampered frame (its CRC made right again: only the MAC can tell) and an unkeyed one. */
  struct rum_msg_stat_resp before, after;
  stat(&a, &before);
  static uint8_t bad[FRAME_MAX];
  memcpy(bad, old, old_len);
  bad[old_len - 1] ^= 1;
  memset(bad + 52, 0, 4); /* the checksum field (wire.h's layout) */
  uint32_t crc = rum__crc32c(0, bad, old_len);
  for (int i = 0; i < 4; i++) bad[52 + i] = (uint8_t)(crc >> (8 * i));
  frame_send(bad, old_len);
  keyed = false;
  size_t plain = frame_build(bad, &a, RUM_MSG_WRITE, payload, write_payload(payload, id, 0, 0x0c));
  keyed = true;
  frame_send(bad, plain);
  /* The node's STAT shows its RPC counters as of its loop's last pass: poll a while. */
  for (int i = 0; i < 40; i++) {
    stat(&a, &after);
    if (after.auth_drops - before.auth_drops >= 2) break;
    usleep(50 * 1000);
  }
  CHECK(after.auth_drops - before.auth_drops == 2, "auth_drops +%" PRIu64, after.auth_drops - before.auth_drops);
  CHECK(page_fill(&a, id) == 0x0b, "a tampered or unkeyed frame wrote");
  /* Past the de-duplication window. */
  for (int i = 0; i < 4200; i++) CHECK(request(&a, RUM_MSG_PING, NULL, 0) == 0, "PING");
  replay(old, old_len, old_seq);
  CHECK(page_fill(&a, id) == 0x0b, "a replay past the window put old bytes back");
  CHECK(free_region(&a, id) == 0, "FREE");
  say("replay: old WRITE never ran again; tampered and unkeyed frames dropped and counted");
}

static void scenario_steal(uint64_t victim) {
  CHECK(victim != 0, "--region ID is needed");
  struct session b = session_new(5007);
  hello(&b);
  struct rum_msg_stat_resp before, after;
  stat(&b, &before);
  unsigned refused = attack(&b, victim, 0);
  stat(&b, &after);
  CHECK(after.access_denied - before.access_denied == refused, "access_denied counted");
  say("steal: %u requests on region %016" PRIx64 " refused", refused, victim);
}

int main(int argc, char **argv) {
  const char *scenario = argc > 1 ? argv[1] : "";
  const char *key_file = NULL;
  uint16_t port = 0;
  uint64_t region = 0, quota_mb = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) port = (uint16_t)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--key-file") == 0) key_file = argv[i + 1];
    else if (strcmp(argv[i], "--region") == 0) region = strtoull(argv[i + 1], NULL, 0);
    else if (strcmp(argv[i], "--quota-mb") == 0) quota_mb = strtoull(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "security_test: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const char *path = getenv("RUM_MACHINES");
  if (port == 0 || path == NULL) {
    fprintf(stderr, "usage: RUM_MACHINES=FILE security_test owner|limits|quota|replay|steal --port P ...\n");
    return 2;
  }
  static struct rum_machines machines;
  char err[256];
  CHECK(rum__machines_load(path, &machines, err, sizeof err) == 0, "%s", err);
  if (key_file != NULL) {
    uint8_t raw[RUM_WIRE_KEY_SIZE];
    CHECK(rum__machines_load_key(key_file, raw, err, sizeof err) == 0, "%s", err);
    rum__wire_key_init(&key, raw);
    keyed = true;
  }
  node = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = machines.nodes[0].ipv4,
                              .sin_port = htons(machines.nodes[0].port)};
  sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in self = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
  CHECK(sock >= 0 && bind(sock, (struct sockaddr *)&self, sizeof self) == 0, "bind port %u: %s", port, strerror(errno));
  if (strcmp(scenario, "owner") == 0) scenario_owner();
  else if (strcmp(scenario, "limits") == 0) scenario_limits();
  else if (strcmp(scenario, "quota") == 0) scenario_quota(quota_mb);
  else if (strcmp(scenario, "replay") == 0) scenario_replay();
  else if (strcmp(scenario, "steal") == 0) scenario_steal(region);
  else {
    fprintf(stderr, "security_test: unknown scenario '%s'\n", scenario);
    return 2;
  }
  close(sock);
  return 0;
}
