#!/usr/bin/env bash
# unit_syscalls.sh BUILD_DIR PORT: check that rumd tolerates the sandbox of the
# installed rumd@.service. The installed rumd runs as user nobody with no
# capabilities and no_new_privs (setpriv), under strace, while installed clients use
# it (hashtable, rumctl status/stats/regions), then stops on SIGTERM. From the trace:
# every system call rumd made is allowed by the unit's SystemCallFilter= (expanded by
# systemd-analyze), every socket family is in RestrictAddressFamilies=, and it opened
# no file for writing and made no file or folder (ProtectSystem=strict, no state
# folder). Exit 77 (skipped) without strace, systemd-analyze or setpriv, or when not
# root (needed to drop to nobody).
set -euo pipefail

build=$(cd "$1" && pwd)
port=$2
for tool in strace systemd-analyze setpriv; do
  if ! command -v "$tool" >/dev/null; then
    echo "unit_syscalls: SKIP: $tool is not installed"
    exit 77
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "unit_syscalls: SKIP: needs root to run rumd as nobody without capabilities"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rum-unit.XXXXXX")
tracer= rumd_pid=
# Stop rumd (strace ends with it), then strace itself if it is still there; each
# with a bounded wait, SIGKILL after.
stop_traced() {
  local pid deadline
  for pid in $rumd_pid $tracer; do
    kill -TERM "$pid" 2>/dev/null || continue
    deadline=$((SECONDS + 5))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [[ -n $tracer ]] && wait "$tracer" 2>/dev/null
  return 0
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_traced
  [[ $status -ne 0 && -f $tmp/rumd.log ]] && tail -n 20 "$tmp/rumd.log" >&2
  rm -rf "$tmp"
  exit "$status"
}
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rum_test_traps unit_syscalls

prefix=$tmp/prefix
unset RUM_BIN_DIR
cmake --install "$build" --prefix "$prefix" >/dev/null
unit=$prefix/lib/systemd/system/rumd@.service
chmod 755 "$tmp"
printf '1,127.0.0.1,%s\n' "$port" >"$tmp/machines.csv"
chmod 644 "$tmp/machines.csv"

strace -f -qq -o "$tmp/trace" \
  setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
  "$prefix/bin/rumd" --machines "$tmp/machines.csv" --id 1 --memory-mb 64 >"$tmp/rumd.log" 2>&1 &
tracer=$!
deadline=$((SECONDS + 20))
until grep -q 'listening on' "$tmp/rumd.log" 2>/dev/null; do
  kill -0 "$tracer" 2>/dev/null || fail "rumd exited while starting"
  ((SECONDS < deadline)) || fail "rumd was not listening after 20 s"
  sleep 0.05
done
read -r rumd_pid _ <"/proc/$tracer/task/$tracer/children" || true
[[ -n $rumd_pid && $(cat "/proc/$rumd_pid/comm" 2>/dev/null) == rumd ]] || fail "cannot find rumd under strace"
[[ $(stat -c %U "/proc/$rumd_pid") == nobody ]] || fail "rumd does not run as nobody"

export RUM_MACHINES=$tmp/machines.csv RUM_CACHE_MB=1
timeout 60 "$prefix/bin/hashtable" --ops 30000 --keys 3000 --seed 11 >"$tmp/hashtable.out" || fail "hashtable failed"
for args in status "stats 1" regions; do
  # shellcheck disable=SC2086
  timeout 20 "$prefix/bin/rumctl" $args >/dev/null || fail "rumctl $args failed"
done
kill -TERM "$rumd_pid"
wait "$tracer" || fail "rumd did not stop cleanly on SIGTERM"
tracer= rumd_pid=

# The trace of rumd itself: from its execve on (setpriv's own calls come before).
awk -v exe="$prefix/bin/rumd" 'index($0, "execve(\"" exe "\"") {on = 1} on' "$tmp/trace" >"$tmp/rumd.trace"
[[ -s $tmp/rumd.trace ]] || fail "no execve of rumd in the trace"
sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z_0-9]+)(\(| resumed>).*/\2/p' "$tmp/rumd.trace" | sort -u >"$tmp/used"

# The unit's filter: allow lists add, ~ lists take away (systemd.exec(5)).
systemd-analyze syscall-filter >"$tmp/groups" 2>/dev/null
expand() { # expand ITEM...: the system calls the items name, groups expanded
  awk -v items="$*" '
    /^@/ { group = $1; next }
    /^[[:space:]]+#/ { next }
    /^[[:space:]]+[@a-z_0-9]/ { members[group] = members[group] " " $1 }
    END {
      n = split(items, stack, " ")
      while (n > 0) {
        item = stack[n--]
        if (item !~ /^@/) { print item; continue }
        if (item in seen) continue
        seen[item] = 1
        k = split(members[item], list, " ")
        for (i = 1; i <= k; i++) stack[++n] = list[i]
      }
    }' "$tmp/groups" | sort -u
}
: >"$tmp/allowed"
: >"$tmp/denied"
while IFS= read -r line; do
  value=${line#SystemCallFilter=}
  if [[ $value == "~"* ]]; then
    # shellcheck disable=SC2086
    expand ${value#\~} >>"$tmp/denied"
  else
    # shellcheck disable=SC2086
    expand $value >>"$tmp/allowed"
  fi
done < <(grep '^SystemCallFilter=' "$unit")
[[ -s $tmp/allowed ]] || fail "the unit has no SystemCallFilter allow list"
sort -u "$tmp/allowed" | comm -23 - <(sort -u "$tmp/denied") >"$tmp/permitted"
outside=$(comm -23 "$tmp/used" "$tmp/permitted")
[[ -z $outside ]] || fail "rumd made system calls the unit's SystemCallFilter refuses: $(echo $outside)"
echo "system calls: $(wc -l <"$tmp/used") used, all allowed by SystemCallFilter"

families=$(grep -oE 'socket\(AF_[A-Z0-9]+' "$tmp/rumd.trace" | sed 's/socket(//' | sort -u)
[[ -n $families ]] || fail "rumd opened no socket?"
allowed_families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
for family in $families; do
  [[ " $allowed_families " == *" $family "* ]] || fail "rumd opens $family sockets; RestrictAddressFamilies=$allowed_families"
done
echo "socket families: $(echo $families), all in RestrictAddressFamilies"

if grep -E '^[0-9]+ +(open|openat|creat)\(.*(O_WRONLY|O_RDWR|O_CREAT)' "$tmp/rumd.trace" |
   grep -vE '"/dev/(null|tty)"' >"$tmp/writes"; then
  fail "rumd opened files for writing: $(head -n 3 "$tmp/writes")"
fi
if grep -E '^[0-9]+ +(mkdir|mkdirat|unlink|unlinkat|rename|renameat2?)\(' "$tmp/rumd.trace" >"$tmp/changes"; then
  fail "rumd changed the file system: $(head -n 3 "$tmp/changes")"
fi
echo "files: none opened for writing, none made or removed"
grep -q 'PASS' "$tmp/hashtable.out" || fail "hashtable did not pass"
echo "unit_syscalls: all checks passed"
