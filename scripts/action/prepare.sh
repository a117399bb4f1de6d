#!/usr/bin/env bash
# The GitHub Action's first step: where loftyscan's binary goes and the
# cache key of a build of this action's source. Nothing is built,
# downloaded or run here: a run whose cache holds the build runs no Go.
#
#   GITHUB_ACTION_PATH   the action's checkout (default: this script's repository)
#   RUNNER_TEMP          where the binary goes (default: TMPDIR or /tmp)
#   RUNNER_OS, RUNNER_ARCH   as the runner sets them
#
# Outputs:
#   dir   the folder of the binary: the path actions/cache saves and restores
#   bin   the binary
#   key   loftyscan-OS-ARCH-HASH, HASH the SHA-256 of the source files that
#         go into the binary (*.go but tests, go.mod, go.sum) and their
#         names: the action's ref (a tag, a branch, a commit) decides the
#         source, so each ref's build is kept once, and two refs with the
#         same source share it
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

set_output dir "$dir"
set_output bin "$dir/loftyscan$exe"
set_output key "loftyscan-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$hash"
