/* machines.csv: parse the node list and the cluster settings, load the cluster key.
 *
 * The parser works on a buffer with explicit lengths and never trusts a terminating
 * NUL, so a fuzzer can feed it anything. Every problem is reported as
 * "FILE:LINE: field NAME: what is wrong" because the person reading it is editing a
 * file by hand and needs to be told exactly where to look. */
#include "cluster/machines.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rum/rum_errors.h>

#include "proto/wire.h"
#include "util/log.h"

enum {
  FIELD_MAX = 256,              /* longest single field we copy out of a line */
  NODE_COLUMNS = 6,             /* id,host,port,mac,dpdk_dev,weight */
  WEIGHT_MAX = 1000,
  FILE_MAX_BYTES = 1 << 20,     /* a machines.csv larger than this is not one */
  KEY_FILE_MAX_BYTES = 4096,
  MS_SETTING_MAX = 86400000,    /* one day: anything longer is a typo */
};

/* A run of bytes inside the input; never NUL-terminated. */
struct span {
  const char *p;
  size_t len;
};

/* The settings, in the order their first-seen lines are kept in parse_ctx. */
enum setting {
  SET_KEY_FILE,
  SET_REPLICATION,
  SET_LEASE_MS,
  SET_HEARTBEAT_MS,
  SET_MTU,
  SET_TRANSPORT,
  SET_COUNT,
};

static const char *const setting_names[SET_COUNT] = {
    "key_file", "replication", "lease_ms", "heartbeat_ms", "mtu", "transport",
};

struct parse_ctx {
  const char *filename;
  char *err;
  size_t errlen;
  unsigned line;
  bool header_allowed;               /* a header is accepted only before the first node */
  unsigned setting_line[SET_COUNT];  /* 0 = not seen yet */
  struct rum_machines *m;
};

