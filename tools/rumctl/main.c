/* rumctl: look at a running RUM cluster.
 *
 *   rumctl [--machines FILE] [--json] [--timeout-ms MS] status
 *   rumctl [...] stats NODE
 *   rumctl [...] regions [--named] [NODE]
 *
 * Exit codes: 0 every node asked answered; 1 some node is down or unreachable (the
 * output says which); 2 usage error; 3 bad machines file. Never hangs: every request
 * has the timeout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rumctl.h"

enum { EXIT_DOWN = 1, EXIT_USAGE = 2, EXIT_CONFIG = 3, MAX_LISTED = 100000 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: rumctl [--machines FILE] [--json] [--timeout-ms MS] COMMAND\n"
          "commands:\n"
          "  status                 every node: up/down, memory used/limit, regions, clients, peers\n"
          "  stats NODE             one node's counters: requests by type, bytes, retransmits,\n"
          "                         drops, reclaims\n"
          "  regions [--named] [NODE]  regions held by every node (or NODE); --named: named only\n"
          "options:\n"
          "  --machines FILE        cluster file (default $RUM_MACHINES, then ./machines.csv)\n"
          "  --json                 machine-readable output\n"
          "  --timeout-ms MS        per-node answer timeout (default 1000)\n"
          "exit codes: 0 all answered, 1 a node is down, 2 usage, 3 bad machines file\n");
}

static int parse_node(const char *text, uint32_t *id) {
  char *end;
  unsigned long v = strtoul(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v > 65535) return -1;
  *id = (uint32_t)v;
  return 0;
}

static int cmd_status(struct rum_admin *a, int timeout_ms, bool json) {
  int n = rum_admin_node_count(a);
  struct node_result *nodes = calloc((size_t)n, sizeof *nodes);
  if (nodes == NULL) return EXIT_USAGE;
  int down = 0;
  for (int i = 0; i < n; i++) {
    uint32_t id;
    rum_admin_node_id(a, i, &id);
    nodes[i].rc = rum_admin_stat(a, id, timeout_ms, &nodes[i].status);
    if (nodes[i].rc != 0) down++;
  }
  print_status(nodes, n, json);
  free(nodes);
  return down ? EXIT_DOWN : 0;
}

static int cmd_stats(struct rum_admin *a, uint32_t id, int timeout_ms, bool json) {
  struct node_result r;
  r.rc = rum_admin_stat(a, id, timeout_ms, &r.status);
  if (r.rc == RUM_ENOENT) {
    fprintf(stderr, "rumctl: no node %u in the machines file\n", id);
    return EXIT_USAGE;
  }
  if (r.rc != 0) {
    fprintf(stderr, "rumctl: node %u: %s\n", id, rum_strerror(r.rc));
    return EXIT_DOWN;
  }
  print_stats(&r, json);
  return 0;
}

static int cmd_regions(struct rum_admin *a, int have_node, uint32_t only, bool named, int timeout_ms,
                       bool json) {
  static struct rum_region_info list[4096];
  int down = 0;
  size_t count = 0;
  bool first = true;
  if (have_node) {
    char host[64];
    if (rum_admin_node_address(a, only, host, sizeof host, NULL) != 0) {
      fprintf(stderr, "rumctl: no node %u in the machines file\n", only);
      return EXIT_USAGE;
    }
  }
  print_regions_begin(json);
  for (int i = 0; i < rum_admin_node_count(a); i++) {
    uint32_t id;
    rum_admin_node_id(a, i, &id);
    if (have_node && id != only) continue;
    size_t total = 0;
    int got = rum_admin_regions(a, id, named, timeout_ms, list, sizeof list / sizeof list[0], &total);
    if (got < 0) {
      print_regions_unreachable(id, got, json, first);
      first = false;
      down++;
      continue;
    }
    for (int k = 0; k < got; k++) {
      print_region(id, &list[k], json, first);
      first = false;
      count++;
    }
  }
  print_regions_end(json, count);
  return down ? EXIT_DOWN : 0;
}

int main(int argc, char **argv) {
  const char *machines = NULL;
  bool json = false, named = false;
  int timeout_ms = 1000;
  static const struct option longopts[] = {
      {"machines", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
      {"timeout-ms", required_argument, 0, 't'}, {"named", no_argument, 0, 'n'},
      {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "+hm:jt:", longopts, NULL)) != -1) {
    switch (opt) {
    case 'm': machines = optarg; break;
    case 'j': json = true; break;
    case 'n': named = true; break;
    case 't': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*end != '\0' || v <= 0 || v > 600000) {
        fprintf(stderr, "rumctl: --timeout-ms wants 1..600000, got '%s'\n", optarg);
        return EXIT_USAGE;
      }
      timeout_ms = (int)v;
      break;
    }
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[optind++];
  /* Options may also follow the command (rumctl regions --named). */
  while ((opt = getopt_long(argc, argv, "+m:jt:", longopts, NULL)) != -1) {
    if (opt == 'n') named = true;
    else if (opt == 'j') json = true;
    else if (opt == 'm') machines = optarg;
    else if (opt == 't') timeout_ms = atoi(optarg) > 0 ? atoi(optarg) : timeout_ms;
    else { usage(stderr); return EXIT_USAGE; }
  }
  uint32_t node = 0;
  int have_node = 0;
  if (optind < argc) {
    if (parse_node(argv[optind], &node) != 0) {
      fprintf(stderr, "rumctl: '%s' is not a node id\n", argv[optind]);
      return EXIT_USAGE;
    }
    have_node = 1;
    optind++;
  }
  if (optind < argc) {
    fprintf(stderr, "rumctl: unexpected argument '%s'\n", argv[optind]);
    return EXIT_USAGE;
  }
  bool known = strcmp(cmd, "status") == 0 || strcmp(cmd, "stats") == 0 || strcmp(cmd, "regions") == 0;
  if (!known || (strcmp(cmd, "stats") == 0 && !have_node) || (strcmp(cmd, "status") == 0 && have_node)) {
    if (!known) fprintf(stderr, "rumctl: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
  }
  char err[512];
  struct rum_admin *a;
  int rc = rum_admin_open(machines, &a, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "rumctl: %s\n", err[0] ? err : rum_strerror(rc));
    return rc == RUM_ECONFIG || rc == RUM_ENOENT ? EXIT_CONFIG : EXIT_DOWN;
  }
  int status;
  if (strcmp(cmd, "status") == 0) status = cmd_status(a, timeout_ms, json);
  else if (strcmp(cmd, "stats") == 0) status = cmd_stats(a, node, timeout_ms, json);
  else status = cmd_regions(a, have_node, node, named, timeout_ms, json);
  rum_admin_close(a);
  return status;
}
