/* rumd: the memory node. Reads machines.csv, binds its row's address, and serves
 * region pages until SIGTERM or SIGINT. See `rumd --help`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rum/rum.h>

#include "cluster/machines.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "proto/wire.h"
#include "server/handlers.h"
#include "server/lease.h"
#include "server/page_store.h"
#include "server/replicated.h"
#include "util/clock.h"
#include "util/log.h"

enum {
  EXIT_USAGE = 2,              /* bad flags, values or configuration */
  DEFAULT_MEMORY_MB = 1024,
  MAX_MEMORY_MB = 1 << 24,     /* 16 TiB */
  SERVE_SLICE_MS = 50,         /* longest wait before the loop looks at signals and leases */
  MIN_TICK_MS = 10,
  MAX_TICK_MS = 100,
  RPC_SERVER_SLOTS = 32,       /* requests being reassembled at once (256 KiB each) */
  RPC_SERVER_SESSIONS = 256,   /* client sessions de-duplicated at once */
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signo) { stop_signal = signo; }

struct options {
  const char *machines;
  uint32_t id;
  uint64_t memory_mb;
  uint32_t lease_ms;        /* 0: from machines.csv, then the default */
  const char *transport;    /* NULL: from machines.csv, then $RUM_TRANSPORT, then udp */
  const char *dpdk_args;
  uint32_t mtu;             /* 0: from machines.csv, then the transport's default */
  const char *key_file;     /* NULL: from machines.csv */
  const char *pid_file;
  bool require_key;         /* refuse to start without a cluster key */
  uint64_t client_quota_mb; /* per client session; 0 = none */
  bool log_level_set;
  enum rum_log_level log_level;
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: rumd --machines FILE --id N [options]\n"
          "\n"
          "RUM memory node: stores region pages for RUM clients and serves them over the\n"
          "network at the address its row of machines.csv gives.\n"
          "\n"
          "  --machines FILE      the cluster file (machines.csv): nodes and settings (required)\n"
          "  --id N               this node's id, a row of FILE (required)\n"
          "  --memory-mb M        bytes of pages this node may hold, in MiB (default %d);\n"
          "                       writes beyond it fail with ENOSPC\n"
          "  --lease-ms MS        client lease: a client silent this long loses its un-named\n"
          "                       regions (default: lease_ms in FILE, else %d)\n"
          "  --log-level LEVEL    error, warn, info or debug (default: $RUM_LOG, else info)\n"
          "  --transport KIND     udp or dpdk (default: transport in FILE, $RUM_TRANSPORT, udp)\n"
          "  --dpdk-args \"...\"    DPDK EAL arguments for --transport dpdk (default $RUM_DPDK_ARGS)\n"
          "  --mtu BYTES          frame size, %d..%d (default: mtu in FILE, else the\n"
          "                       transport's: 65000 on loopback, 1472 otherwise)\n"
          "  --key-file PATH      cluster key (64 hex digits or 32 bytes): every frame is then\n"
          "                       authenticated (default: key_file in FILE, else none)\n"
          "  --require-key        refuse to start without a cluster key (without one, anyone who\n"
          "                       can reach the port can read and write this node's memory)\n"
          "  --client-quota-mb M  a client session may commit at most M MiB here; allocations\n"
          "                       past it fail with ENOMEM on that client (default: no quota)\n"
          "  --pid-file PATH      write the process id here once listening; removed at exit\n"
          "  --help               show this text and exit\n"
          "\n"
          "Environment: RUM_FAULT_INJECT=\"drop=P,dup=P,reorder=P,seed=N\" injects packet faults;\n"
          "RUM_LOG sets the log level; RUM_TRANSPORT and RUM_DPDK_ARGS as above.\n"
          "SIGTERM or SIGINT stops the node cleanly (exit status 0).\n"
          "Exit status: 0 stopped cleanly, 1 could not start, 2 bad arguments or configuration.\n",
          DEFAULT_MEMORY_MB, RUM_LEASE_DEFAULT_MS, RUM_WIRE_MIN_MTU, RUM_WIRE_MAX_FRAME);
}

