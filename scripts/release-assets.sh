#!/usr/bin/env bash
# The files GoReleaser packs next to the binary: shell completions and the
# man page, written by loftyscan itself, into completions/ and manpages/
# (both ignored by git). .goreleaser.yaml runs it as a before hook with the
# commit's time; by hand:
#
#   scripts/release-assets.sh [SOURCE_DATE_EPOCH]
#
# SOURCE_DATE_EPOCH (default: the time of the last commit) is the date the
# man page shows (cobra/doc reads it), and gzip -n leaves out the name and
# time of the file, so the same commit gives byte-identical assets.
set -euo pipefail
cd "$(dirname "$0")/.."

export SOURCE_DATE_EPOCH="${1:-${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}}"
if ! [[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]]; then
  # GoReleaser passes a negative time when it could not read the commit
  # (a snapshot without a git remote): that would date the man page 0001.
  echo "release-assets: the commit time '$SOURCE_DATE_EPOCH' is not seconds since 1970" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The flags of the release build, so that its build cache is reused.
CGO_ENABLED=0 go build -trimpath -o "$tmp/loftyscan" .

rm -rf completions manpages
mkdir completions manpages
for shell in bash zsh fish; do
  "$tmp/loftyscan" completion "$shell" >"completions/loftyscan.$shell"
done

# `loftyscan man` is a hidden command that prints the man page (roff, made
# by cobra/doc from the command tree) to standard output.
if ! "$tmp/loftyscan" man >"$tmp/loftyscan.1" 2>"$tmp/man.err" || ! grep -q '^\.TH ' "$tmp/loftyscan.1"; then
  echo "release-assets: 'loftyscan man' did not print a man page:" >&2
  cat "$tmp/man.err" >&2
  echo "release-assets: the release needs the hidden 'man' command (cobra/doc GenMan to stdout)" >&2
  exit 1
fi
gzip -9 -n -c "$tmp/loftyscan.1" >manpages/loftyscan.1.gz
