/* The command line of rum-lua: lua5.4's options, plus --machines and --cache-mb.
 *
 * As in lua5.4, options are read up to the first argument that is not one (the
 * script), a "--" (the script is the next argument) or a "-" (the script is stdin).
 * The options are only checked here; run.c executes -e, -l and -W later, in order,
 * so the whole line is validated before anything runs. */
#include <stdio.h>
#include <string.h>

#include "rum_lua.h"

static const char usage_text[] =
    "usage: %s [options] [script [args]]\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -v        show version information\n"
    "  -E        ignore environment variables\n"
    "  -W        turn warnings on\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n"
    "RUM options:\n"
    "  --machines FILE  cluster file (default: $RUM_MACHINES, then ./machines.csv)\n"
    "  --cache-mb N     local page cache in MiB (sets RUM_CACHE_MB)\n";

/* Our long options, with or without "=value". */
static const char *const own_options[] = {"--machines", "--cache-mb"};

/* Which of own_options argv[i] is (-1 for none); *inline_value gets the text after
 * '=' when the value is attached. */
static int match_own_option(const char *arg, const char **inline_value)
{
  for (size_t k = 0; k < sizeof(own_options) / sizeof(own_options[0]); k++) {
    size_t len = strlen(own_options[k]);
    if (strncmp(arg, own_options[k], len) != 0)
      continue;
    if (arg[len] == '\0') {
      *inline_value = NULL;
      return (int)k;
    }
    if (arg[len] == '=') {
      *inline_value = arg + len + 1;
      return (int)k;
    }
  }
  return -1;
}

int rum_lua_cmdline_own_option(char **argv, int i)
{
  const char *value;

  if (match_own_option(argv[i], &value) < 0)
    return 0;
  return value != NULL ? 1 : 2;
}

enum { UNRECOGNIZED = 0, NEEDS_ARGUMENT = 1 };

/* Marks argv[i] as the reason the line is invalid. */
static void set_bad(struct rum_lua_cmdline *cl, int i, int why)
{
  cl->bad_option = i;
  cl->bad_needs_argument = why == NEEDS_ARGUMENT;
}

/* Handles --machines / --cache-mb at argv[*i]. Returns 0 if it was not one of them,
 * 1 if handled (advancing *i past a separate value), -1 if the value is missing. */
static int take_own_option(struct rum_lua_cmdline *cl, int *i)
{
  const char *value;
  int which = match_own_option(cl->argv[*i], &value);

  if (which < 0)
    return 0;
  if (value == NULL) {
    value = cl->argv[*i + 1];
    if (value == NULL)
      return -1;
    (*i)++;
  }
  if (value[0] == '\0')
    return -1;
  if (which == 0)
    cl->machines = value;
  else
    cl->cache_mb = value;
  return 1;
}

/* Checks one short option argv[*i] (it starts with '-' and is not "-" or "--").
 * Returns 0 if valid, -1 after set_bad(). */
static int take_short_option(struct rum_lua_cmdline *cl, int *i)
{
  const char *arg = cl->argv[*i];
  int needs_value = 0;

  switch (arg[1]) {
  case 'E': cl->flags |= RUM_LUA_NO_ENV; break;
  case 'W': break;
  case 'i': cl->flags |= RUM_LUA_HAS_I | RUM_LUA_HAS_V; break;
  case 'v': cl->flags |= RUM_LUA_HAS_V; break;
  case 'e': cl->flags |= RUM_LUA_HAS_E; needs_value = 1; break;
  case 'l': needs_value = 1; break;
  default:
    set_bad(cl, *i, UNRECOGNIZED);
    return -1;
  }
  if (!needs_value) {
    /* Flags stand alone: "-iv" is not two options. */
    if (arg[2] != '\0') {
      set_bad(cl, *i, UNRECOGNIZED);
      return -1;
    }
    return 0;
  }
  if (arg[2] != '\0')
    return 0; /* value attached: -estat, -lmod */
  /* The value is the next argument, which must not look like an option. */
  if (cl->argv[*i + 1] == NULL || cl->argv[*i + 1][0] == '-') {
    set_bad(cl, *i, NEEDS_ARGUMENT);
    return -1;
  }
  (*i)++;
  return 0;
}

void rum_lua_cmdline_parse(struct rum_lua_cmdline *cl, int argc, char **argv)
{
  int i;

  memset(cl, 0, sizeof(*cl));
  cl->argc = argc;
  cl->argv = argv;
  cl->progname = argc > 0 && argv[0] != NULL && argv[0][0] != '\0' ? argv[0] : RUM_LUA_PROGNAME;
  cl->script = argc;
  if (argc < 1 || argv[0] == NULL)
    return;
  for (i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int own;

    if (arg[0] != '-') {
      cl->script = i;
      return;
    }
    if (arg[1] == '\0') { /* "-": the script is stdin */
      cl->script = i;
      return;
    }
    own = take_own_option(cl, &i);
    if (own < 0) {
      set_bad(cl, i, NEEDS_ARGUMENT);
      return;
    }
    if (own > 0)
      continue;
    if (arg[1] == '-') {
      if (arg[2] != '\0') {
        set_bad(cl, i, UNRECOGNIZED);
        return;
      }
      cl->script = i + 1;
      return;
    }
    if (take_short_option(cl, &i) < 0)
      return;
  }
}

void rum_lua_cmdline_usage(const struct rum_lua_cmdline *cl)
{
  const char *bad = cl->argv[cl->bad_option];

  if (cl->bad_needs_argument)
    fprintf(stderr, "%s: '%s' needs argument\n", cl->progname, bad);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", cl->progname, bad);
  fprintf(stderr, usage_text, cl->progname);
  fflush(stderr);
}
