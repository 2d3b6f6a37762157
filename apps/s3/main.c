/* rum-s3: command line and keys, start-up (RUM, the store, the HTTP daemon on its own
 * polling thread), the lock's heartbeat every second, and SIGTERM/SIGINT stopping it
 * cleanly after writing everything back. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/crypto.h>
#include <rum/rum.h>

#include "gw.h"
#include "xml.h"

struct s3_gateway gw = {.store_lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: rum-s3 --store NAME [--port 9000] [--bind 127.0.0.1] [--machines FILE]\n"
          "              [--access-key K] [--secret-key S] [--keys-file FILE] [--region us-east-1]\n"
          "              [--domain D] [--cache-mb N] [--timeout S] [--max-connections N]\n"
          "              [--sync always|everysec] [--journal-mb N]\n"
          "keys: --keys-file, else $RUM_S3_ACCESS_KEY/$RUM_S3_SECRET_KEY, else\n"
          "      $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, else the options\n");
}

static void on_stop(int sig) {
  (void)sig;
  gw.stop = 1;
}

/* "access_key = K" and "secret_key = S" lines (s3cmd's names; aws_access_key_id and
 * aws_secret_access_key work too); '#' starts a comment. */
static int read_keys_file(const char *path, char **ak, char **sk) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return fprintf(stderr, "rum-s3: cannot read --keys-file %s: %s\n", path, strerror(errno)), -1;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char name[64], value[400];
    if (line[0] == '#' || sscanf(line, " %63[a-z_] = %399s", name, value) != 2) continue;
    if (!strcmp(name, "access_key") || !strcmp(name, "aws_access_key_id")) free(*ak), *ak = strdup(value);
    if (!strcmp(name, "secret_key") || !strcmp(name, "aws_secret_access_key")) free(*sk), *sk = strdup(value);
  }
  OPENSSL_cleanse(line, sizeof line);
  fclose(f);
  return 0;
}

static int parse_args(int argc, char **argv, const char **keys_file) {
  static const struct option opts[] = {
      {"port", 1, 0, 'p'},       {"bind", 1, 0, 'b'},       {"machines", 1, 0, 'm'},
      {"store", 1, 0, 's'},      {"access-key", 1, 0, 'a'}, {"secret-key", 1, 0, 'k'},
      {"keys-file", 1, 0, 'f'},  {"region", 1, 0, 'r'},     {"domain", 1, 0, 'd'},
      {"cache-mb", 1, 0, 'c'},   {"timeout", 1, 0, 't'},    {"max-connections", 1, 0, 'x'},
      {"sync", 1, 0, 'y'},       {"journal-mb", 1, 0, 'j'}, {"help", 0, 0, 'h'},
      {0, 0, 0, 0}};
  struct s3_config *cfg = &gw.cfg;
  cfg->port = 9000;
  cfg->bind = "127.0.0.1";
  cfg->domain = "localhost";
  cfg->keys.region = "us-east-1";
  cfg->timeout_s = 60;
  cfg->max_connections = 1000;
  cfg->sync_always = 1;
  cfg->journal_mb = 64;
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'p': cfg->port = atoi(optarg); break;
    case 'b': cfg->bind = optarg; break;
    case 'm': cfg->machines = optarg; break;
    case 's': cfg->store = optarg; break;
    case 'a': cfg->keys.access_key = optarg; break;
    case 'k': cfg->keys.secret_key = optarg; break;
    case 'f': *keys_file = optarg; break;
    case 'r': cfg->keys.region = optarg; break;
    case 'd': cfg->domain = optarg[0] ? optarg : NULL; break;
    case 'c': cfg->cache_mb = atoi(optarg); break;
    case 'j': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*optarg == 0 || *end != 0 || v < 0 || v > (1 << 20))
        return fprintf(stderr, "rum-s3: --journal-mb takes 0 (no journal) or a size in MiB\n"), -1;
      cfg->journal_mb = (int)v;
      break;
    }
    case 't': cfg->timeout_s = atoi(optarg); break;
    case 'x': cfg->max_connections = atoi(optarg); break;
    case 'y':
      if (!strcmp(optarg, "always")) cfg->sync_always = 1;
      else if (!strcmp(optarg, "everysec")) cfg->sync_always = 0;
      else return fprintf(stderr, "rum-s3: --sync takes always or everysec\n"), -1;
      break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc) return fprintf(stderr, "rum-s3: unexpected argument '%s'\n", argv[optind]), -1;
  if (cfg->store == NULL) return fprintf(stderr, "rum-s3: --store NAME is required\n"), usage(stderr), -1;
  if (cfg->port < 1 || cfg->port > 65535) return fprintf(stderr, "rum-s3: --port must be 1..65535\n"), -1;
  if (cfg->cache_mb < 0) return fprintf(stderr, "rum-s3: --cache-mb must be positive\n"), -1;
  if (cfg->timeout_s < 1) return fprintf(stderr, "rum-s3: --timeout must be at least 1 second\n"), -1;
  if (cfg->max_connections < 1) return fprintf(stderr, "rum-s3: --max-connections must be at least 1\n"), -1;
  if (!cfg->keys.region[0] || strlen(cfg->keys.region) > 32)
    return fprintf(stderr, "rum-s3: --region must be 1..32 characters\n"), -1;
  return 0;
}

