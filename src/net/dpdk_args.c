/* EAL argument splitting and adjustment (see dpdk_args.h). */
#include "net/dpdk_args.h"

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
      if (stored[5] == '\0') return fail(b, "empty port= in EAL arguments", NULL);
      b->out->port_hint = stored + 5;
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
