/* EAL argument splitting and adjustment (see dpdk_args.h). */
#include "net/dpdk_args.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

struct builder {
  struct rum_dpdk_args *out;
  size_t used; /* bytes of out->text in use */
  char *err;
  size_t errlen;
};

static int fail(struct builder *b, const char *what, const char *detail) {
  snprintf(b->err, b->errlen, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
  return -1;
}

/* Copy len bytes of token into the text area; returns it, or NULL when full. */
static char *store(struct builder *b, const char *token, size_t len) {
  if (b->used + len + 1 > sizeof b->out->text) return NULL;
  char *dst = b->out->text + b->used;
  memcpy(dst, token, len);
  dst[len] = '\0';
  b->used += len + 1;
  return dst;
}

static int push(struct builder *b, char *token) {
  if (token == NULL) return fail(b, "EAL arguments too long", NULL);
  if (b->out->argc >= RUM_DPDK_ARGS_MAX) return fail(b, "too many EAL arguments", NULL);
  b->out->argv[b->out->argc++] = token;
  b->out->argv[b->out->argc] = NULL;
  return 0;
}

static int push_text(struct builder *b, const char *text) {
  return push(b, store(b, text, strlen(text)));
}

static bool token_is(const char *token, const char *name) {
  size_t n = strlen(name);
  if (strncmp(token, name, n) != 0) return false;
  if (token[n] == '\0' || token[n] == '=') return true;
  /* One-letter options take their value attached too ("-l0", "-m256"). */
  return name[0] == '-' && name[1] != '-' && name[2] == '\0';
}

bool rum__dpdk_args_has(const struct rum_dpdk_args *args, const char *name) {
  for (int i = 1; i < args->argc; i++) {
    if (token_is(args->argv[i], name)) return true;
  }
  return false;
}

/* The names of a port= token, comma separated, split in place (the token is our own
 * copy in out->text). */
static int port_list(struct builder *b, char *list) {
  struct rum_dpdk_args *a = b->out;
  for (char *name = list;;) {
    char *comma = strchr(name, ',');
    if (comma != NULL) *comma = '\0';
    if (name[0] == '\0') return fail(b, "empty name in port= of the EAL arguments", NULL);
    if (a->nport_names >= RUM_DPDK_MAX_PORTS) return fail(b, "too many port= names", name);
    a->port_names[a->nport_names++] = name;
    if (comma == NULL) return 0;
    name = comma + 1;
  }
}

/* Split text into tokens appended to argv. */
static int split(struct builder *b, const char *text) {
  const char *p = text;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p == '\0') return 0;
    char token[RUM_DPDK_ARGS_TEXT_MAX];
    size_t len = 0;
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
      if (*p == '\'' || *p == '"') {
        char quote = *p++;
        const char *close = strchr(p, quote);
        if (close == NULL) return fail(b, "unterminated quote in EAL arguments", NULL);
        size_t n = (size_t)(close - p);
        if (len + n >= sizeof token) return fail(b, "EAL arguments too long", NULL);
        memcpy(token + len, p, n);
        len += n;
        p = close + 1;
      } else {
        if (len + 1 >= sizeof token) return fail(b, "EAL arguments too long", NULL);
        token[len++] = *p++;
      }
    }
    char *stored = store(b, token, len);
    if (stored == NULL) return fail(b, "EAL arguments too long", NULL);
    if (strncmp(stored, "port=", 5) == 0) {
      if (port_list(b, stored + 5) != 0) return -1;
      continue;
    }
    if (strncmp(stored, "slot=", 5) == 0) continue; /* taken care of before (find_slot) */
    if (strncmp(stored, "ip=", 3) == 0) {
      struct in_addr a;
      if (inet_pton(AF_INET, stored + 3, &a) != 1 || a.s_addr == 0)
        return fail(b, "ip= wants a dotted IPv4 address other than 0.0.0.0", stored);
      b->out->ipv4 = a.s_addr;
      continue;
    }
    if (strcmp(stored, "-h") == 0 || strcmp(stored, "--help") == 0)
      return fail(b, "refusing EAL option (EAL would exit the process)", stored);
    if (push(b, stored) != 0) return -1;
  }
}