static void __attribute__((noreturn)) die_v(bool hint, const char *fmt, va_list ap) {
  fputs("rumd: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs(hint ? "\n(rumd --help lists the options)\n" : "\n", stderr);
  exit(EXIT_USAGE);
}

/* A bad flag or value. */
static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  die_v(true, fmt, ap);
}

/* A bad machines.csv or key file: the message names the file and line. */
static void __attribute__((noreturn, format(printf, 1, 2))) die_config(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  die_v(false, fmt, ap);
}

/* A decimal number in [min, max], nothing else. */
static uint64_t parse_number(const char *flag, const char *text, uint64_t min, uint64_t max) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || v < min || v > max) {
    die_usage("%s wants a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'", flag, min, max,
              text);
  }
  return v;
}

static void parse_options(int argc, char **argv, struct options *o) {
  enum { OPT_MACHINES = 256, OPT_ID, OPT_MEMORY, OPT_LEASE, OPT_LOG, OPT_TRANSPORT, OPT_DPDK,
         OPT_MTU, OPT_KEY, OPT_PID, OPT_REQUIRE_KEY, OPT_QUOTA, OPT_HELP };
  static const struct option longopts[] = {
      {"machines", required_argument, NULL, OPT_MACHINES},
      {"id", required_argument, NULL, OPT_ID},
      {"memory-mb", required_argument, NULL, OPT_MEMORY},
      {"lease-ms", required_argument, NULL, OPT_LEASE},
      {"log-level", required_argument, NULL, OPT_LOG},
      {"transport", required_argument, NULL, OPT_TRANSPORT},
      {"dpdk-args", required_argument, NULL, OPT_DPDK},
      {"mtu", required_argument, NULL, OPT_MTU},
      {"key-file", required_argument, NULL, OPT_KEY},
      {"pid-file", required_argument, NULL, OPT_PID},
      {"require-key", no_argument, NULL, OPT_REQUIRE_KEY},
      {"client-quota-mb", required_argument, NULL, OPT_QUOTA},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  memset(o, 0, sizeof *o);
  o->memory_mb = DEFAULT_MEMORY_MB;
  opterr = 0; /* we say what was wrong ourselves */
  for (;;) {
    int prev = optind;
    int c = getopt_long(argc, argv, ":h", longopts, NULL);
    if (c == -1) break;
    switch (c) {
    case OPT_MACHINES: o->machines = optarg; break;
    case OPT_ID: o->id = (uint32_t)parse_number("--id", optarg, 1, RUM_NODE_ID_MAX); break;
    case OPT_MEMORY: o->memory_mb = parse_number("--memory-mb", optarg, 1, MAX_MEMORY_MB); break;
    case OPT_LEASE:
      o->lease_ms = (uint32_t)parse_number("--lease-ms", optarg, RUM_LEASE_MIN_MS, RUM_LEASE_MAX_MS);
      break;
    case OPT_LOG:
      if (rum__log_parse_level(optarg, &o->log_level) != 0)
        die_usage("--log-level wants error, warn, info or debug, not '%s'", optarg);
      o->log_level_set = true;
      break;
    case OPT_TRANSPORT:
      if (strcmp(optarg, "udp") != 0 && strcmp(optarg, "dpdk") != 0)
        die_usage("--transport wants udp or dpdk, not '%s'", optarg);
      o->transport = optarg;
      break;
    case OPT_DPDK: o->dpdk_args = optarg; break;
    case OPT_MTU: o->mtu = (uint32_t)parse_number("--mtu", optarg, RUM_WIRE_MIN_MTU, RUM_WIRE_MAX_FRAME); break;
    case OPT_KEY: o->key_file = optarg; break;
    case OPT_PID: o->pid_file = optarg; break;
    case OPT_REQUIRE_KEY: o->require_key = true; break;
    case OPT_QUOTA: o->client_quota_mb = parse_number("--client-quota-mb", optarg, 1, MAX_MEMORY_MB); break;
    case OPT_HELP:
    case 'h':
      usage(stdout);
      exit(0);
    case ':': die_usage("%s needs a value", argv[prev]);
    default: die_usage("unknown option '%s'", argv[prev]);
    }
  }
  if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
  if (o->machines == NULL) die_usage("--machines FILE is required");
  if (o->id == 0) die_usage("--id N is required");
}

static uint64_t random_nonzero(void) {
  uint64_t v = 0;
  while (v == 0) {
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) v = rum__now_ns() ^ ((uint64_t)getpid() << 32);
  }
  return v;
}

