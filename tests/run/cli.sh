#!/usr/bin/env bash
# cli.sh RUM_RUN PORT: rum-run's command line: --help, bad values, a missing program,
# and RUM that cannot start (a machines file whose nodes are down) are clear errors.
set -uo pipefail
rr=$1 port=$2 failed=0
expect() { # expect STATUS PATTERN -- ARGS...
  local want=$1 pattern=$2; shift 3
  local out status
  out=$(RUM_TIMEOUT_MS=300 "$rr" "$@" 2>&1); status=$?
  if [[ $status -ne $want ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "cli.sh: FAIL: rum-run $* -> status $status (want $want), output: $out" >&2
    failed=1
  fi
}
expect 0 "--min-bytes" -- --help
expect 125 "no program given" --
expect 125 "--cache-mb abc: expected a whole number" -- --cache-mb abc true
expect 125 "--cache-mb 0: expected a whole number of at least 1" -- --cache-mb 0 true
expect 125 "--min-bytes -5" -- --min-bytes -5 true
expect 125 "--machines /nonexistent.csv" -- --machines /nonexistent.csv true
expect 125 "unrecognized option" -- --bogus true
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
printf '1,127.0.0.1,%s\n' "$port" >"$dir/m.csv"
expect 127 "no-such-program: No such file" -- --machines "$dir/m.csv" no-such-program
expect 125 "cannot start RUM" -- --machines "$dir/m.csv" true
[[ $failed -eq 0 ]] && echo "cli.sh: PASS"
exit $failed