/* Keys: file, then environment, then the options (which are visible in ps). */
static int resolve_keys(const char *keys_file) {
  char *ak = NULL, *sk = NULL;
  if (keys_file && read_keys_file(keys_file, &ak, &sk) != 0) return -1;
  const char *eak = getenv("RUM_S3_ACCESS_KEY") ? getenv("RUM_S3_ACCESS_KEY") : getenv("AWS_ACCESS_KEY_ID");
  const char *esk = getenv("RUM_S3_SECRET_KEY") ? getenv("RUM_S3_SECRET_KEY") : getenv("AWS_SECRET_ACCESS_KEY");
  if (ak == NULL && eak) ak = strdup(eak);
  if (sk == NULL && esk) sk = strdup(esk);
  if (ak) gw.cfg.keys.access_key = ak;
  if (sk) gw.cfg.keys.secret_key = sk;
  const struct s3_keys *k = &gw.cfg.keys;
  if (k->access_key == NULL || k->secret_key == NULL || !k->access_key[0] || !k->secret_key[0])
    return fprintf(stderr, "rum-s3: no keys: give --keys-file, $RUM_S3_ACCESS_KEY and $RUM_S3_SECRET_KEY, "
                           "or --access-key and --secret-key\n"), -1;
  if (strlen(k->access_key) > 128 || strlen(k->secret_key) > 128)
    return fprintf(stderr, "rum-s3: keys are at most 128 characters\n"), -1;
  return 0;
}

/* MHD's own thread serves every request (and alone touches the store); this thread
 * beats the lock and, with --sync everysec, syncs. */
static int run(void) {
  while (!gw.stop) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    static int64_t last_beat;
    int64_t now = wall_ms();
    if (now - last_beat >= 1000) {
      kv_lock_heartbeat(gw.store.kv->lock);
      pthread_mutex_lock(&gw.store_lock);
      if ((__atomic_exchange_n(&gw.dirty, 0, __ATOMIC_ACQ_REL) || kv_sync_wanted(gw.store.kv)) &&
          kv_sync(gw.store.kv) != 0)
        gw.dirty = 1;
      pthread_mutex_unlock(&gw.store_lock);
      last_beat = now;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *keys_file = NULL;
  if (parse_args(argc, argv, &keys_file) != 0 || resolve_keys(keys_file) != 0) return 2;
  gw.now_ms = wall_ms;
  if (gw.cfg.cache_mb > 0) {
    char v[32];
    snprintf(v, sizeof v, "%d", gw.cfg.cache_mb);
    setenv("RUM_CACHE_MB", v, 1);
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)gw.cfg.max_connections + 64) {
    rl.rlim_cur = (rlim_t)gw.cfg.max_connections + 64 < rl.rlim_max ? (rlim_t)gw.cfg.max_connections + 64 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  s3_xml_init();
  int rc = rum_init(gw.cfg.machines);
  if (rc != 0) {
    fprintf(stderr, "rum-s3: rum_init: %s (check --machines or $RUM_MACHINES)\n", rum_strerror(rc));
    return 1;
  }
  char err[512] = "";
  rc = s3s_open(gw.cfg.store, (size_t)gw.cfg.journal_mb << 20, &gw.store, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "rum-s3: %s\n", err[0] ? err : rum_strerror(rc));
    rum_shutdown();
    return 1;
  }
  if (s3_http_start() != 0) {
    s3s_close(&gw.store);
    rum_shutdown();
    return 1;
  }
  fprintf(stderr, "rum-s3: store '%s' (%llu buckets) on http://%s:%d, region %s\n", gw.cfg.store,
          (unsigned long long)s3s_count(&gw.store, gw.store.buckets), gw.cfg.bind, gw.cfg.port, gw.cfg.keys.region);
  rc = run();
  s3_http_stop();
  int crc = s3s_close(&gw.store);
  if (crc != 0) fprintf(stderr, "rum-s3: write-back at stop failed: %s\n", rum_strerror(crc));
  rum_shutdown();
  return rc == 0 && crc == 0 ? 0 : 1;
}
