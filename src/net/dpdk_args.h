/* EAL argument handling for the dpdk transport: split the configured text into an
 * argv and make it safe to hand to rte_eal_init, which cannot be undone, cannot run
 * twice in a process, and exits the process on some arguments. Pure (no DPDK), so it
 * is unit tested without an EAL.
 *
 * The text is what cfg->dpdk_args or $RUM_DPDK_ARGS holds, e.g.
 *   --no-huge --no-pci -m 256 --vdev=net_memif0,role=server,socket=/tmp/rum.sock
 * Tokens are separated by blanks; '...' or "..." group a token containing blanks
 * (no escapes). Two kinds of token are ours, not EAL's:
 *   port=NAME[,NAME...]  use the ethdevs named NAME (e.g. net_memif0) or numbered NAME
 *               instead of every port not open yet; the token may repeat, the lists add
 *               up (at most RUM_DPDK_MAX_PORTS names);
 *   ip=A.B.C.D  the IPv4 address of this process on its DPDK ports; it takes
 *               precedence over the caller's (cfg->bind_ipv4, which librum leaves 0
 *               or sets to loopback for the kernel's udp): one RUM_DPDK_ARGS then
 *               says everything a client needs;
 *   slot=PATH:N one of N identities for processes sharing these arguments at once (a
 *               client and the helper processes it starts, each needing memif
 *               interfaces of its own): the process takes the first slot s in 1..N
 *               that no other process holds (an flock on the file PATH.s, kept until
 *               DPDK shuts down) and every "{slot}" in the text becomes s in
 *               decimal, every "{slot:x}" s in two hex digits. See
 *               rum__dpdk_args_find_slot / rum__dpdk_args_expand_slot (pure), and
 *               dpdk_eal.c for the locking.
 * Every other token must be one of DPDK 22.11's EAL options or its value: anything
 * else is refused here, because rte_eal_init would print its usage on stdout and
 * could not be tried again in the process.
 * Adjustments, each only when the text does not decide it itself:
 *   - -h/--help are refused (EAL would print its usage and exit the process);
 *   - --no-telemetry is added (no telemetry socket and thread);
 *   - --log-level=LEVEL is added (EAL is chatty at its default level);
 *   - -l CPU is added (one lcore: EAL starts no worker threads);
 *   - --file-prefix=PREFIX is added when neither it nor --in-memory is given, so two
 *     processes never share the default "rte" runtime directory;
 *   - --in-memory together with --no-huge is replaced by --file-prefix=PREFIX:
 *     DPDK 22.11 refuses that pair (--no-huge implies legacy memory, which
 *     --in-memory rejects), and a per-process prefix gives the same isolation. */
#ifndef RUM_NET_DPDK_ARGS_H
#define RUM_NET_DPDK_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

enum {
  RUM_DPDK_ARGS_MAX = 64,        /* tokens, including the ones we add */
  RUM_DPDK_ARGS_TEXT_MAX = 4096, /* bytes of token text */
  RUM_DPDK_MAX_PORTS = 32,       /* ports one transport drives (DPDK's RTE_MAX_ETHPORTS) */
  RUM_DPDK_MAX_SLOTS = 255,      /* slot=PATH:N: N at most this */
};

struct rum_dpdk_args {
  int argc;
  char *argv[RUM_DPDK_ARGS_MAX + 1]; /* argv[argc] == NULL; point into text */
  unsigned nport_names;              /* port= names given; 0 = every free port */
  const char *port_names[RUM_DPDK_MAX_PORTS]; /* point into text */
  uint32_t ipv4;                     /* ip= in network order; 0 = not given */
  bool prefix_added;                 /* we chose the file prefix (and own its directory) */
  int user_argc;                     /* argv[1..user_argc] came from the text */
  char text[RUM_DPDK_ARGS_TEXT_MAX];
};

/* Build out from text. program becomes argv[0]; prefix is the --file-prefix to add
 * when one is needed; log_level the EAL level name to add ("error", "warning",
 * "notice", "debug"); lcore the CPU for -l. Returns 0, or -1 with a reason in
 * err[errlen] (too many or too long tokens, an unterminated quote, an unknown or
 * refused option, a missing value, an empty or too long port= list, a bad ip=). */
int rum__dpdk_args_prepare(const char *text, const char *program, const char *prefix,
                           const char *log_level, unsigned lcore, struct rum_dpdk_args *out,
                           char *err, size_t errlen);

/* The slot=PATH:N token of text, if any: returns 1 with PATH in path[pathlen] and N
 * in *count (1..RUM_DPDK_MAX_SLOTS), 0 when text has none, -1 when it is malformed
 * (no ':', empty path, N out of range, path too long, two slot= tokens). */
int rum__dpdk_args_find_slot(const char *text, char *path, size_t pathlen, unsigned *count);

/* Copy text into out[outlen] with every "{slot}" replaced by slot in decimal and
 * every "{slot:x}" by slot as two lower-case hex digits (slot <= 255). Returns 0, or
 * -1 when out is too small. */
int rum__dpdk_args_expand_slot(const char *text, unsigned slot, char *out, size_t outlen);

/* Whether text holds "{slot" at all (arguments that need a slot). */
bool rum__dpdk_args_uses_slot(const char *text);

/* Whether argv holds the option name (as "name", "name=value" or, for one-letter
 * options, "-xVALUE"). */
bool rum__dpdk_args_has(const struct rum_dpdk_args *args, const char *name);

#endif