static int write_pid_file(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
  ssize_t w = write(fd, buf, (size_t)n);
  int rc = w == n ? 0 : -EIO;
  if (close(fd) != 0 && rc == 0) rc = -errno;
  return rc;
}

/* Lifecycle lines (listening, stopped) are printed at any log level: rum-cluster and
 * people starting nodes by hand wait for them. */
static void __attribute__((format(printf, 1, 2))) log_always(const char *fmt, ...) {
  enum rum_log_level saved = rum__log_get_level();
  if (saved < RUM_LOG_INFO) rum__log_set_level(RUM_LOG_INFO);
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  RUM_LOG_I("%s", line);
  rum__log_set_level(saved);
}

/* Everything a running node owns, torn down in reverse order by node_close(). */
struct node {
  struct rum_machines machines;
  const struct rum_node_info *self;
  struct rum_wire_key key;
  bool has_key;
  struct rum_transport *transport;
  struct rum_page_store *store;
  struct rum_lease_table *leases;
  struct rum_peers *peers;
  struct rum_server *server;
  struct rum_rpc *rpc;
  struct rum_replicated *repl; /* replication > 1 only */
  bool failed;                 /* stopped on an error, not a signal: exit 1 */
  uint32_t lease_ms;
  uint64_t started_ms;
};

static void forget_session(void *ctx, uint32_t sender, uint64_t session) {
  struct node *n = ctx;
  (void)sender;
  if (n->rpc != NULL) rum__rpc_forget_session(n->rpc, session);
}

static void load_config(const struct options *o, struct node *n) {
  char err[RUM_MACHINES_ERR_MAX];
  int rc = rum__machines_load(o->machines, &n->machines, err, sizeof err);
  if (rc != 0) die_config("%s", err);
  n->self = rum__machines_find(&n->machines, o->id);
  if (n->self == NULL) {
    char ids[256] = "";
    size_t len = 0;
    for (unsigned i = 0; i < n->machines.nnodes && len + 16 < sizeof ids; i++)
      len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%u", i ? ", " : "", n->machines.nodes[i].id);
    die_config("node id %u is not in %s (its nodes: %s)", o->id, o->machines, ids[0] ? ids : "none");
  }
  n->lease_ms = o->lease_ms ? o->lease_ms : n->machines.lease_ms ? n->machines.lease_ms : RUM_LEASE_DEFAULT_MS;
  if (n->lease_ms < RUM_LEASE_MIN_MS || n->lease_ms > RUM_LEASE_MAX_MS)
    die_config("lease_ms %u in %s is out of range %d..%d", n->lease_ms, o->machines, RUM_LEASE_MIN_MS,
              RUM_LEASE_MAX_MS);
  const char *key_file = o->key_file ? o->key_file : n->machines.key_file[0] ? n->machines.key_file : NULL;
  if (key_file != NULL) {
    uint8_t raw[RUM_WIRE_KEY_SIZE];
    rc = rum__machines_load_key(key_file, raw, err, sizeof err);
    if (rc != 0) die_config("cluster key: %s", err);
    rum__wire_key_init(&n->key, raw);
    explicit_bzero(raw, sizeof raw);
    n->has_key = true;
  } else if (o->require_key) {
    die_config("--require-key: no cluster key (give --key-file PATH or key_file= in %s)", o->machines);
  }
}

