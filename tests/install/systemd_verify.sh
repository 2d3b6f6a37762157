#!/usr/bin/env bash
# systemd_verify.sh BUILD_DIR: install into a temporary prefix and run
# `systemd-analyze verify` on every installed unit (a template as instance 1), with
# the installed man pages on MANPATH so that Documentation= is checked too. Any
# message fails. Exit 77 (skipped) without systemd-analyze.
set -euo pipefail

build=$(cd "$1" && pwd)
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd_verify: SKIP: systemd-analyze is not installed (apt-get install systemd)"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rum-systemd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
units=("$tmp"/prefix/lib/systemd/system/*.service)
[[ -f ${units[0]} ]] || { echo "systemd_verify: FAIL: no unit installed" >&2; exit 1; }
failed=0
for unit in "${units[@]}"; do
  name=$(basename "$unit")
  target=$unit
  if [[ $name == *@.service ]]; then
    # A template is verified as one of its instances, %i expanded.
    target=$tmp/${name%@.service}@1.service
    cp "$unit" "$tmp/$name"
  fi
  if ! out=$(cd "$tmp" && MANPATH=$tmp/prefix/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$target" 2>&1) ||
     [[ -n $out ]]; then
    echo "systemd_verify: FAIL: $name:" >&2
    echo "$out" >&2
    failed=1
  else
    echo "$name: verified"
  fi
done
exit "$failed"
