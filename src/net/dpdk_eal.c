/* DPDK's EAL and ethdev ports for the dpdk transport (see dpdk_eal.h).
 * src/net/CMakeLists.txt compiles every *.c of the directory; this file needs DPDK's
 * headers, so without DPDK it compiles to nothing (dpdk_absent.c then answers). */
#if defined(RUM_HAVE_DPDK)
#include "net/dpdk_eal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <rum/rum_errors.h>

#include "net/dpdk_args.h"
#include "net/dpdk_slot.h"
#include "proto/wire.h"
#include "util/log.h"

enum eal_state {
  EAL_NONE = 0, /* not initialised yet */
  EAL_READY,    /* up, by us or by the application */
  EAL_FAILED,   /* rte_eal_init failed: it cannot be tried again in this process */
  EAL_DOWN,     /* rum__dpdk_shutdown ran */
};

struct port_slot {
  bool configured;          /* rte_eth_dev_configure done: close it at shutdown */
  bool open;                /* claimed by a transport */
  struct rte_mempool *pool; /* attached to the Rx queue while configured */
  uint32_t data_room;
};

/* Process-wide, like the EAL itself; lock protects every field. */
static struct {
  pthread_mutex_t lock;
  enum eal_state state;
  bool eal_ours;  /* we called rte_eal_init (else the application did) */
  bool exit_hook; /* atexit registered */
  pid_t init_pid; /* the process that initialised the EAL (a fork child cannot use it) */
  struct rum_dpdk_slot slot; /* the slot= identity taken, if any */
  char expanded[RUM_DPDK_ARGS_TEXT_MAX]; /* the arguments with {slot} replaced */
  unsigned nopen; /* ports claimed */
  unsigned pools_made;
  char args_used[RUM_DPDK_ARGS_TEXT_MAX];
  char runtime_dir[PATH_MAX]; /* ours to remove at shutdown; "" if not */
  FILE *log_stream;
  struct rum_dpdk_args args; /* scratch for parsing, too big for the stack */
  struct port_slot ports[RTE_MAX_ETHPORTS];
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .slot = {.number = 0, .fd = -1}};

/* DPDK logs through a stdio stream; this one forwards each message to util/log at
 * the message's level, so one program's output has one format. */
static ssize_t log_write(void *cookie, const char *buf, size_t size) {
  (void)cookie;
  int level = rte_log_cur_msg_loglevel();
  enum rum_log_level ours = level <= (int)RTE_LOG_ERR ? RUM_LOG_ERROR
      : level == (int)RTE_LOG_WARNING                 ? RUM_LOG_WARN
      : level <= (int)RTE_LOG_INFO                    ? RUM_LOG_INFO
                                                      : RUM_LOG_DEBUG;
  size_t n = size;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
  if (n > 0) rum__log(ours, "dpdk: %.*s", (int)n, buf);
  return (ssize_t)size;
}

static void log_stream_install(void) {
  if (g.log_stream != NULL) return;
  cookie_io_functions_t io = {.write = log_write};
  g.log_stream = fopencookie(NULL, "w", io);
  if (g.log_stream != NULL) rte_openlog_stream(g.log_stream);
}

static const char *eal_log_level(void) {
  switch (rum__log_get_level()) {
  case RUM_LOG_ERROR: return "error";
  case RUM_LOG_WARN: return "warning";
  case RUM_LOG_INFO: return "notice";
  default: return "info";
  }
}

static unsigned first_allowed_cpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; cpu++) {
      if (CPU_ISSET(cpu, &set)) return cpu;
    }
  }
  return 0;
}

/* Remove the runtime directory EAL made for our --file-prefix: its files (config,
 * fbarray_*, mp_socket*) outlive rte_eal_cleanup. Only ever called on a directory
 * whose prefix we generated. */
static void remove_runtime_dir(const char *dir) {
  if (dir[0] == '\0') return;
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char path[PATH_MAX + 256];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      (void)unlink(path);
    }
    closedir(d);
  }
  (void)rmdir(dir);
}

