#!/usr/bin/env bash
# The GitHub Action's build step, when the cache has no build of this
# source: builds loftyscan from the action's own checkout into the folder
# prepare.sh named, with a Go the runner already has (on PATH, or in its
# tool cache, where GitHub's images keep theirs). The action installs no
# Go: nothing is added to the job's PATH or environment, and this step's
# own Go settings are loftyscan's. Modules come through the module proxy,
# checked against go.sum.
#
#   LOFTYSCAN_BIN       where the binary goes
#   RUNNER_TOOL_CACHE   where to look for a Go when PATH has none
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src=${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${LOFTYSCAN_BIN:?the prepare step names the binary}
exe=
case "${RUNNER_OS:-}" in Windows) exe=.exe ;; esac

# usable GO: GO runs and is Go 1.21 or later, which fetches the Go that
# go.mod asks for when it is older (it prints its version).
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
    go=$candidate
    break
  fi
done
if [ -z "$go" ]; then
  error "no Go 1.21 or later on PATH or in the runner's tool cache to build loftyscan with: run actions/setup-go before this action, or use a runner image that has Go (GitHub's hosted runners do)"
  exit 2
fi
echo "building loftyscan with $go ($version); it fetches the Go of go.mod when older"

mkdir -p "$(dirname "$bin")"
# The job's own Go settings are not loftyscan's: no go.work of the
# workspace, no GOFLAGS such as -mod=vendor, no C toolchain, and the Go
# that go.mod asks for (GOTOOLCHAIN=auto fetches it when the go command is
# older, where actions/setup-go sets GOTOOLCHAIN=local for the whole job).
# -buildvcs=false: the action's folder is not a git checkout.
(cd "$src" && GOTOOLCHAIN=auto GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 \
  "$go" build -trimpath -buildvcs=false -o "$(native "$bin")" .)
"$bin" version
