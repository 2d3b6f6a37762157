/* rum-lua: `rum-lua [options] [script [args]]`, lua5.4's command line on a Lua state
 * whose every object (strings, tables, closures, coroutines) lives in RUM memory.
 *
 * Order of events: read the command line (a bad one is reported before any cluster
 * is needed), start RUM, create the state on RUM memory, run everything inside one
 * protected call (so errors carry a traceback and never escape), close the state,
 * stop RUM. Exit status as lua5.4's: 0 when everything ran, 1 on any error;
 * os.exit(n) passes n through (rum_init() registered rum_shutdown() at exit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <rum/rum.h>

#include "rum_lua.h"

/* --cache-mb N: a positive whole number of MiB, handed to librum as RUM_CACHE_MB. */
static int apply_cache_mb(const struct rum_lua_cmdline *cl)
{
  char *end;
  unsigned long long mb;

  if (cl->cache_mb == NULL)
    return 0;
  errno = 0;
  mb = strtoull(cl->cache_mb, &end, 10);
  if (errno != 0 || end == cl->cache_mb || *end != '\0' || mb == 0 || cl->cache_mb[0] == '-') {
    fprintf(stderr, "%s: --cache-mb needs a positive number of MiB, not '%s'\n", cl->progname,
            cl->cache_mb);
    return -1;
  }
  if (setenv("RUM_CACHE_MB", cl->cache_mb, 1) != 0) {
    fprintf(stderr, "%s: cannot set RUM_CACHE_MB: out of memory\n", cl->progname);
    return -1;
  }
  return 0;
}

static int start_rum(const struct rum_lua_cmdline *cl)
{
  int err = rum_init(cl->machines);

  if (err == 0)
    return 0;
  fprintf(stderr, "%s: cannot start RUM: %s\n", cl->progname, rum_strerror(err));
  if (err == RUM_ECONFIG || err == RUM_ENOENT)
    fprintf(stderr, "%s: name the cluster file with --machines FILE or RUM_MACHINES "
                    "(default ./machines.csv)\n", cl->progname);
  else
    fprintf(stderr, "%s: are the memory nodes (rumd) in %s running?\n", cl->progname,
            cl->machines != NULL ? cl->machines
            : getenv("RUM_MACHINES") != NULL ? getenv("RUM_MACHINES") : "./machines.csv");
  return -1;
}

int main(int argc, char **argv)
{
  struct rum_lua_cmdline cl;
  struct rum_lua_heap heap;
  struct rum_lua_warn warn;
  lua_State *L;
  int status, ok, err;

  rum_lua_cmdline_parse(&cl, argc, argv);
  if (cl.bad_option != 0) {
    rum_lua_cmdline_usage(&cl);
    return EXIT_FAILURE;
  }
  if (apply_cache_mb(&cl) < 0 || start_rum(&cl) < 0)
    return EXIT_FAILURE;
  L = rum_lua_newstate(&heap, &warn);
  if (L == NULL) {
    rum_lua_message(cl.progname, "cannot create state: not enough memory");
    rum_shutdown();
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, rum_lua_main);
  lua_pushlightuserdata(L, &cl);
  status = lua_pcall(L, 1, 1, 0);
  ok = lua_toboolean(L, -1);
  rum_lua_report(L, cl.progname, status);
  lua_close(L);
  err = rum_shutdown();
  if (err < 0)
    fprintf(stderr, "%s: RUM shutdown: %s\n", cl.progname, rum_strerror(err));
  return ok && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