static void exit_hook(void) {
  int rc = rum__dpdk_shutdown();
  if (rc == RUM_EBUSY) RUM_LOG_D("dpdk: transports still open at exit: EAL left as it is");
}

static int eal_init_from(const struct rum_dpdk_args *args, const char *text) {
  char *argv[RUM_DPDK_ARGS_MAX + 1];
  char line[RUM_DPDK_ARGS_TEXT_MAX + RUM_DPDK_ARGS_MAX];
  size_t used = 0;
  line[0] = '\0';
  for (int i = 0; i <= args->argc; i++) {
    argv[i] = args->argv[i]; /* rte_eal_init permutes argv: give it a copy */
    if (i > 0 && i < args->argc)
      used += (size_t)snprintf(line + used, used < sizeof line ? sizeof line - used : 0, " %s",
                               args->argv[i]);
  }
  RUM_LOG_I("dpdk: initialising EAL:%s", line);
  log_stream_install();

  /* rte_eal_init pins the calling thread to the main lcore's CPU; it is an
   * application thread, so give it back the CPUs it had. */
  cpu_set_t cpus;
  bool have_cpus = pthread_getaffinity_np(pthread_self(), sizeof cpus, &cpus) == 0;
  int rc = rte_eal_init(args->argc, argv);
  int err = rte_errno;
  if (have_cpus) (void)pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
  if (rc < 0 && err == EALREADY) {
    RUM_LOG_I("dpdk: the application initialised the EAL already; using it as it is");
    g.state = EAL_READY;
    g.eal_ours = false;
  } else if (rc < 0) {
    RUM_LOG_E("dpdk transport: cannot initialise DPDK's EAL with '%s': %s (DPDK cannot "
              "retry in this process)",
              text, rte_strerror(err));
    g.state = EAL_FAILED;
    if (args->prefix_added) remove_runtime_dir(rte_eal_get_runtime_dir());
    return RUM_ETRANSPORT;
  } else {
    g.state = EAL_READY;
    g.eal_ours = true;
    if (args->prefix_added)
      snprintf(g.runtime_dir, sizeof g.runtime_dir, "%s", rte_eal_get_runtime_dir());
  }
  snprintf(g.args_used, sizeof g.args_used, "%s", text);
  g.init_pid = getpid();
  if (!g.exit_hook && atexit(exit_hook) == 0) g.exit_hook = true;
  return 0;
}

/* text with {slot} replaced (taking a slot when the EAL is still to start), in
 * *out; text itself when it names no slot. */
static int slot_expand(const char *text, const char **out) {
  *out = text;
  char path[PATH_MAX];
  unsigned count = 0;
  int found = rum__dpdk_args_find_slot(text, path, sizeof path, &count);
  if (found < 0) {
    RUM_LOG_E("dpdk transport: bad slot= in '%s' (want slot=PATH:N with N in 1..%d)", text,
              RUM_DPDK_MAX_SLOTS);
    return RUM_EINVAL;
  }
  if (found == 0) {
    if (!rum__dpdk_args_uses_slot(text)) return 0;
    RUM_LOG_E("dpdk transport: '%s' uses {slot} but has no slot=PATH:N", text);
    return RUM_EINVAL;
  }
  if (g.slot.number == 0) {
    if (g.state != EAL_NONE) {
      RUM_LOG_E("dpdk transport: slot= given after DPDK started without one: '%s'", text);
      return RUM_EINVAL;
    }
    int rc = rum__dpdk_slot_take(path, count, &g.slot);
    if (rc != 0) return rc;
  }
  if (rum__dpdk_args_expand_slot(text, g.slot.number, g.expanded, sizeof g.expanded) != 0) {
    RUM_LOG_E("dpdk transport: EAL arguments too long once {slot} is filled in");
    return RUM_EINVAL;
  }
  *out = g.expanded;
  return 0;
}

/* Parse text into g.args (for the port hint on every open) and start the EAL on the
 * first one. */
