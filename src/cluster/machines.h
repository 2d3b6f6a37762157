/* machines.csv: the list of memory nodes and the cluster's settings.
 *
 * Format, one item per line:
 *   # comment                       (also after a field: "1,127.0.0.1,7001  # note")
 *   id,host,port[,mac[,dpdk_dev[,weight]]]   a node; empty optional fields keep defaults
 *   name=value                      a setting (see struct rum_machines)
 * An optional header line "id,host,port,..." is skipped. host is a dotted IPv4 address
 * or "localhost". mac is aa:bb:cc:dd:ee:ff (static ARP for the dpdk transport).
 * weight is 1..1000 (default 1): the node's share of the consistent-hash ring.
 * Settings: key_file (path, relative to the csv's folder; the cluster key),
 * replication (1..), lease_ms, mtu, transport (udp|dpdk), heartbeat_ms.
 * Errors name the file, the line and the field. Duplicate ids or host:port pairs are
 * errors. The parser takes a buffer (never a file descriptor) so it can be fuzzed. */
#ifndef RUM_CLUSTER_MACHINES_H
#define RUM_CLUSTER_MACHINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  RUM_MAX_NODES = 64,
  RUM_NODE_ID_MAX = 65535,
  RUM_MACHINES_PATH_MAX = 512,
  RUM_MACHINES_ERR_MAX = 512,
};

struct rum_node_info {
  uint32_t id;
  char host[64];       /* as written */
  uint32_t ipv4;       /* network byte order */
  uint16_t port;       /* host byte order */
  bool has_mac;
  uint8_t mac[6];
  char dpdk_dev[64];   /* "" if none */
  uint32_t weight;     /* 1..1000 */
  unsigned line;       /* line in the file, for messages */
};

struct rum_machines {
  unsigned nnodes;
  struct rum_node_info nodes[RUM_MAX_NODES];
  char key_file[RUM_MACHINES_PATH_MAX]; /* "" = no cluster key; absolute after load */
  uint32_t replication;   /* 0 = not set (default applies) */
  uint32_t lease_ms;      /* 0 = not set */
  uint32_t heartbeat_ms;  /* 0 = not set */
  uint32_t mtu;           /* 0 = not set */
  char transport[16];     /* "" = not set */
};

/* Parse text[0..len). filename is used in error messages only. On error returns
 * RUM_ECONFIG and writes "FILE:LINE: field NAME: what is wrong" into err. */
int rum__machines_parse(const char *text, size_t len, const char *filename,
                        struct rum_machines *out, char *err, size_t errlen);

/* Read and parse a file. key_file is made absolute relative to the file's folder.
 * Returns 0, RUM_ECONFIG (message in err) or RUM_ENOENT (file missing, in err). */
int rum__machines_load(const char *path, struct rum_machines *out, char *err, size_t errlen);

/* The node with that id, or NULL. */
const struct rum_node_info *rum__machines_find(const struct rum_machines *m, uint32_t id);

/* Read the cluster key named by key_file: 64 hex digits (whitespace around allowed)
 * or exactly 32 raw bytes. Returns 0, RUM_ENOENT (no key_file set), or RUM_ECONFIG
 * (unreadable or malformed; message in err). The caller wipes key after use. */
int rum__machines_load_key(const char *key_file, uint8_t key[32], char *err, size_t errlen);

#endif
