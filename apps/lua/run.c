/* Running chunks the way lua5.4 does: LUA_INIT, -e and -l in command-line order, the
 * script with its arguments, then the prompt or stdin. Errors are printed as
 * "<prog>: <message>" followed by a traceback, and make the exit status 1. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "rum_lua.h"

/* The state a Ctrl-C interrupts. A signal handler can only reach it through a
 * global; it is set only while a chunk runs. */
static lua_State *volatile interrupted_state;

/* Hook set by the SIGINT handler: runs at the next Lua instruction, in the Lua
 * thread, where raising an error is allowed. */
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* A second Ctrl-C while the first has not been seen yet kills the process: the
 * handler restores the default action before doing anything else. lua_sethook() is
 * documented as safe to call from a signal handler. */
static void on_sigint(int sig)
{
  signal(sig, SIG_DFL);
  if (interrupted_state != NULL)
    lua_sethook(interrupted_state, interrupt_hook,
                LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* Message handler: turn the error object into text and add a traceback. An object
 * with __tostring gives its own text (and no traceback), as in lua5.4. */
static int traceback_handler(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);

  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int rum_lua_docall(lua_State *L, int nargs, int nresults)
{
  int base = lua_gettop(L) - nargs;
  int status;

  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  interrupted_state = L;
  signal(SIGINT, on_sigint);
  status = lua_pcall(L, nargs, nresults, base);
  signal(SIGINT, SIG_DFL);
  interrupted_state = NULL;
  lua_remove(L, base);
  return status;
}

void rum_lua_message(const char *prog, const char *msg)
{
  if (prog != NULL)
    fprintf(stderr, "%s: ", prog);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

int rum_lua_report(lua_State *L, const char *prog, int status)
{
  if (status != LUA_OK) {
    rum_lua_message(prog, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return status;
}

void rum_lua_print_version(void)
{
  fputs(LUA_COPYRIGHT "\n", stdout);
  fflush(stdout);
}

/* Run a chunk that was just loaded (status is luaL_load*'s), reporting errors. */
static int run_loaded(lua_State *L, const char *prog, int status)
{
  if (status == LUA_OK)
    status = rum_lua_docall(L, 0, 0);
  return rum_lua_report(L, prog, status);
}

static int run_string(lua_State *L, const char *prog, const char *code, const char *chunkname)
{
  return run_loaded(L, prog, luaL_loadbuffer(L, code, strlen(code), chunkname));
}

/* -l [g=]mod: g = require(mod); g defaults to mod. */
static int require_into_global(lua_State *L, const char *prog, const char *spec)
{
  const char *eq = strchr(spec, '=');
  int status;

  lua_getglobal(L, "require");
  lua_pushstring(L, eq != NULL ? eq + 1 : spec);
  status = rum_lua_docall(L, 1, 1);
  if (status == LUA_OK) { /* the module is on the stack */
    lua_pushglobaltable(L);
    lua_pushlstring(L, spec, eq != NULL ? (size_t)(eq - spec) : strlen(spec));
    lua_pushvalue(L, -3);
    lua_settable(L, -3); /* not raw, as lua_setglobal() */
    lua_pop(L, 2);
  }
  return rum_lua_report(L, prog, status);
}

/* The global `arg`: the script at index 0, its arguments at 1.., and the
 * interpreter and its options at negative indices. Without a script, argv[0] is at
 * index 0. */
static void make_arg_table(lua_State *L, const struct rum_lua_cmdline *cl)
{
  int zero = cl->script < cl->argc ? cl->script : 0;

  lua_createtable(L, cl->argc - zero - 1, zero + 1);
  for (int i = 0; i < cl->argc; i++) {
    lua_pushstring(L, cl->argv[i]);
    lua_rawseti(L, -2, i - zero);
  }
  lua_setglobal(L, "arg");
}

/* LUA_INIT_5_4, else LUA_INIT: "@file" runs the file, anything else is code whose
 * chunk is named after the variable. */
static int run_lua_init(lua_State *L, const char *prog)
{
  static const char *const chunknames[] = {"=LUA_INIT" LUA_VERSUFFIX, "=LUA_INIT"};

  for (size_t k = 0; k < sizeof(chunknames) / sizeof(chunknames[0]); k++) {
    const char *init = getenv(chunknames[k] + 1);

    if (init == NULL)
      continue;
    if (init[0] == '@')
      return run_loaded(L, prog, luaL_loadfile(L, init + 1));
    return run_string(L, prog, init, chunknames[k]);
  }
  return LUA_OK;
}

/* -e, -l and -W, in the order given (cmdline.c has checked them). Returns 0 as soon
 * as one fails. */
static int run_options(lua_State *L, const struct rum_lua_cmdline *cl)
{
  char **argv = cl->argv;

  for (int i = 1; i < cl->script; i++) {
    int own = rum_lua_cmdline_own_option(argv, i);
    int option = argv[i][1];

    if (own > 0) {
      i += own - 1; /* --machines and --cache-mb were used before the state existed */
    } else if (option == 'e' || option == 'l') {
      const char *value = argv[i][2] != '\0' ? argv[i] + 2 : argv[++i];
      int status = option == 'e' ? run_string(L, cl->progname, value, "=(command line)")
                                 : require_into_global(L, cl->progname, value);
      if (status != LUA_OK)
        return 0;
    } else if (option == 'W') {
      lua_warning(L, "@on", 0);
    }
  }
  return 1;
}

/* The script: its arguments are arg[1..#arg]. "-" is stdin unless it came after
 * "--" (then it is a file named "-"). */
static int run_script(lua_State *L, const struct rum_lua_cmdline *cl)
{
  const char *fname = cl->argv[cl->script];
  int status, nargs;

  if (strcmp(fname, "-") == 0 && strcmp(cl->argv[cl->script - 1], "--") != 0)
    fname = NULL;
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
      luaL_error(L, "'arg' is not a table");
    nargs = (int)luaL_len(L, -1);
    luaL_checkstack(L, nargs + 3, "too many arguments to script");
    for (int i = 1; i <= nargs; i++)
      lua_rawgeti(L, -i, i);
    lua_remove(L, -nargs - 1);
    status = rum_lua_docall(L, nargs, LUA_MULTRET);
  }
  return rum_lua_report(L, cl->progname, status);
}

int rum_lua_main(lua_State *L)
{
  const struct rum_lua_cmdline *cl = lua_touserdata(L, 1);

  luaL_checkversion(L);
  if (cl->flags & RUM_LUA_HAS_V)
    rum_lua_print_version();
  if (cl->flags & RUM_LUA_NO_ENV) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  /* Build the libraries with the collector stopped, then run in generational
   * mode, as lua5.4 does: the collector's pace then matches the stock one. */
  lua_gc(L, LUA_GCSTOP);
  luaL_openlibs(L);
  rum_lua_preload_rumlib(L);
  make_arg_table(L, cl);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(cl->flags & RUM_LUA_NO_ENV) && run_lua_init(L, cl->progname) != LUA_OK)
    return 0;
  if (!run_options(L, cl))
    return 0;
  if (cl->script < cl->argc && run_script(L, cl) != LUA_OK)
    return 0;
  if (cl->flags & RUM_LUA_HAS_I) {
    rum_lua_repl(L);
  } else if (cl->script == cl->argc && !(cl->flags & (RUM_LUA_HAS_E | RUM_LUA_HAS_V))) {
    if (isatty(STDIN_FILENO)) {
      rum_lua_print_version();
      rum_lua_repl(L);
    } else {
      /* lua5.4 reports an error in stdin read this way but still exits with 0. */
      run_loaded(L, cl->progname, luaL_loadfile(L, NULL));
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}
