# Sourced by the tests/install scripts. rum_test_traps NAME: run the script's
# cleanup() on exit, also after SIGINT/SIGTERM (status 130/143), and define
# fail MESSAGE (prints "NAME: FAIL: MESSAGE", exits 1).
rum_test_traps() {
  rum_test_name=$1
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
fail() {
  echo "$rum_test_name: FAIL: $*" >&2
  exit 1
}