static int node_open(const struct options *o, struct node *n) {
  const char *kind = o->transport ? o->transport : n->machines.transport[0] ? n->machines.transport : NULL;
  struct rum_transport_config tc = {
      .kind = kind, .bind_ipv4 = n->self->ipv4, .bind_port = n->self->port,
      .mtu = o->mtu ? o->mtu : n->machines.mtu, .dpdk_args = o->dpdk_args,
  };
  int rc = rum__transport_open(&tc, &n->transport);
  if (rc != 0) {
    const char *shown = kind ? kind : getenv("RUM_TRANSPORT") ? getenv("RUM_TRANSPORT") : "udp";
    RUM_LOG_E("cannot open the %s transport on %s:%u: %s", shown, n->self->host, n->self->port,
              rum_strerror(rc));
    return rc;
  }
  struct rum_page_store_config pc = {.memory_limit = o->memory_mb << 20};
  n->store = rum__page_store_create(&pc);
  if (n->store == NULL) return RUM_ENOMEM;
  struct rum_lease_config lc = {.lease_ms = n->lease_ms, .store = n->store, .forget = forget_session,
                                .forget_ctx = n};
  rc = rum__lease_create(&lc, &n->leases);
  if (rc != 0) return rc;
  rc = rum__peers_create(&n->machines, n->self->id, n->machines.heartbeat_ms, &n->peers);
  if (rc != 0) return rc;
  struct rum_server_config sc = {
      .node_id = n->self->id, .incarnation = random_nonzero(), .mtu = n->transport->mtu,
      .store = n->store, .leases = n->leases, .peers = n->peers,
      .client_quota_bytes = o->client_quota_mb << 20,
  };
  rc = rum__server_create(&sc, &n->server);
  if (rc != 0) return rc;
  struct rum_rpc_config rc_cfg = {
      .self_id = n->self->id, .session = random_nonzero(), .key = n->has_key ? &n->key : NULL,
      .server_slots = RPC_SERVER_SLOTS, .server_sessions = RPC_SERVER_SESSIONS,
      .handler = rum__server_handle, .handler_ctx = n->server,
  };
  rc = rum__rpc_create(n->transport, &rc_cfg, &n->rpc);
  if (rc != 0) return rc;
  rum__server_attach_rpc(n->server, n->rpc);
  if (n->machines.replication > 1) {
    struct rum_replicated_config rcfg = {.self_id = n->self->id, .machines = &n->machines, .store = n->store,
                                         .rpc = n->rpc, .incarnation = sc.incarnation};
    rc = rum__replicated_create(&rcfg, rum__now_ns() / 1000000, &n->repl);
    if (rc != 0) {
      RUM_LOG_E("cannot start replication=%u: %s", n->machines.replication, rum_strerror(rc));
      return rc;
    }
    rum__server_attach_replicated(n->server, n->repl);
  }
  return 0;
}

static void node_close(struct node *n) {
  if (n->server != NULL) rum__server_attach_replicated(n->server, NULL);
  rum__replicated_destroy(n->repl);
  n->repl = NULL;
  rum__rpc_destroy(n->rpc);
  n->rpc = NULL;
  rum__server_destroy(n->server);
  rum__lease_destroy(n->leases);
  rum__peers_destroy(n->peers);
  n->peers = NULL;
  rum__page_store_destroy(n->store);
  rum__transport_destroy(n->transport);
  if (n->has_key) rum__wire_key_wipe(&n->key);
}

/* How long the loop may wait in the endpoint: a replicated node ticks its Paxos
 * cores every millisecond or so (heartbeats, retransmits, decisions to answer). */
enum { REPL_SLICE_US = 1000 };

static void serve(struct node *n) {
  uint64_t tick_ms = n->lease_ms / 10;
  if (tick_ms < MIN_TICK_MS) tick_ms = MIN_TICK_MS;
  if (tick_ms > MAX_TICK_MS) tick_ms = MAX_TICK_MS;
  uint64_t last_tick = rum__now_ns() / 1000000;
  struct rum_rpc_stats rs;
  while (!stop_signal) {
    int64_t slice_ns = n->repl != NULL ? (int64_t)REPL_SLICE_US * 1000 : (int64_t)SERVE_SLICE_MS * 1000000;
    int rc = rum__rpc_serve(n->rpc, slice_ns);
    if (rc < 0) RUM_LOG_W("serving requests: %s", rum_strerror(rc));
    if (n->repl != NULL) {
      uint64_t now_ns = rum__now_ns();
      rum__replicated_poll(n->repl, now_ns / 1000000, now_ns * 0x9e3779b97f4a7c15ull);
      if (rum__replicated_lost_state(n->repl)) {
        n->failed = true;
        stop_signal = SIGTERM;
        break;
      }
    }
    rum__rpc_stats(n->rpc, &rs);
    rum__server_set_rpc_stats(n->server, &rs);
    uint64_t now = rum__now_ns() / 1000000;
    if (now - last_tick >= tick_ms) {
      rum__lease_tick(n->leases, now);
      last_tick = now;
    }
    (void)rum__peers_tick(n->peers, n->rpc, now);
  }
}