static int eal_start(const char *given) {
  char prefix[64], err[256];
  const char *text;
  bool slot_was_taken = g.slot.number != 0;
  int rc = slot_expand(given, &text);
  if (rc != 0) return rc;
  snprintf(prefix, sizeof prefix, "rum-%ld", (long)getpid());
  if (rum__dpdk_args_prepare(text, "rum", prefix, eal_log_level(), first_allowed_cpu(), &g.args,
                             err, sizeof err) != 0) {
    RUM_LOG_E("dpdk transport: bad EAL arguments '%s': %s", text, err);
    if (!slot_was_taken && g.state == EAL_NONE) rum__dpdk_slot_release(&g.slot);
    return RUM_EINVAL;
  }
  switch (g.state) {
  case EAL_READY:
    if (g.init_pid != getpid()) {
      RUM_LOG_E("dpdk transport: DPDK was initialised in the parent process (pid %ld) before "
                "this one forked; a forked child cannot use it (its EAL threads and device "
                "links stay with the parent): open the first dpdk transport after fork(), "
                "or exec",
                (long)g.init_pid);
      return RUM_ETRANSPORT;
    }
    if (g.args.user_argc > 0 && strcmp(text, g.args_used) != 0)
      RUM_LOG_W("dpdk: EAL is up already (with '%s'); of '%s' only port= and ip= are used",
                g.args_used, text);
    return 0;
  case EAL_FAILED:
    RUM_LOG_E("dpdk transport: EAL initialisation failed earlier in this process "
              "(DPDK cannot retry it); restart the process");
    return RUM_ETRANSPORT;
  case EAL_DOWN:
    RUM_LOG_E("dpdk transport: DPDK was shut down in this process and cannot start again");
    return RUM_ETRANSPORT;
  case EAL_NONE: break;
  }
  if (text[0] == '\0') {
    RUM_LOG_E("dpdk transport: no EAL arguments: set RUM_DPDK_ARGS (e.g. '--no-huge --no-pci "
              "-m 256 --vdev=net_memif0,role=server,socket=/tmp/rum.sock')");
    return RUM_ETRANSPORT;
  }
  rc = eal_init_from(&g.args, text);
  if (rc != 0) rum__dpdk_slot_release(&g.slot);
  return rc;
}

static int port_by_name(const char *name, uint16_t *out) {
  uint16_t id;
  if (rte_eth_dev_get_port_by_name(name, &id) != 0) {
    char *end;
    unsigned long n = strtoul(name, &end, 10);
    if (*end != '\0' || end == name || n >= RTE_MAX_ETHPORTS ||
        !rte_eth_dev_is_valid_port((uint16_t)n)) {
      RUM_LOG_E("dpdk transport: no DPDK port named '%s' (%u ports)", name,
                (unsigned)rte_eth_dev_count_avail());
      return RUM_ETRANSPORT;
    }
    id = (uint16_t)n;
  }
  if (g.ports[id].open) {
    RUM_LOG_E("dpdk transport: port '%s' is open already in this process", name);
    return RUM_EBUSY;
  }
  *out = id;
  return 0;
}

/* The ports to claim: those port= names (each once), else every port not open yet. */
static int ports_pick(const struct rum_dpdk_args *args, uint16_t *ids, unsigned *n) {
  *n = 0;
  if (args->nport_names > 0) {
    for (unsigned i = 0; i < args->nport_names; i++) {
      uint16_t id;
      int rc = port_by_name(args->port_names[i], &id);
      if (rc != 0) return rc;
      bool seen = false;
      for (unsigned j = 0; j < *n; j++) seen = seen || ids[j] == id;
      if (!seen) ids[(*n)++] = id;
    }
    return 0;
  }
  uint16_t id;
  RTE_ETH_FOREACH_DEV(id) {
    if (!g.ports[id].open && *n < RUM_DPDK_MAX_PORTS) ids[(*n)++] = id;
  }
  if (*n > 0) return 0;
  if (rte_eth_dev_count_avail() == 0)
    RUM_LOG_E("dpdk transport: DPDK found no port: give one with --vdev (e.g. "
              "--vdev=net_memif0,role=server,socket=PATH or --vdev=net_af_packet0,iface=IF)");
  else
    RUM_LOG_E("dpdk transport: all %u DPDK ports are open already in this process",
              (unsigned)rte_eth_dev_count_avail());
  return RUM_ETRANSPORT;
}

