#!/usr/bin/env bash
# Run libFuzzer targets for as long as asked.
# Usage: scripts/fuzz.sh NAME|all SECONDS [extra libFuzzer flags]
#        scripts/fuzz.sh --list
#
# NAME is a target without its fuzz_ prefix (proto, machines, dpdk_frame, ...): every
# fuzz_* program of the build (build/, or $RUM_BUILD_DIR; built with clang, as
# scripts/build.sh does) that has a seed corpus in the tree, i.e. a folder
# corpus/NAME under some fuzz/ folder (tests/fuzz/corpus/proto, ...). Each run reads the
# committed seeds and the build's own corpus (BUILD/fuzz/corpus/NAME, where new inputs
# are kept between runs), writes crashing inputs to BUILD/fuzz/artifacts/NAME/, and
# prints one JSON line: target, seconds, runs, corpus size, crashes. Exit status 0
# if every target ran clean, 1 if one found a crash (its input is named), 2 usage.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${RUM_BUILD_DIR:-$root/build}"

usage() {
  sed -n 2,3p "$0" | sed 's/^# //' >&2
  exit 2
}

# The committed seed folder of a target, or nothing.
seeds_of() {
  find "$root" -path "$root/build*" -prune -o -type d -path "*/fuzz/corpus/$1" -print 2>/dev/null | head -1
}

# Every target with a binary and seeds.
targets() {
  find "$build" -type f -perm -u+x -name 'fuzz_*' ! -name '*_replay' ! -name '*.so' 2>/dev/null |
    sed 's|.*/fuzz_||' | sort -u | while read -r t; do
      [ -n "$(seeds_of "$t")" ] && echo "$t"
    done
}

binary_of() {
  find "$build" -type f -perm -u+x -name "fuzz_$1" 2>/dev/null | head -1
}

[ $# -ge 1 ] || usage
if [ "$1" = --list ]; then
  targets
  exit 0
fi
[ $# -ge 2 ] || usage
name=$1 seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: SECONDS must be a whole number > 0, not '$seconds'" >&2; exit 2; }
if [ ! -d "$build" ] || [ -z "$(binary_of proto)" ]; then
  "$root/scripts/build.sh" >/dev/null
fi

if [ "$name" = all ]; then
  mapfile -t list < <(targets)
else
  [ -n "$(binary_of "$name")" ] || { echo "fuzz.sh: no target fuzz_$name in $build (scripts/fuzz.sh --list)" >&2; exit 2; }
  [ -n "$(seeds_of "$name")" ] || { echo "fuzz.sh: fuzz_$name has no seed corpus (a fuzz/corpus/$name folder)" >&2; exit 2; }
  list=("$name")
fi
[ ${#list[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets in $build (build with clang)" >&2; exit 2; }

failed=0
for t in "${list[@]}"; do
  corpus="$build/fuzz/corpus/$t" artifacts="$build/fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$build/fuzz/$t.log"
  start=$(date +%s)
  rc=0
  "$(binary_of "$t")" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "$corpus" "$(seeds_of "$t")" >"$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  crash=$(grep -o "Test unit written to [^ ]*" "$log" | sed 's/Test unit written to //' | tail -1 || true)
  printf '{"target":"fuzz_%s","seconds":%s,"runs":%s,"corpus":%s,"clean":%s%s}\n' "$t" "$took" "${runs:-0}" \
    "$files" "$([ $rc -eq 0 ] && echo true || echo false)" "${crash:+,\"crash\":\"$crash\"}"
  if [ $rc -ne 0 ]; then
    failed=1
    echo "fuzz.sh: fuzz_$t failed (exit $rc); log $log:" >&2
    grep -A30 -m1 "ERROR\|==ERROR\|runtime error\|deadly signal" "$log" >&2 || tail -30 "$log" >&2
  fi
done
exit $failed
