#!/usr/bin/env bash
# The GitHub Action's install step: builds loftyscan from the action's own
# checkout ($GITHUB_ACTION_PATH) with the Go that actions/setup-go put on
# PATH. Nothing is downloaded but Go modules, through the Go module proxy
# and checked against go.sum.
#
#   GITHUB_ACTION_PATH  the action's checkout (default: this script's repository)
#   RUNNER_TEMP         where the binary goes (default: TMPDIR or /tmp)
#
# Output: bin, the path of the binary, which the scan step runs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src=${GITHUB_ACTION_PATH:-$LIB_DIR/../..}
dest=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/loftyscan-action

if ! command -v go >/dev/null 2>&1; then
  error "go is not on PATH: the action builds loftyscan from source with actions/setup-go, which must run first"
  exit 2
fi
# Git Bash on Windows: C:/x/y works both for bash and for go.exe.
if command -v cygpath >/dev/null 2>&1; then
  dest=$(cygpath -m "$dest")
fi
bin="$dest/loftyscan$(go env GOEXE | tr -d '\r')"
mkdir -p "$dest"
# The job's own Go settings are not loftyscan's: no go.work of the
# workspace, no GOFLAGS such as -mod=vendor, no C toolchain needed.
# -buildvcs=false: the action's folder may be a git checkout owned by
# another user (a container job), where VCS stamping fails the build.
(cd "$src" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$bin" .)
"$bin" version
set_output bin "$bin"