/* The largest link MTU the device accepts, as ethdev checks it at configure. */
static uint32_t device_max_mtu(const struct rte_eth_dev_info *info) {
  uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
  if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
    overhead = info->max_rx_pktlen - info->max_mtu;
  uint32_t max = info->max_mtu;
  if (info->max_rx_pktlen > overhead && info->max_rx_pktlen - overhead < max)
    max = info->max_rx_pktlen - overhead;
  return max;
}

/* memif's buffer size: its bsize= device argument, else its default. A frame larger
 * than one buffer is chained over several, and with DPDK 22.11's memif chained frames
 * came through corrupted now and then (measured here: wrong bytes and replayed ring
 * slots with 8972-byte frames over 2048-byte buffers, none with bsize=9216), so a
 * frame must fit one buffer. */
static uint32_t memif_buffer_size(const struct rte_eth_dev_info *info) {
  const struct rte_devargs *da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
  const char *args = da != NULL ? da->args : NULL;
  for (const char *p = args; p != NULL && *p != '\0'; p = strchr(p, ',')) {
    if (*p == ',') p++;
    if (strncmp(p, "bsize=", 6) == 0) {
      unsigned long n = strtoul(p + 6, NULL, 0);
      if (n >= RUM_DPDK_MEMIF_FRAME && n <= UINT16_MAX) return (uint32_t)n;
    }
  }
  return RUM_DPDK_MEMIF_FRAME;
}

static int port_mtu(uint16_t id, const struct rte_eth_dev_info *info, bool is_memif,
                    uint32_t frame_mtu, uint32_t *link_mtu) {
  uint32_t dev_max = device_max_mtu(info);
  uint32_t memif_max =
      RTE_MIN(memif_buffer_size(info) - RTE_ETHER_HDR_LEN, (uint32_t)RUM_DPDK_MEMIF_MAX_LINK_MTU);
  uint32_t max = is_memif ? memif_max : dev_max;
  uint32_t dflt = is_memif ? RUM_DPDK_MEMIF_FRAME - RTE_ETHER_HDR_LEN
                           : RTE_MIN((uint32_t)RUM_DPDK_DEFAULT_LINK_MTU, dev_max);
  *link_mtu = frame_mtu != 0 ? frame_mtu + RUM_DPDK_IP_UDP_OVERHEAD : dflt;
  if (*link_mtu > max || *link_mtu < RUM_WIRE_MIN_MTU + RUM_DPDK_IP_UDP_OVERHEAD) {
    RUM_LOG_E("dpdk transport: mtu %u out of range %u..%u on port %u (%s%s)", frame_mtu,
              (unsigned)RUM_WIRE_MIN_MTU, max - RUM_DPDK_IP_UDP_OVERHEAD, id, info->driver_name,
              is_memif ? "; a larger bsize= in its --vdev allows more, up to 9014" : "");
    return RUM_EINVAL;
  }
  return 0;
}

/* Make sure slot->pool has buffers of data_room bytes; *old_pool gets the pool to
 * free once the Rx queue no longer uses it. */
static int port_pool(uint16_t id, struct port_slot *slot, uint32_t data_room, unsigned nb_mbufs,
                     struct rte_mempool **old_pool) {
  *old_pool = NULL;
  if (slot->pool != NULL && slot->data_room >= data_room) return 0;
  char name[RTE_MEMPOOL_NAMESIZE];
  snprintf(name, sizeof name, "rum_p%u_%u", id, g.pools_made++);
  int socket = rte_eth_dev_socket_id(id);
  struct rte_mempool *pool =
      rte_pktmbuf_pool_create(name, nb_mbufs, RUM_DPDK_MBUF_CACHE, 0, (uint16_t)data_room,
                              socket < 0 ? SOCKET_ID_ANY : socket);
  if (pool == NULL) {
    RUM_LOG_E("dpdk transport: cannot allocate %u mbufs of %u bytes for port %u: %s (give the "
              "EAL more memory, e.g. -m 256)",
              nb_mbufs, data_room, id, rte_strerror(rte_errno));
    return RUM_ETRANSPORT;
  }
  *old_pool = slot->pool;
  slot->pool = pool;
  slot->data_room = data_room;
  return 0;
}