/* DPDK 22.11's EAL options and whether each takes a value (1: required, 2: only as
 * "--name=value"). Checked before rte_eal_init sees them: a typo there prints EAL's
 * whole usage on stdout and leaves the process unable to initialise DPDK at all. */
struct eal_option {
  const char *name;
  int value;
};
static const struct eal_option eal_options[] = {
    {"-a", 1},
    {"-b", 1},
    {"-c", 1},
    {"-d", 1},
    {"-l", 1},
    {"-m", 1},
    {"-n", 1},
    {"-r", 1},
    {"-s", 1},
    {"-S", 1},
    {"-v", 0},
    {"--allow", 1},
    {"--base-virtaddr", 1},
    {"--block", 1},
    {"--create-uio-dev", 0},
    {"--file-prefix", 1},
    {"--force-max-simd-bitwidth", 1},
    {"--huge-dir", 1},
    {"--huge-unlink", 2},
    {"--huge-worker-stack", 2},
    {"--in-memory", 0},
    {"--iova-mode", 1},
    {"--lcores", 1},
    {"--legacy-mem", 0},
    {"--log-level", 1},
    {"--main-lcore", 1},
    {"--match-allocations", 0},
    {"--mbuf-pool-ops-name", 1},
    {"--no-hpet", 0},
    {"--no-huge", 0},
    {"--no-pci", 0},
    {"--no-shconf", 0},
    {"--no-telemetry", 0},
    {"--proc-type", 1},
    {"--single-file-segments", 0},
    {"--socket-limit", 1},
    {"--socket-mem", 1},
    {"--syslog", 1},
    {"--telemetry", 0},
    {"--trace", 1},
    {"--trace-bufsz", 1},
    {"--trace-dir", 1},
    {"--trace-mode", 1},
    {"--vdev", 1},
    {"--vfio-intr", 1},
    {"--vfio-vf-token", 1},
    {"--vmware-tsc-map", 0},
};

static const struct eal_option *eal_option_find(const char *token, size_t len) {
  for (size_t i = 0; i < sizeof eal_options / sizeof eal_options[0]; i++) {
    if (strlen(eal_options[i].name) == len && strncmp(eal_options[i].name, token, len) == 0)
      return &eal_options[i];
  }
  return NULL;
}

/* Every user token must be a known option or the value of the one before. */
static int validate(struct builder *b) {
  struct rum_dpdk_args *a = b->out;
  for (int i = 1; i < a->argc; i++) {
    const char *t = a->argv[i];
    if (t[0] != '-' || t[1] == '\0' || strcmp(t, "--") == 0)
      return fail(b, "unexpected EAL argument (not an option, nor an option's value)", t);
    bool is_long = t[1] == '-';
    const char *eq = is_long ? strchr(t, '=') : NULL;
    size_t name_len = is_long ? (eq != NULL ? (size_t)(eq - t) : strlen(t)) : 2;
    const struct eal_option *o = eal_option_find(t, name_len);
    if (o == NULL) return fail(b, "unknown EAL option (DPDK 22.11 has no such option)", t);
    bool inline_value = is_long ? eq != NULL : t[2] != '\0';
    if (o->value == 0 && inline_value) return fail(b, "EAL option takes no value", t);
    if (o->value == 1 && !inline_value) {
      if (i + 1 >= a->argc) return fail(b, "EAL option needs a value", t);
      i++;
    }
  }
  return 0;
}

/* Drop every --in-memory token (see the header for why). */
static void remove_in_memory(struct rum_dpdk_args *a) {
  int kept = 1;
  for (int i = 1; i < a->argc; i++) {
    if (!token_is(a->argv[i], "--in-memory")) a->argv[kept++] = a->argv[i];
  }
  a->argc = kept;
  a->argv[kept] = NULL;
}