static void put_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put_err(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* Report a problem with one field of the current line; returns RUM_ECONFIG. */
static int fail(struct parse_ctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parse_ctx *c, const char *field, const char *fmt, ...) {
  if (c->err == NULL || c->errlen == 0)
    return RUM_ECONFIG;
  int n = snprintf(c->err, c->errlen, "%s:%u: field %s: ", c->filename, c->line, field);
  if (n >= 0 && (size_t)n < c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return RUM_ECONFIG;
}

static bool is_blank(char ch) { return ch == ' ' || ch == '\t'; }

static struct span trim(struct span s) {
  while (s.len > 0 && is_blank(s.p[0])) {
    s.p++;
    s.len--;
  }
  while (s.len > 0 && is_blank(s.p[s.len - 1]))
    s.len--;
  return s;
}

/* Copy a trimmed field into buf as a C string. Control characters (a NUL, a stray
 * CR in the middle of a line) are refused here so no later check can be fooled by a
 * string that ends earlier than its span. */
static int field_text(struct parse_ctx *c, const char *field, struct span s, char *buf,
                      size_t cap) {
  s = trim(s);
  if (s.len >= cap)
    return fail(c, field, "too long (%zu characters, at most %zu)", s.len, cap - 1);
  for (size_t i = 0; i < s.len; i++) {
    unsigned char ch = (unsigned char)s.p[i];
    if (ch < 0x20 || ch == 0x7f)
      return fail(c, field, "contains control character 0x%02x at column %zu", ch, i + 1);
  }
  memcpy(buf, s.p, s.len);
  buf[s.len] = '\0';
  return 0;
}

/* Decimal digits only: no sign, no spaces, no hex. A value too large for 64 bits
 * saturates, so the caller's range check reports it as out of range rather than as
 * "not a number". */
static bool parse_uint(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9')
      return false;
    unsigned digit = (unsigned)(*s - '0');
    v = v > (UINT64_MAX - digit) / 10 ? UINT64_MAX : v * 10 + digit;
  }
  *out = v;
  return true;
}

static int hex_value(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

static bool parse_mac(const char *s, uint8_t mac[6]) {
  if (strlen(s) != 17)
    return false;
  for (int i = 0; i < 6; i++) {
    int hi = hex_value(s[3 * i]), lo = hex_value(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
      return false;
    mac[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

/* Split a node line at commas. Returns the number of columns, or NODE_COLUMNS + 1
 * when there are more than NODE_COLUMNS (the rest is not looked at). */
static unsigned split_columns(struct span line, struct span cols[NODE_COLUMNS]) {
  unsigned n = 0;
  const char *p = line.p, *end = line.p + line.len;
  for (;;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma != NULL ? comma : end;
    if (n == NODE_COLUMNS)
      return NODE_COLUMNS + 1;
    cols[n++] = (struct span){p, (size_t)(stop - p)};
    if (comma == NULL)
      return n;
    p = comma + 1;
  }
}

static int parse_node_id(struct parse_ctx *c, struct span col, struct rum_node_info *node) {
  char buf[FIELD_MAX];
  uint64_t v;
  int rc = field_text(c, "id", col, buf, sizeof buf);
  if (rc < 0)
    return rc;
  if (buf[0] == '\0')
    return fail(c, "id", "missing (a node line is id,host,port[,mac[,dpdk_dev[,weight]]])");
  if (!parse_uint(buf, &v))
    return fail(c, "id", "'%s' is not a decimal number", buf);
  if (v > RUM_NODE_ID_MAX)
    return fail(c, "id", "%s is larger than the largest node id %d", buf, RUM_NODE_ID_MAX);
  node->id = (uint32_t)v;
  return 0;
}

static int parse_node_host(struct parse_ctx *c, struct span col, struct rum_node_info *node) {
  struct in_addr addr;
  int rc = field_text(c, "host", col, node->host, sizeof node->host);
  if (rc < 0)
    return rc;
  if (node->host[0] == '\0')
    return fail(c, "host", "missing (a dotted IPv4 address or localhost)");
  /* No DNS on purpose: a lookup can block or change between processes, and every
   * process of the cluster must agree on where each node is. */
  if (strcasecmp(node->host, "localhost") == 0) {
    node->ipv4 = htonl(INADDR_LOOPBACK);
    return 0;
  }
  if (inet_pton(AF_INET, node->host, &addr) != 1)
    return fail(c, "host", "'%s' is not a dotted IPv4 address or localhost (names are "
                "not looked up)", node->host);
  node->ipv4 = addr.s_addr;
  return 0;
}

static int parse_node_port(struct parse_ctx *c, struct span col, struct rum_node_info *node) {
  char buf[FIELD_MAX];
  uint64_t v;
  int rc = field_text(c, "port", col, buf, sizeof buf);
  if (rc < 0)
    return rc;
  if (buf[0] == '\0')
    return fail(c, "port", "missing (a UDP port 1..65535)");
  if (!parse_uint(buf, &v) || v == 0 || v > 65535)
    return fail(c, "port", "'%s' is not a UDP port 1..65535", buf);
  node->port = (uint16_t)v;
  return 0;
}

/* The optional columns: mac, dpdk_dev, weight. An empty column keeps the default. */
static int parse_node_optional(struct parse_ctx *c, const struct span *cols, unsigned ncols,
                               struct rum_node_info *node) {
  char buf[FIELD_MAX];
  uint64_t v;
  int rc;
  if (ncols > 3) {
    if ((rc = field_text(c, "mac", cols[3], buf, sizeof buf)) < 0)
      return rc;
    if (buf[0] != '\0') {
      if (!parse_mac(buf, node->mac))
        return fail(c, "mac", "'%s' is not a MAC address like aa:bb:cc:dd:ee:ff", buf);
      node->has_mac = true;
    }
  }
  if (ncols > 4) {
    if ((rc = field_text(c, "dpdk_dev", cols[4], node->dpdk_dev, sizeof node->dpdk_dev)) < 0)
      return rc;
    if (strpbrk(node->dpdk_dev, " \t") != NULL)
      return fail(c, "dpdk_dev", "'%s' contains a space", node->dpdk_dev);
  }
  if (ncols > 5) {
    if ((rc = field_text(c, "weight", cols[5], buf, sizeof buf)) < 0)
      return rc;
    if (buf[0] != '\0') {
      if (!parse_uint(buf, &v) || v < 1 || v > WEIGHT_MAX)
        return fail(c, "weight", "'%s' is not a weight 1..%d", buf, WEIGHT_MAX);
      node->weight = (uint32_t)v;
    }
  }
  return 0;
}

/* Ids and addresses must be unique: two lines for one node would give it two shares
 * of the ring, and two ids on one address would make replicas land together. */
static int check_unique(struct parse_ctx *c, const struct rum_node_info *node) {
  const struct rum_machines *m = c->m;
  for (unsigned i = 0; i < m->nnodes; i++) {
    const struct rum_node_info *other = &m->nodes[i];
    if (other->id == node->id)
      return fail(c, "id", "node id %u is already used on line %u", node->id, other->line);
    if (other->ipv4 == node->ipv4 && other->port == node->port)
      return fail(c, "port", "%s:%u is already used by node %u on line %u", node->host,
                  (unsigned)node->port, other->id, other->line);
  }
  return 0;
}

static int parse_node(struct parse_ctx *c, struct span line) {
  struct span cols[NODE_COLUMNS];
  struct rum_node_info node;
  unsigned ncols = split_columns(line, cols);
  int rc;

  if (ncols > NODE_COLUMNS)
    return fail(c, "#7", "too many columns: a node line is id,host,port,mac,dpdk_dev,weight");
  if (c->header_allowed && trim(cols[0]).len == 2 && strncasecmp(trim(cols[0]).p, "id", 2) == 0) {
    c->header_allowed = false;
    return 0;
  }
  memset(&node, 0, sizeof node);
  node.weight = 1;
  node.line = c->line;
  if ((rc = parse_node_id(c, cols[0], &node)) < 0)
    return rc;
  if (ncols < 2)
    return fail(c, "host", "missing (a node line is id,host,port[,mac[,dpdk_dev[,weight]]])");
  if ((rc = parse_node_host(c, cols[1], &node)) < 0)
    return rc;
  if (ncols < 3)
    return fail(c, "port", "missing (a node line is id,host,port[,mac[,dpdk_dev[,weight]]])");
  if ((rc = parse_node_port(c, cols[2], &node)) < 0)
    return rc;
  if ((rc = parse_node_optional(c, cols, ncols, &node)) < 0)
    return rc;
  if ((rc = check_unique(c, &node)) < 0)
    return rc;
  if (c->m->nnodes == RUM_MAX_NODES)
    return fail(c, "id", "too many nodes: at most %d are supported", RUM_MAX_NODES);
  c->m->nodes[c->m->nnodes++] = node;
  c->header_allowed = false;
  return 0;
}

static int setting_uint(struct parse_ctx *c, const char *name, const char *value,
                        uint64_t min, uint64_t max, uint32_t *out) {
  uint64_t v;
  if (!parse_uint(value, &v) || v < min || v > max)
    return fail(c, name, "'%s' is not a number %llu..%llu", value, (unsigned long long)min,
                (unsigned long long)max);
  *out = (uint32_t)v;
  return 0;
}

static int apply_setting(struct parse_ctx *c, enum setting which, const char *value) {
  struct rum_machines *m = c->m;
  const char *name = setting_names[which];
  switch (which) {
  case SET_KEY_FILE:
    if (strlen(value) >= sizeof m->key_file)
      return fail(c, name, "path too long (at most %zu characters)", sizeof m->key_file - 1);
    strcpy(m->key_file, value);
    return 0;
  case SET_REPLICATION:
    return setting_uint(c, name, value, 1, RUM_MAX_NODES, &m->replication);
  case SET_LEASE_MS:
    return setting_uint(c, name, value, 1, MS_SETTING_MAX, &m->lease_ms);
  case SET_HEARTBEAT_MS:
    return setting_uint(c, name, value, 1, MS_SETTING_MAX, &m->heartbeat_ms);
  case SET_MTU:
    return setting_uint(c, name, value, RUM_WIRE_MIN_MTU, 65535, &m->mtu);
  case SET_TRANSPORT:
    if (strcmp(value, "udp") != 0 && strcmp(value, "dpdk") != 0)
      return fail(c, name, "'%s' is not a transport (udp or dpdk)", value);
    strcpy(m->transport, value);
    return 0;
  case SET_COUNT:
    break;
  }
  return fail(c, name, "unknown setting");
}

static int parse_setting(struct parse_ctx *c, struct span line, const char *equals) {
  char name[FIELD_MAX], value[RUM_MACHINES_PATH_MAX + 1];
  struct span name_span = {line.p, (size_t)(equals - line.p)};
  struct span value_span = {equals + 1, (size_t)(line.p + line.len - equals - 1)};
  int rc;

  if ((rc = field_text(c, "(setting name)", name_span, name, sizeof name)) < 0)
    return rc;
  if (name[0] == '\0')
    return fail(c, "(setting name)", "missing before '=' (a setting is name=value)");
  int which = -1;
  for (int i = 0; i < SET_COUNT; i++)
    if (strcmp(name, setting_names[i]) == 0)
      which = i;
  if (which < 0)
    return fail(c, name, "unknown setting (known: key_file, replication, lease_ms, "
                "heartbeat_ms, mtu, transport)");
  if (c->setting_line[which] != 0)
    return fail(c, name, "set twice (first on line %u)", c->setting_line[which]);
  if ((rc = field_text(c, name, value_span, value, sizeof value)) < 0)
    return rc;
  if (value[0] == '\0')
    return fail(c, name, "missing value after '='");
  if ((rc = apply_setting(c, (enum setting)which, value)) < 0)
    return rc;
  c->setting_line[which] = c->line;
  return 0;
}

/* One line without its newline: drop the comment, skip blanks, then it is a setting
 * if an '=' comes before any ',' and a node (or the header) otherwise. */
static int parse_line(struct parse_ctx *c, struct span line) {
  const char *hash = memchr(line.p, '#', line.len);
  if (hash != NULL)
    line.len = (size_t)(hash - line.p);
  line = trim(line);
  if (line.len == 0)
    return 0;
  for (size_t i = 0; i < line.len; i++) {
    if (line.p[i] == ',')
      break;
    if (line.p[i] == '=')
      return parse_setting(c, line, line.p + i);
  }
  return parse_node(c, line);
}

/* Checks that need the whole file. */
static int check_whole(struct parse_ctx *c) {
  const struct rum_machines *m = c->m;
  if (m->nnodes == 0) {
    c->line = c->line == 0 ? 1 : c->line;
    return fail(c, "id", "no nodes listed (add one line id,host,port per memory node)");
  }
  if (m->replication > m->nnodes) {
    c->line = c->setting_line[SET_REPLICATION];
    return fail(c, "replication", "%u needs at least %u memory nodes (a replica group is that many "
                "distinct nodes); the file lists %u", m->replication, m->replication, m->nnodes);
  }
  if (m->lease_ms != 0 && m->heartbeat_ms != 0 && m->heartbeat_ms >= m->lease_ms) {
    c->line = c->setting_line[SET_HEARTBEAT_MS];
    return fail(c, "heartbeat_ms", "%u must be shorter than lease_ms %u (set on line %u), "
                "or every lease expires between heartbeats",
                m->heartbeat_ms, m->lease_ms, c->setting_line[SET_LEASE_MS]);
  }
  return 0;
}

static int parse_buffer(struct parse_ctx *c, const char *text, size_t len) {
  size_t pos = 0;
  int rc;
  /* Editors on some systems start a UTF-8 file with a byte-order mark. */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    pos = 3;
  while (pos < len) {
    const char *start = text + pos;
    const char *newline = memchr(start, '\n', len - pos);
    size_t line_len = newline != NULL ? (size_t)(newline - start) : len - pos;
    pos += line_len + (newline != NULL ? 1 : 0);
    c->line++;
    if (line_len > 0 && start[line_len - 1] == '\r')
      line_len--;
    if ((rc = parse_line(c, (struct span){start, line_len})) < 0)
      return rc;
  }
  return check_whole(c);
}

static void ctx_init(struct parse_ctx *c, const char *filename, struct rum_machines *out,
                     char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  c->filename = filename != NULL ? filename : "machines.csv";
  c->err = err;
  c->errlen = errlen;
  c->header_allowed = true;
  c->m = out;
  memset(out, 0, sizeof *out);
  if (err != NULL && errlen > 0)
    err[0] = '\0';
}

int rum__machines_parse(const char *text, size_t len, const char *filename,
                        struct rum_machines *out, char *err, size_t errlen) {
  struct parse_ctx c;
  ctx_init(&c, filename, out, err, errlen);
  int rc = parse_buffer(&c, text != NULL ? text : "", text != NULL ? len : 0);
  if (rc < 0)
    memset(out, 0, sizeof *out); /* a half-parsed cluster is never used by mistake */
  return rc;
}

/* Read a whole regular file of at most max bytes into a malloc'ed buffer. */
static int read_small_file(const char *path, size_t max, char **data, size_t *len,
                           char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    put_err(err, errlen, "%s: cannot open: %s", path, strerror(e));
    return (e == ENOENT || e == ENOTDIR) ? RUM_ENOENT : RUM_ECONFIG;
  }
  int rc = RUM_ECONFIG;
  char *buf = malloc(max + 1);
  size_t n = 0;
  if (buf == NULL) {
    put_err(err, errlen, "%s: out of memory reading it", path);
    rc = RUM_ENOMEM;
    goto out;
  }
  for (;;) {
    ssize_t got = read(fd, buf + n, max + 1 - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      put_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
      goto out;
    }
    if (got == 0)
      break;
    n += (size_t)got;
    if (n > max) {
      put_err(err, errlen, "%s: larger than %zu bytes; is this the right file?", path, max);
      goto out;
    }
  }
  *data = buf;
  *len = n;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  close(fd);
  return rc;
}

/* key_file names a path relative to the csv's folder, so that a cluster directory can
 * be moved or mounted elsewhere as a whole. Made absolute here so that later users
 * need not know where the csv was. */
static int resolve_key_file(const char *csv_path, struct rum_machines *m, unsigned key_line,
                            char *err, size_t errlen) {
  char joined[2 * RUM_MACHINES_PATH_MAX + 8];
  char cwd[RUM_MACHINES_PATH_MAX];
  const char *slash = strrchr(csv_path, '/');
  int dir_len = slash != NULL ? (int)(slash - csv_path) : 0;
  int n;

  if (m->key_file[0] == '\0' || m->key_file[0] == '/')
    return 0;
  const char *key = m->key_file;
  while (key[0] == '.' && key[1] == '/') /* "./x" adds nothing */
    key += 2;
  if (slash == csv_path) {
    n = snprintf(joined, sizeof joined, "/%s", key);
  } else if (slash != NULL && csv_path[0] == '/') {
    n = snprintf(joined, sizeof joined, "%.*s/%s", dir_len, csv_path, key);
  } else {
    if (getcwd(cwd, sizeof cwd) == NULL) {
      put_err(err, errlen, "%s:%u: field key_file: cannot make '%s' absolute: %s", csv_path,
              key_line, m->key_file, strerror(errno));
      return RUM_ECONFIG;
    }
    const char *dir = slash != NULL ? csv_path : "";
    while (dir_len >= 2 && dir[0] == '.' && dir[1] == '/') {
      dir += 2;
      dir_len -= 2;
    }
    if (dir_len == 1 && dir[0] == '.')
      dir_len = 0;
    if (dir_len > 0)
      n = snprintf(joined, sizeof joined, "%s/%.*s/%s", cwd, dir_len, dir, key);
    else
      n = snprintf(joined, sizeof joined, "%s/%s", cwd, key);
  }
  if (n < 0 || (size_t)n >= sizeof m->key_file) {
    put_err(err, errlen, "%s:%u: field key_file: path too long once made absolute "
            "(at most %zu characters)", csv_path, key_line, sizeof m->key_file - 1);
    return RUM_ECONFIG;
  }
  memcpy(m->key_file, joined, (size_t)n + 1);
  return 0;
}

int rum__machines_load(const char *path, struct rum_machines *out, char *err, size_t errlen) {
  char *text = NULL;
  size_t len = 0;
  memset(out, 0, sizeof *out);
  int rc = read_small_file(path, FILE_MAX_BYTES, &text, &len, err, errlen);
  if (rc < 0)
    return rc;

  struct parse_ctx c;
  ctx_init(&c, path, out, err, errlen);
  rc = parse_buffer(&c, text, len);
  if (rc == 0)
    rc = resolve_key_file(path, out, c.setting_line[SET_KEY_FILE], err, errlen);
  if (rc < 0)
    memset(out, 0, sizeof *out);
  free(text);
  return rc;
}

const struct rum_node_info *rum__machines_find(const struct rum_machines *m, uint32_t id) {
  for (unsigned i = 0; i < m->nnodes; i++)
    if (m->nodes[i].id == id)
      return &m->nodes[i];
  return NULL;
}

static bool is_space(uint8_t ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* 64 hex digits, optionally with whitespace around them (a trailing newline from an
 * editor or `openssl rand -hex 32 > key`). */
static bool decode_hex_key(const uint8_t *buf, size_t len, uint8_t key[32]) {
  size_t start = 0, end = len;
  while (start < end && is_space(buf[start]))
    start++;
  while (end > start && is_space(buf[end - 1]))
    end--;
  if (end - start != 64)
    return false;
  for (size_t i = 0; i < 32; i++) {
    int hi = hex_value((char)buf[start + 2 * i]), lo = hex_value((char)buf[start + 2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    key[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

int rum__machines_load_key(const char *key_file, uint8_t key[32], char *err, size_t errlen) {
  uint8_t buf[KEY_FILE_MAX_BYTES + 1];
  size_t n = 0;
  int rc = RUM_ECONFIG;
  struct stat st;

  if (key_file == NULL || key_file[0] == '\0') {
    put_err(err, errlen, "no key_file is set in machines.csv");
    return RUM_ENOENT;
  }
  int fd = open(key_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    put_err(err, errlen, "%s: cannot open the cluster key: %s", key_file, strerror(errno));
    return RUM_ECONFIG;
  }
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
    RUM_LOG_W("%s: the cluster key is readable by other users; chmod 600 it", key_file);
  for (;;) {
    ssize_t got = read(fd, buf + n, sizeof buf - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      put_err(err, errlen, "%s: cannot read the cluster key: %s", key_file, strerror(errno));
      goto out;
    }
    if (got == 0)
      break;
    n += (size_t)got;
    if (n == sizeof buf)
      break;
  }
  /* 32 bytes cannot be hex (that needs 64 digits), so the two forms never overlap. */
  if (n == 32) {
    memcpy(key, buf, 32);
    rc = 0;
  } else if (decode_hex_key(buf, n, key)) {
    rc = 0;
  } else {
    put_err(err, errlen, "%s: the cluster key must be 64 hex digits or exactly 32 raw "
            "bytes; the file has %s%zu bytes", key_file, n == sizeof buf ? "over " : "",
            n == sizeof buf ? (size_t)KEY_FILE_MAX_BYTES : n);
  }
out:
  if (rc < 0)
    explicit_bzero(key, 32);
  explicit_bzero(buf, sizeof buf);
  close(fd);
  return rc;
}