/* Configure port id for frames of frame_mtu and start it, filling *out. A failure of
 * rte_eth_dev_start itself (a memif client whose server's socket is not there yet)
 * sets *start_failed: the caller may go on with its other ports. */
static int port_start(uint16_t id, uint32_t frame_mtu, struct rum_dpdk_port *out,
                      bool *start_failed) {
  struct port_slot *slot = &g.ports[id];
  struct rte_eth_dev_info info;
  *start_failed = false;
  int rc = rte_eth_dev_info_get(id, &info);
  if (rc != 0) {
    RUM_LOG_E("dpdk transport: cannot query port %u: %s", id, rte_strerror(-rc));
    return RUM_ETRANSPORT;
  }
  memset(out, 0, sizeof *out);
  out->port_id = id;
  out->is_memif = strcmp(info.driver_name, "net_memif") == 0;
  snprintf(out->driver, sizeof out->driver, "%s", info.driver_name);
  if (rte_eth_dev_get_name_by_port(id, out->name) != 0)
    snprintf(out->name, sizeof out->name, "port%u", id);
  rc = port_mtu(id, &info, out->is_memif, frame_mtu, &out->link_mtu);
  if (rc != 0) return rc;

  /* The whole frame must fit one mbuf: frames reach the RPC layer zero-copy. The VLAN
   * slack lets a tagged frame in (it is then dropped as not ours, not truncated). */
  uint32_t frame_room = out->link_mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
  uint32_t data_room =
      RTE_PKTMBUF_HEADROOM + RTE_MAX(frame_room, (uint32_t)RTE_MBUF_DEFAULT_DATAROOM);
  struct rte_mempool *old_pool;
  rc = port_pool(id, slot, data_room, out->is_memif ? RUM_DPDK_MEMIF_NB_MBUFS : RUM_DPDK_NB_MBUFS,
                 &old_pool);
  if (rc != 0) return rc;

  /* memif ignores the ethdev MTU (it chains its buffers), and ethdev caps it at
   * 1500 there: tell the device what it accepts, enforce our MTU ourselves. */
  struct rte_eth_conf conf;
  memset(&conf, 0, sizeof conf);
  conf.rxmode.mtu = RTE_MAX(RTE_MIN(out->link_mtu, device_max_mtu(&info)), (uint32_t)info.min_mtu);
  uint16_t nb_rx = RUM_DPDK_RING_SIZE, nb_tx = RUM_DPDK_RING_SIZE;
  int socket = rte_eth_dev_socket_id(id);
  unsigned sock = socket < 0 ? (unsigned)SOCKET_ID_ANY : (unsigned)socket;
  const char *step = "configure";
  rc = rte_eth_dev_configure(id, 1, 1, &conf);
  if (rc == 0) rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rx, &nb_tx);
  if (rc == 0) {
    step = "set up the Rx queue of";
    rc = rte_eth_rx_queue_setup(id, 0, nb_rx, sock, NULL, slot->pool);
  }
  slot->configured = true;
  if (rc != 0 && old_pool != NULL) {
    /* The queue may still hold the old pool: keep that one, drop the new. */
    rte_mempool_free(slot->pool);
    slot->pool = old_pool;
    old_pool = NULL;
  }
  if (old_pool != NULL) rte_mempool_free(old_pool);
  if (rc == 0) {
    step = "set up the Tx queue of";
    rc = rte_eth_tx_queue_setup(id, 0, nb_tx, sock, NULL);
  }
  if (rc == 0) {
    step = "start";
    rc = rte_eth_dev_start(id);
    *start_failed = rc != 0;
  }
  if (rc != 0) {
    RUM_LOG_E("dpdk transport: cannot %s port %u (%s): %s", step, id, out->name, rte_strerror(-rc));
    return RUM_ETRANSPORT;
  }
  struct rte_ether_addr mac;
  if (rte_eth_macaddr_get(id, &mac) != 0) memset(&mac, 0, sizeof mac);
  memcpy(out->mac, mac.addr_bytes, RUM_DPDK_MAC_LEN);
  out->pool = slot->pool;
  slot->open = true;
  g.nopen++;
  return 0;
}

