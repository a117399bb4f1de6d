#!/usr/bin/env bash
# Runs every fuzz target of the module for a fixed time each:
#   scripts/fuzz.sh [TIME]    TIME as go test -fuzztime takes it; default 10s
# A failing input is saved by go test under the package's
# testdata/fuzz/<FuzzName>/: commit it as a regression seed once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
T="${1:-10s}"

status=0
for pkg in $(go list ./...); do
  # go test -list prints the matching names, then "ok  <package>".
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $target ($pkg, $T)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$T" "$pkg"; then
      status=1
    fi
  done
done
exit "$status"
