#!/usr/bin/env bash
# Runs every fuzz target of the module for a fixed time each:
#   scripts/fuzz.sh [TIME]    TIME as go test -fuzztime takes it; default 10s
# A failing input is saved under the package's testdata/fuzz/<FuzzName>/
# (as go test -fuzz saves it): commit it as a regression seed once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
T="${1:-10s}"
# Minimising a new interesting input may take 60 s by default, during which
# the exec counter stands still: with 10 s runs a target spent its whole time
# minimising the first input it found (0 execs/sec). 2 s keeps them fuzzing.
MIN="${FUZZ_MINIMIZE_TIME:-2s}"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
cache="$(go env GOCACHE)/fuzz"

status=0
# The targets are read from the test files, and each package's test binary
# is built once, instrumented for fuzzing (go test -c -fuzz), for all its
# targets: `go test -fuzz` per target linked it again each time, and
# `go test -list` once more only to print the names (about half of CI's
# fuzz step).
while read -r dir pkg; do
  targets=$(cat "$dir"/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F) {$/\1/p' || true)
  [ -n "$targets" ] || continue
  test="$bin/$(echo "$pkg" | tr / _).test"
  go test -c -fuzz "^$(echo "$targets" | head -n 1)\$" -o "$test" "$pkg"
  for target in $targets; do
    echo "== $target ($pkg, $T)"
    log="$(mktemp)"
    # Run in the package's folder, as go test runs it: its testdata/fuzz
    # seeds are read there, and a failing input is written there.
    if ! (cd "$dir" && "$test" -test.run '^$' -test.fuzz "^${target}\$" -test.fuzztime "$T" \
      -test.fuzzminimizetime "$MIN" -test.fuzzcachedir "$cache/$pkg" </dev/null 2>&1) | tee "$log"; then
      # A fuzz run sometimes ends with a bare "context deadline exceeded"
      # when -fuzztime runs out while a worker is busy: that is the clock,
      # not a finding. A real failure names the input it wrote.
      if grep -q 'Failing input written to\|panic:' "$log" || ! grep -q 'context deadline exceeded' "$log"; then
        status=1
      else
        echo "== $target: stopped by the clock (context deadline exceeded), no failing input: not a failure"
      fi
    fi
    rm -f "$log"
  done
done < <(go list -f '{{.Dir}} {{.ImportPath}}' ./...)
exit "$status"
