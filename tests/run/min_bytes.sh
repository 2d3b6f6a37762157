#!/usr/bin/env bash
# min_bytes.sh RUM_RUN SYSCALLS: --min-bytes keeps smaller blocks local and puts the
# others in RUM's arena; a small block grown past it by realloc moves into RUM; and
# without the option every block is in RUM.
set -uo pipefail
rr=$1 prog=$2 failed=0
check() { # check EXPECTED OUTPUT
  if [[ "$2" != "$1" ]]; then
    echo "min_bytes.sh: FAIL: expected:"; echo "$1"; echo "got:"; echo "$2"; failed=1
  fi
}
check "$(printf '100 local\n4095 local\n4096 grid\n1048576 grid\nrealloc-before local\nrealloc-after grid')" \
  "$("$rr" --cache-mb 4 --min-bytes 4096 -- "$prog" --where 100 4095 4096 1048576)"
check "$(printf '16 grid\n100 grid\nrealloc-before grid\nrealloc-after grid')" \
  "$("$rr" --cache-mb 4 -- "$prog" --where 16 100)"
check "$(printf '16 local\nrealloc-before local\nrealloc-after local')" "$("$prog" --where 16)"
[[ $failed -eq 0 ]] && echo "min_bytes.sh: PASS"
exit $failed
