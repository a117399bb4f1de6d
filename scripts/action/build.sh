#!/usr/bin/env bash
# The GitHub Action's build step, when the cache has no build of this
# source: builds loftyscan from the action's own checkout into the folder
# prepare.sh named. Modules come through the module proxy, checked against
# go.sum. Only this step's environment is changed: the job's PATH and Go
# settings stay as they were.
#
#   LOFTYSCAN_GO    the go command prepare.sh found (default: go on PATH,
#                   which actions/setup-go put there)
#   LOFTYSCAN_BIN   where the binary goes
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

src=${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
go=${LOFTYSCAN_GO:-go}
bin=${LOFTYSCAN_BIN:?the prepare step names the binary}
mkdir -p "$(dirname "$bin")"
# The job's own Go settings are not loftyscan's: no go.work of the
# workspace, no GOFLAGS such as -mod=vendor, no C toolchain, and the Go
# that go.mod asks for (GOTOOLCHAIN=auto fetches it when the go command is
# older, where actions/setup-go sets GOTOOLCHAIN=local for the whole job).
# -buildvcs=false: the action's folder is not a git checkout.
(cd "$src" && GOTOOLCHAIN=auto GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 \
  "$go" build -trimpath -buildvcs=false -o "$bin" .)
"$bin" version
