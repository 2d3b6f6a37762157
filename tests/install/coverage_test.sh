#!/usr/bin/env bash
# coverage_test.sh BUILD_DIR: every program the build makes (outside tests/) is
# installed and has a man page; every man page renders without a warning; every long
# option a program's --help text names is in its man page. Catches a new program
# without an install rule or page, and a page that falls behind its program.
set -euo pipefail

build=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rum-coverage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
  echo "coverage_test: FAIL: $*" >&2
  failed=1
}

while read -r program; do
  [[ -z $program ]] && continue
  grep -qx "$program" "$build/install/installed-programs.txt" ||
    fail "$program is built but not installed: add it to RUM_PROGRAMS in cmake/install.cmake"
done <"$build/install/built-programs.txt"

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
man=$tmp/prefix/share/man

# Man pages: render with every warning on; any message is a failure.
while read -r page; do
  [[ -z $page ]] && continue
  section=${page##*.}
  file=$man/man$section/$page.gz
  [[ -f $file ]] || { fail "$page is not installed"; continue; }
  warnings=$(zcat "$file" | groff -mandoc -ww -z -Tutf8 2>&1) || fail "$page: groff failed"
  [[ -z $warnings ]] || fail "$page: $warnings"
done <"$build/install/man-pages.txt"

# help_text PROGRAM: what it says about its options (some print usage on stderr, or
# exit non-zero for --help; rum-bench has one text per scenario).
help_text() {
  local exe=$tmp/prefix/bin/$1 scenario
  timeout 10 "$exe" --help 2>&1 || true
  if [[ $1 == rum-bench ]]; then
    for scenario in $(timeout 10 "$exe" --help | awk '/^scenarios:/ {on = 1; next} on && NF {print $1}'); do
      timeout 10 "$exe" "$scenario" --help 2>&1 || true
    done
  fi
}

while read -r program; do
  [[ -z $program ]] && continue
  page=$(ls "$man"/man*/"$program".[0-9].gz 2>/dev/null | head -n1)
  [[ -n $page ]] || { fail "$program has no man page"; continue; }
  zcat "$page" >"$tmp/page"
  # (minus a complaint about --help itself: rum-lua has lua5.4's options only)
  help_text "$program" | grep -vE 'unrecognized option|unknown option' >"$tmp/help" || true
  [[ -s $tmp/help ]] || fail "$program printed no help"
  options=$(grep -oE -- '--[a-z][a-z0-9-]*' "$tmp/help" | sort -u)
  for option in $options; do
    # mdoc writes --name as "Fl -name"; text may name it as it is.
    grep -qE -- "(Fl -${option#--}|${option})([^a-z0-9-]|\$)" "$tmp/page" ||
      fail "$program: $option is in its --help but not in its man page"
  done
  echo "$program: installed, man page covers $(wc -w <<<"$options") options"
done <"$build/install/installed-programs.txt"

[[ $failed == 0 ]] || exit 1
echo "coverage_test: all checks passed"
