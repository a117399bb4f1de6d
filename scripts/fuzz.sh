#!/usr/bin/env bash
# Runs every fuzz target of the module for a fixed time each:
#   scripts/fuzz.sh [TIME]    TIME as go test -fuzztime takes it; default 10s
# A failing input is saved by go test under the package's
# testdata/fuzz/<FuzzName>/: commit it as a regression seed once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
T="${1:-10s}"
# Minimising a new interesting input may take 60 s by default, during which
# the exec counter stands still: with 10 s runs a target spent its whole time
# minimising the first input it found (0 execs/sec). 2 s keeps them fuzzing.
MIN="${FUZZ_MINIMIZE_TIME:-2s}"

status=0
# The targets are read from the test files, not listed by `go test -list`,
# which links each package's test binary once more only to print names
# (about a minute of CI for 30 packages).
while read -r dir pkg; do
  for target in $(cat "$dir"/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F) {$/\1/p'); do
    echo "== $target ($pkg, $T)"
    log="$(mktemp)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$T" -fuzzminimizetime "$MIN" "$pkg" </dev/null 2>&1 | tee "$log"; then
      # go test -fuzz sometimes ends with a bare "context deadline exceeded"
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