static void port_stop(struct rum_dpdk_port *port) {
  struct port_slot *slot = &g.ports[port->port_id];
  if (!slot->open) return;
  int rc = rte_eth_dev_stop(port->port_id);
  if (rc != 0) RUM_LOG_W("dpdk: cannot stop port %u: %s", port->port_id, rte_strerror(-rc));
  slot->open = false;
  g.nopen--;
}

/* Start every port of ids[0..n): all of them, except that ports whose start alone
 * failed are skipped while at least one other starts. */
static int ports_start(const uint16_t *ids, unsigned n, uint32_t frame_mtu,
                       struct rum_dpdk_port *ports, unsigned *nports) {
  unsigned started = 0, skipped = 0;
  int rc = 0;
  for (unsigned i = 0; i < n && rc == 0; i++) {
    bool start_failed;
    rc = port_start(ids[i], frame_mtu, &ports[started], &start_failed);
    if (rc == 0) {
      started++;
    } else if (start_failed) {
      skipped++;
      rc = 0;
    }
  }
  if (rc == 0 && started == 0) rc = RUM_ETRANSPORT;
  if (rc != 0) {
    for (unsigned i = 0; i < started; i++) port_stop(&ports[i]);
    return rc;
  }
  if (skipped > 0)
    RUM_LOG_W("dpdk transport: going on with %u of %u ports (see the errors above)", started, n);
  *nports = started;
  return 0;
}

int rum__dpdk_ports_open(const char *eal_args, uint32_t frame_mtu, struct rum_dpdk_port *ports,
                         unsigned *nports, uint32_t *arg_ipv4) {
  *nports = 0;
  *arg_ipv4 = 0;
  pthread_mutex_lock(&g.lock);
  int rc = eal_start(eal_args != NULL ? eal_args : "");
  uint16_t ids[RUM_DPDK_MAX_PORTS];
  unsigned n = 0;
  if (rc == 0) rc = ports_pick(&g.args, ids, &n);
  if (rc == 0) rc = ports_start(ids, n, frame_mtu, ports, nports);
  if (rc == 0) *arg_ipv4 = g.args.ipv4;
  pthread_mutex_unlock(&g.lock);
  return rc;
}

void rum__dpdk_port_close(struct rum_dpdk_port *port) {
  pthread_mutex_lock(&g.lock);
  port_stop(port);
  pthread_mutex_unlock(&g.lock);
}

int rum__dpdk_shutdown(void) {
  pthread_mutex_lock(&g.lock);
  if (g.nopen > 0) {
    pthread_mutex_unlock(&g.lock);
    return RUM_EBUSY;
  }
  if (g.state == EAL_READY && g.init_pid != getpid()) {
    /* A forked child: the devices are the parent's (memif's control channels are
     * shared with it), so closing them here would cut the parent's links. */
    pthread_mutex_unlock(&g.lock);
    return 0;
  }
  if (g.state == EAL_READY) {
    for (uint16_t id = 0; id < RTE_MAX_ETHPORTS; id++) {
      struct port_slot *slot = &g.ports[id];
      if (slot->configured) (void)rte_eth_dev_close(id);
      if (slot->pool != NULL) rte_mempool_free(slot->pool);
      memset(slot, 0, sizeof *slot);
    }
    if (g.eal_ours) {
      char dir[PATH_MAX];
      snprintf(dir, sizeof dir, "%s", g.runtime_dir);
      (void)rte_eal_cleanup();
      remove_runtime_dir(dir);
    }
    g.state = EAL_DOWN;
    rum__dpdk_slot_release(&g.slot);
  }
  if (g.log_stream != NULL) {
    rte_openlog_stream(NULL);
    fclose(g.log_stream);
    g.log_stream = NULL;
  }
  pthread_mutex_unlock(&g.lock);
  return 0;
}

#endif /* RUM_HAVE_DPDK */