static void log_summary(struct node *n) {
  struct rum_server_stats ss;
  struct rum_page_store_stats ps;
  struct rum_lease_stats ls;
  struct rum_rpc_stats rs;
  rum__server_stats(n->server, &ss);
  rum__page_store_stats(n->store, &ps);
  rum__lease_stats(n->leases, &ls);
  rum__rpc_stats(n->rpc, &rs);
  uint64_t up = rum__now_ns() / 1000000 - n->started_ms;
  log_always("stopping on %s after %" PRIu64 ".%03" PRIu64 " s: %" PRIu64 " requests (%" PRIu64
             " reads, %" PRIu64 " writes, %" PRIu64 " errors), %" PRIu64 " duplicates, %" PRIu64
             " frames dropped; %" PRIu64 " regions (%" PRIu64 " bytes) held; %" PRIu64
             " leases expired, %" PRIu64 " regions reclaimed",
             strsignal(stop_signal), up / 1000, up % 1000, ss.requests_total, ss.requests[RUM_MSG_READ],
             ss.requests[RUM_MSG_WRITE], ss.errors_total, rs.duplicates, rs.drops + rs.auth_drops,
             ps.regions, ps.memory_used, ls.expirations, ls.reclaimed_regions);
  if (n->repl != NULL) {
    static char groups[4096];
    struct rum_replicated_stats st;
    rum__replicated_stats(n->repl, &st);
    rum__replicated_describe(n->repl, groups, sizeof groups);
    log_always("replication=%u: %" PRIu64 " writes proposed here, %" PRIu64 " entries applied (%" PRIu64
               " failed), %" PRIu64 " redirects, %" PRIu64 " answered, %" PRIu64 " expired; %s",
               n->machines.replication, st.proposed, st.applied, st.apply_errors, st.redirects, st.answered,
               st.expired, groups);
  }
}

int main(int argc, char **argv) {
  struct options o;
  parse_options(argc, argv, &o);
  static char program[32];
  snprintf(program, sizeof program, "rumd-%u", o.id);
  rum__log_set_program(program);
  if (o.log_level_set) {
    rum__log_set_level(o.log_level);
  } else if (getenv("RUM_LOG") == NULL) {
    rum__log_set_level(RUM_LOG_INFO);
  }
  static struct node n; /* large (machines table); one per process */
  load_config(&o, &n);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = node_open(&o, &n);
  if (rc != 0) {
    if (rc == RUM_ENOMEM) RUM_LOG_E("out of memory while starting");
    node_close(&n);
    return 1;
  }
  if (o.pid_file != NULL && (rc = write_pid_file(o.pid_file)) != 0) {
    RUM_LOG_E("cannot write pid file %s: %s", o.pid_file, rum_strerror(rc));
    node_close(&n);
    return 1;
  }
  n.started_ms = rum__now_ns() / 1000000;
  char addr[INET_ADDRSTRLEN];
  struct in_addr ia = {.s_addr = n.transport->local.ipv4};
  inet_ntop(AF_INET, &ia, addr, sizeof addr);
  log_always("node %u listening on %s:%u (%s, mtu %u, %" PRIu64 " MiB, lease %u ms%s)", n.self->id, addr,
             n.transport->local.port, n.transport->ops->name, n.transport->mtu, o.memory_mb, n.lease_ms,
             n.has_key ? ", frames authenticated" : "");
  if (!n.has_key)
    RUM_LOG_W("no cluster key: anyone who can reach %s:%u can read and write this node's memory "
              "(set key_file in %s, or --key-file; --require-key refuses to start without one)",
              addr, n.transport->local.port, o.machines);
  if (o.client_quota_mb != 0) log_always("client quota: %" PRIu64 " MiB per client session", o.client_quota_mb);

  serve(&n);

  log_summary(&n);
  node_close(&n);
  if (o.pid_file != NULL) unlink(o.pid_file);
  return n.failed ? 1 : 0;
}