int rum__dpdk_args_prepare(const char *text, const char *program, const char *prefix,
                           const char *log_level, unsigned lcore, struct rum_dpdk_args *out,
                           char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  struct builder b = {.out = out, .used = 0, .err = err, .errlen = errlen};
  if (err != NULL && errlen > 0) err[0] = '\0';
  if (push_text(&b, program) != 0) return -1;
  if (text != NULL && split(&b, text) != 0) return -1;
  if (validate(&b) != 0) return -1;

  bool in_memory = rum__dpdk_args_has(out, "--in-memory");
  bool no_huge = rum__dpdk_args_has(out, "--no-huge");
  bool has_prefix = rum__dpdk_args_has(out, "--file-prefix");
  if (in_memory && no_huge) {
    remove_in_memory(out);
    in_memory = false;
  }
  out->user_argc = out->argc - 1;
  if (!in_memory && !has_prefix) {
    char option[256];
    int n = snprintf(option, sizeof option, "--file-prefix=%s", prefix);
    if (n < 0 || (size_t)n >= sizeof option) return fail(&b, "file prefix too long", prefix);
    if (push_text(&b, option) != 0) return -1;
    out->prefix_added = true;
  }
  if (!rum__dpdk_args_has(out, "--no-telemetry") && !rum__dpdk_args_has(out, "--telemetry")) {
    if (push_text(&b, "--no-telemetry") != 0) return -1;
  }
  if (!rum__dpdk_args_has(out, "--log-level")) {
    char option[64];
    snprintf(option, sizeof option, "--log-level=%s", log_level);
    if (push_text(&b, option) != 0) return -1;
  }
  if (!rum__dpdk_args_has(out, "-l") && !rum__dpdk_args_has(out, "-c") &&
      !rum__dpdk_args_has(out, "--lcores")) {
    char cpu[16];
    snprintf(cpu, sizeof cpu, "%u", lcore);
    if (push_text(&b, "-l") != 0 || push_text(&b, cpu) != 0) return -1;
  }
  return 0;
}

/* The next blank-separated token of *p (quotes not considered: slot= takes a plain
 * path); returns its length, 0 at the end. */
static size_t next_token(const char **p) {
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r') (*p)++;
  size_t n = 0;
  while ((*p)[n] != '\0' && (*p)[n] != ' ' && (*p)[n] != '\t' && (*p)[n] != '\n' && (*p)[n] != '\r')
    n++;
  return n;
}

int rum__dpdk_args_find_slot(const char *text, char *path, size_t pathlen, unsigned *count) {
  int found = 0;
  if (text == NULL) return 0;
  for (const char *p = text;;) {
    size_t n = next_token(&p);
    if (n == 0) return found;
    if (n > 5 && strncmp(p, "slot=", 5) == 0) {
      const char *spec = p + 5, *end = p + n, *colon = NULL;
      for (const char *c = spec; c < end; c++) {
        if (*c == ':') colon = c;
      }
      if (found || colon == NULL || colon == spec || (size_t)(colon - spec) >= pathlen) return -1;
      unsigned long v = 0;
      const char *d = colon + 1;
      if (d == end) return -1;
      for (; d < end; d++) {
        if (*d < '0' || *d > '9') return -1;
        v = v * 10 + (unsigned long)(*d - '0');
        if (v > RUM_DPDK_MAX_SLOTS) return -1;
      }
      if (v == 0) return -1;
      memcpy(path, spec, (size_t)(colon - spec));
      path[colon - spec] = '\0';
      *count = (unsigned)v;
      found = 1;
    }
    p += n;
  }
}

bool rum__dpdk_args_uses_slot(const char *text) {
  return text != NULL && strstr(text, "{slot") != NULL;
}

int rum__dpdk_args_expand_slot(const char *text, unsigned slot, char *out, size_t outlen) {
  char dec[8], hex[8];
  snprintf(dec, sizeof dec, "%u", slot);
  snprintf(hex, sizeof hex, "%02x", slot & 0xffu);
  size_t used = 0;
  for (const char *p = text; *p != '\0';) {
    const char *put = p;
    size_t n = 1;
    if (strncmp(p, "{slot}", 6) == 0) {
      put = dec;
      n = strlen(dec);
      p += 6;
    } else if (strncmp(p, "{slot:x}", 8) == 0) {
      put = hex;
      n = 2;
      p += 8;
    } else {
      p++;
    }
    if (used + n >= outlen) return -1;
    memcpy(out + used, put, n);
    used += n;
  }
  if (outlen == 0) return -1;
  out[used] = '\0';
  return 0;
}
