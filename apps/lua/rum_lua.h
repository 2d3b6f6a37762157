/* rum-lua: the Lua 5.4 interpreter whose whole heap lives in RUM memory.
 *
 * The program is Debian's Lua library (liblua5.4) driven by a front end of our own:
 * heap.c gives Lua an allocator on rum_realloc()/rum_free(), cmdline.c reads the
 * command line (the options of lua5.4 plus --machines and --cache-mb), run.c runs
 * chunks the way lua5.4 does (LUA_INIT, -e, -l, the script, error reports with a
 * traceback), repl.c is the interactive prompt, rumlib.c the `rum` Lua module.
 * Only include/rum/ headers are used, never src/. */
#ifndef RUM_LUA_H
#define RUM_LUA_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* Name used in messages when argv[0] is missing or empty. */
#define RUM_LUA_PROGNAME "rum-lua"

/* ---- heap.c: the allocator and the state-level hooks ---- */

/* Bookkeeping of the Lua heap. Lua itself counts the bytes of every block it holds
 * (that is what collectgarbage("count") reports); this is the allocator's own count
 * of the same blocks, so the two agree exactly while the state is open. Owned by
 * main(), passed to Lua as the allocator's ud; the Lua state is single-threaded, so
 * plain counters suffice. */
struct rum_lua_heap {
  size_t bytes_in_use;   /* sum of the sizes Lua asked for, of live blocks */
  size_t peak_bytes;     /* largest bytes_in_use seen */
  uint64_t allocations;  /* blocks created (ptr NULL, nsize > 0) */
  uint64_t frees;        /* blocks released (nsize 0, ptr not NULL) */
  uint64_t resizes;      /* blocks resized in place or moved */
  uint64_t failures;     /* requests RUM could not satisfy (Lua then collects or errors) */
};

/* lua_Alloc on RUM memory. ud is a struct rum_lua_heap. */
void *rum_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* State of the warning system (lua_setwarnf): off until "@on" or -W. */
struct rum_lua_warn {
  int enabled;      /* warnings are printed */
  int continuing;   /* the previous piece had tocont set: this one continues it */
};

/* Create a Lua state whose heap is in RUM memory, with the panic and warning
 * functions lua5.4 installs (luaL_newstate() cannot be used: it allocates with
 * malloc). heap and warn must outlive the state. Returns NULL when the first
 * allocation fails. */
lua_State *rum_lua_newstate(struct rum_lua_heap *heap, struct rum_lua_warn *warn);

/* ---- cmdline.c: the command line ---- */

enum rum_lua_flag {
  RUM_LUA_HAS_E = 1 << 0,      /* -e stat seen */
  RUM_LUA_HAS_I = 1 << 1,      /* -i: interactive after the script */
  RUM_LUA_HAS_V = 1 << 2,      /* -v (also implied by -i) */
  RUM_LUA_NO_ENV = 1 << 3,     /* -E: ignore LUA_INIT, LUA_PATH, LUA_CPATH */
};

struct rum_lua_cmdline {
  int argc;
  char **argv;               /* main()'s; not copied */
  const char *progname;      /* for messages: argv[0], or RUM_LUA_PROGNAME */
  int flags;                 /* RUM_LUA_HAS_* */
  int script;                /* index of the script in argv; argc when there is none */
  int bad_option;            /* index of the option that makes the line invalid, or 0 */
  int bad_needs_argument;    /* it lacks its argument (else it is unrecognized) */
  const char *machines;      /* --machines FILE, or NULL */
  const char *cache_mb;      /* --cache-mb N, or NULL */
};

/* Read argv the way lua5.4 does (options stop at the first non-option, "--" or "-").
 * Never fails: an invalid line sets bad_option. */
void rum_lua_cmdline_parse(struct rum_lua_cmdline *cl, int argc, char **argv);

/* Print "<prog>: <what is wrong>" and the usage text to stderr. */
void rum_lua_cmdline_usage(const struct rum_lua_cmdline *cl);

/* If argv[i] is one of our own options (--machines, --cache-mb), the number of argv
 * entries it takes (1 or 2); otherwise 0. */
int rum_lua_cmdline_own_option(char **argv, int i);

/* ---- run.c: running chunks the way lua5.4 does ---- */

/* The protected body of the interpreter: lua_pcall()ed by main() with the command
 * line as a light userdata. Leaves a boolean on the stack: true if everything ran. */
int rum_lua_main(lua_State *L);

/* Call the function on the stack below its nargs arguments with a traceback message
 * handler and Ctrl-C turned into a Lua error. Returns the lua_pcall() status. */
int rum_lua_docall(lua_State *L, int nargs, int nresults);

/* If status is an error, print the message on top of the stack (prefixed with
 * "<prog>: " unless prog is NULL) and pop it. Returns status. */
int rum_lua_report(lua_State *L, const char *prog, int status);

/* Print "<prog>: <msg>" (or just msg when prog is NULL) to stderr. */
void rum_lua_message(const char *prog, const char *msg);

/* Print the version line lua5.4 prints for -v. */
void rum_lua_print_version(void);

/* ---- repl.c: the interactive prompt ---- */

/* Read-eval-print loop on stdin until end of input. */
void rum_lua_repl(lua_State *L);

/* ---- rumlib.c: the `rum` module (require "rum") ---- */

/* Register the module in package.preload, so `require "rum"` loads it and the
 * global table stays as lua5.4's. */
void rum_lua_preload_rumlib(lua_State *L);

#endif
