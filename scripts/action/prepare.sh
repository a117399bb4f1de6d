#!/usr/bin/env bash
# The GitHub Action's first step: where loftyscan's binary goes, the cache
# key of a build of this action's source, and a Go to build it with should
# the cache miss. Nothing is built or downloaded here.
#
#   GITHUB_ACTION_PATH   the action's checkout (default: this script's repository)
#   RUNNER_TEMP          where the binary goes (default: TMPDIR or /tmp)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE   as the runner sets them
#
# Outputs:
#   dir   the folder of the binary: the path actions/cache saves and restores
#   bin   the binary
#   key   loftyscan-OS-ARCH-HASH, HASH the SHA-256 of the source files that
#         go into the binary (*.go but tests, go.mod, go.sum) and their
#         names: the same source gives the same key, whatever the action's ref
#   go    the absolute path of a go command (1.21 or later, so that it
#         fetches the toolchain go.mod asks for, through the module proxy)
#         found on PATH or in the runner's tool cache; empty when there is
#         none, and the action then runs actions/setup-go
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src=${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
dir=$(native "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/loftyscan-action")
exe=
case "${RUNNER_OS:-}" in Windows) exe=.exe ;; esac

sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi; }
hash=$(cd "$src" && find . -type f \( \( -name '*.go' ! -name '*_test.go' \) -o -name go.mod -o -name go.sum \) \
  ! -path '*/testdata/*' ! -path './.git/*' -print0 | LC_ALL=C sort -z |
  while IFS= read -r -d '' f; do printf '%s\0' "$f" && cat "$f"; done | sha256 | cut -c1-64)

# usable GO: GO runs and is Go 1.21 or later (it prints its version).
usable() {
  local v
  v=$(cd / && GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null | tr -d '\r') || return 1
  case "$v" in
    go1.2[1-9]* | go1.[3-9][0-9]* | go[2-9]*) echo "$v" ;;
    *) return 1 ;;
  esac
}
go=
for candidate in "$(command -v go || true)" "${RUNNER_TOOL_CACHE:-/nonexistent}"/go/*/*/bin/go"$exe"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && version=$(usable "$candidate"); then
    go=$(native "$candidate")
    echo "building with $go ($version) if the cache misses; it fetches the Go of go.mod when older"
    break
  fi
done

set_output dir "$dir"
set_output bin "$dir/loftyscan$exe"
set_output key "loftyscan-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$hash"
set_output go "$go"
