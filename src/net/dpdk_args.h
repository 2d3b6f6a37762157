/* EAL argument handling for the dpdk transport: split the configured text into an
 * argv and make it safe to hand to rte_eal_init, which cannot be undone, cannot run
 * twice in a process, and exits the process on some arguments. Pure (no DPDK), so it
 * is unit tested without an EAL.
 *
 * The text is what cfg->dpdk_args or $RUM_DPDK_ARGS holds, e.g.
 *   --no-huge --no-pci -m 256 --vdev=net_memif0,role=server,socket=/tmp/rum.sock
 * Tokens are separated by blanks; '...' or "..." group a token containing blanks
 * (no escapes). One token is ours, not EAL's:
 *   port=NAME   use the ethdev named NAME (e.g. net_memif0) or numbered NAME instead of
 *               the first free one.
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

enum {
  RUM_DPDK_ARGS_MAX = 64,        /* tokens, including the ones we add */
  RUM_DPDK_ARGS_TEXT_MAX = 4096, /* bytes of token text */
};

struct rum_dpdk_args {
  int argc;
  char *argv[RUM_DPDK_ARGS_MAX + 1]; /* argv[argc] == NULL; point into text */
  const char *port_hint;             /* the port= value, or NULL; points into text */
  bool prefix_added;                 /* we chose the file prefix (and own its directory) */
  int user_argc;                     /* argv[1..user_argc] came from the text */
  char text[RUM_DPDK_ARGS_TEXT_MAX];
};

/* Build out from text. program becomes argv[0]; prefix is the --file-prefix to add
 * when one is needed; log_level the EAL level name to add ("error", "warning",
 * "notice", "debug"); lcore the CPU for -l. Returns 0, or -1 with a reason in
 * err[errlen] (too many or too long tokens, an unterminated quote, an unknown or
 * refused option, a missing value). */
int rum__dpdk_args_prepare(const char *text, const char *program, const char *prefix,
                           const char *log_level, unsigned lcore, struct rum_dpdk_args *out,
                           char *err, size_t errlen);

/* Whether argv holds the option name (as "name", "name=value" or, for one-letter
 * options, "-xVALUE"). */
bool rum__dpdk_args_has(const struct rum_dpdk_args *args, const char *name);

#endif
