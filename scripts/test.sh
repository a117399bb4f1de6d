#!/usr/bin/env bash
# The test command: installs the programs the tests run for real, then runs
# every test with LOFTYSCAN_REQUIRE_TOOLS=1, so a missing program fails its
# test instead of skipping it. Arguments go to `go test` before ./...:
#
#   scripts/test.sh                    # what a fresh machine needs, then go test ./...
#   scripts/test.sh -race -count=1     # as .ci/run calls it
#
# Debian and Ubuntu packages are installed with apt-get when this runs as
# root (or with sudo when it needs no password); GoReleaser with go install.
# Elsewhere it names what is missing and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.15.1
# First, so that the GoReleaser installed below wins over an older one.
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# program on PATH:the Debian package that provides it
needed="git:git git-lfs:git-lfs pre-commit:pre-commit git-filter-repo:git-filter-repo rg:ripgrep dpkg:dpkg dpkg-deb:dpkg ar:binutils xxd:xxd unzip:unzip zip:zip tar:tar time:time
        bzip2:bzip2 xz:xz-utils zstd:zstd lz4:lz4 lzip:lzip compress:ncompress 7zz:7zip gcab:gcab python3:python3"

# The race detector links with cgo: `-race` needs a C compiler.
case " $* " in *" -race "*) needed="$needed gcc:gcc" ;; esac

# type -P looks for a file on PATH only: `command -v time` finds bash's time
# keyword, and GNU time (/usr/bin/time) would never be installed.
missing=()
for pair in $needed; do
  type -P "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    as_root=(unavailable)
  fi
  if [ "${as_root[*]}" = unavailable ] || ! command -v apt-get >/dev/null; then
    echo "test.sh: missing programs; install these packages (Debian/Ubuntu names): ${missing[*]}" >&2
    echo "test.sh: or run plain 'go test ./...', which skips the tests that need them" >&2
    exit 1
  fi
  echo "== apt-get install ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# GoReleaser: the release test builds a snapshot with it. A v1 on PATH
# cannot read the version 2 configuration, so that counts as missing.
if ! goreleaser --version 2>/dev/null | grep -Eq '^GitVersion:[[:space:]]+v?2\.'; then
  echo "== go install github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION (takes a few minutes)"
  go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi

export LOFTYSCAN_REQUIRE_TOOLS=1
# glibc gives freed memory back past 128 KiB by default, and git fast-import,
# which the tests use to build long histories, frees and takes back such a
# block at every commit: 20,000 commits took 61 s (35 s in brk), 1 s with
# this. It changes no result, only how often memory goes back to the system.
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-268435456}"
# Every package (./...), the slowest first: go test starts them in the order
# given, as many at a time as the machine has cores, and in the order of their
# names the scanner package, one of the four that take minutes, started last
# and ran alone for three minutes on two cores.
module=$(go list -m)
packages=()
for p in e2e scanner gitscan internal/cli internal/gitobj; do packages+=("$module/$p"); done
while read -r p; do
  case " ${packages[*]} " in *" $p "*) ;; *) packages+=("$p") ;; esac
done < <(go list ./...)
echo "== go test $* ./... (${#packages[@]} packages, the slowest first)"
# A longer test timeout than go test's 10 minutes: the release snapshot and the action
# tests build with the Go toolchain, which on a loaded 2-core machine can pass 10 minutes
# for the e2e package alone. A -timeout in the arguments still wins (it comes later).
exec go test -timeout 30m "$@" "${packages[@]}"
