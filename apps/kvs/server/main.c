/* rum-kvs: command line, start-up (RUM, the store and its lock, the listening
 * socket), and a clean stop on SIGTERM/SIGINT that writes everything back. */
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rum/rum.h>

#include "server.h"

struct server srv;

static void usage(FILE *f) {
  fprintf(f, "usage: rum-kvs --store NAME [--port P] [--bind ADDR] [--machines FILE] [--cache-mb N]\n"
             "               [--requirepass PW] [--maxclients N] [--sync always|everysec|no]\n"
             "               [--memcached-port P] [--journal-mb N]\n");
}

static void on_stop(int sig) {
  (void)sig;
  srv.stop = 1;
}

static int listen_on(const char *host, int port) {
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
  int rc = getaddrinfo(host, ps, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "rum-kvs: cannot resolve --bind %s: %s\n", host, gai_strerror(rc));
    return -1;
  }
  int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 511) != 0) {
    fprintf(stderr, "rum-kvs: cannot listen on %s:%d: %m\n", host, port);
    if (fd >= 0) close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

static int parse_args(int argc, char **argv) {
  static const struct option opts[] = {
      {"port", 1, 0, 'p'},   {"bind", 1, 0, 'b'},       {"machines", 1, 0, 'm'}, {"store", 1, 0, 's'},
      {"cache-mb", 1, 0, 'c'}, {"requirepass", 1, 0, 'a'}, {"maxclients", 1, 0, 'x'}, {"sync", 1, 0, 'y'},
      {"memcached-port", 1, 0, 'M'}, {"journal-mb", 1, 0, 'j'}, {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
  struct kvs_config *cfg = &srv.cfg;
  cfg->port = 6379;
  cfg->bind = "127.0.0.1";
  cfg->maxclients = 10000;
  cfg->sync = KVS_SYNC_EVERYSEC;
  cfg->journal_mb = 64;
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'p': cfg->port = atoi(optarg); break;
    case 'b': cfg->bind = optarg; break;
    case 'm': cfg->machines = optarg; break;
    case 's': cfg->store = optarg; break;
    case 'c': cfg->cache_mb = atoi(optarg); break;
    case 'j': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*optarg == 0 || *end != 0 || v < 0 || v > (1 << 20))
        return fprintf(stderr, "rum-kvs: --journal-mb takes 0 (no journal) or a size in MiB\n"), -1;
      cfg->journal_mb = (int)v;
      break;
    }
    case 'a': cfg->requirepass = optarg[0] ? optarg : NULL; break;
    case 'x': cfg->maxclients = atoi(optarg); break;
    case 'M':
      cfg->memcached_port = atoi(optarg);
      if (cfg->memcached_port < 1 || cfg->memcached_port > 65535)
        return fprintf(stderr, "rum-kvs: --memcached-port must be 1..65535\n"), -1;
      break;
    case 'y':
      if (!strcmp(optarg, "always")) cfg->sync = KVS_SYNC_ALWAYS;
      else if (!strcmp(optarg, "everysec")) cfg->sync = KVS_SYNC_EVERYSEC;
      else if (!strcmp(optarg, "no")) cfg->sync = KVS_SYNC_NO;
      else return fprintf(stderr, "rum-kvs: --sync takes always, everysec or no\n"), -1;
      break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc) return fprintf(stderr, "rum-kvs: unexpected argument '%s'\n", argv[optind]), -1;
  if (cfg->store == NULL) return fprintf(stderr, "rum-kvs: --store NAME is required\n"), usage(stderr), -1;
  if (cfg->port < 1 || cfg->port > 65535) return fprintf(stderr, "rum-kvs: --port must be 1..65535\n"), -1;
  /* The memcached protocol has no password: the same keys behind it would void one. */
  if (cfg->memcached_port && cfg->requirepass)
    return fprintf(stderr, "rum-kvs: --memcached-port has no authentication and cannot be combined with "
                           "--requirepass; serve memcached clients without a password on a trusted --bind\n"), -1;
  if (cfg->memcached_port == cfg->port)
    return fprintf(stderr, "rum-kvs: --memcached-port must differ from --port\n"), -1;
  if (cfg->maxclients < 1) return fprintf(stderr, "rum-kvs: --maxclients must be at least 1\n"), -1;
  if (cfg->cache_mb < 0) return fprintf(stderr, "rum-kvs: --cache-mb must be positive\n"), -1;
  return 0;
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) != 0) return 2;
  if (srv.cfg.cache_mb > 0) {
    char v[32];
    snprintf(v, sizeof v, "%d", srv.cfg.cache_mb);
    setenv("RUM_CACHE_MB", v, 1);
  }
  /* Room for maxclients sockets, as Redis asks for. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = (rlim_t)srv.cfg.maxclients + 64;
    if (rl.rlim_cur < want) {
      rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    srv.by_fd_cap = (int)rl.rlim_cur;
  }
  srv.by_fd = calloc((size_t)srv.by_fd_cap, sizeof *srv.by_fd);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  int rc = rum_init(srv.cfg.machines);
  if (rc != 0) {
    fprintf(stderr, "rum-kvs: rum_init: %s (check --machines or $RUM_MACHINES)\n", rum_strerror(rc));
    return 1;
  }
  char err[512] = "";
  rc = kv_open(srv.cfg.store, (size_t)srv.cfg.journal_mb << 20, &srv.store, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "rum-kvs: %s\n", err[0] ? err : rum_strerror(rc));
    return 1;
  }
  srv.mc_listen_fd = -1;
  srv.listen_fd = listen_on(srv.cfg.bind, srv.cfg.port);
  if (srv.listen_fd >= 0 && srv.cfg.memcached_port != 0) {
    srv.mc_listen_fd = listen_on(srv.cfg.bind, srv.cfg.memcached_port);
    if (srv.mc_listen_fd < 0) {
      close(srv.listen_fd);
      srv.listen_fd = -1;
    }
  }
  if (srv.listen_fd < 0) {
    kv_close(srv.store);
    return 1;
  }
  command_table_init();
  srv.start_ms = srv.last_save_ms = srv.last_sync_ms = srv.last_beat_ms = now_ms();
  srv.rng = (uint64_t)srv.start_ms ^ ((uint64_t)getpid() << 32);
  char mc[32] = "";
  if (srv.cfg.memcached_port) snprintf(mc, sizeof mc, ", memcached on %d", srv.cfg.memcached_port);
  fprintf(stderr, "rum-kvs: store '%s' (%llu keys) on %s:%d%s, sync %s\n", srv.cfg.store,
          (unsigned long long)kv_dbsize(srv.store), srv.cfg.bind, srv.cfg.port, mc,
          srv.cfg.sync == KVS_SYNC_ALWAYS ? "always" : srv.cfg.sync == KVS_SYNC_EVERYSEC ? "everysec" : "no");
  rc = net_run();
  close(srv.listen_fd);
  if (srv.mc_listen_fd >= 0) close(srv.mc_listen_fd);
  int crc = kv_close(srv.store);
  if (crc != 0) fprintf(stderr, "rum-kvs: write-back at stop failed: %s\n", rum_strerror(crc));
  rum_shutdown();
  return rc == 0 && crc == 0 ? 0 : 1;
}
