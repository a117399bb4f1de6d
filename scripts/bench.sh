#!/usr/bin/env bash
# Measures loftyscan against gitleaks and against merely reading the input,
# on the same input in one run, and prints the median times, the ratios and
# the peak memory of each:
#
#   scripts/bench.sh git REPO    history: loftyscan git, gitleaks git, and
#                                git cat-file --batch-all-objects --batch
#                                (reading every object, the floor)
#   scripts/bench.sh dir [DIR]   a folder: loftyscan dir, gitleaks dir, and
#                                find DIR -type f -exec cat (the floor);
#                                without DIR, a copy of $(go env GOROOT)/src
#                                with a few synthetic keys planted
#
# Environment:
#   RUNS=3            runs of each command; the median is reported
#   GITLEAKS_RUNS=    runs of gitleaks (default RUNS; 1 saves minutes)
#   LOFTYSCAN=path    the binary to measure (default: built from this tree)
#   GITLEAKS=path     default: gitleaks on PATH, else ~/go/bin/gitleaks
#
# Times are wall seconds and peak RSS from /usr/bin/time -f "%e %M". The
# floor runs once first, unmeasured, so that every command reads from the
# page cache. gitleaks writes its report to a temporary file: run as root
# with -r /dev/null it would replace /dev/null with a regular file.
set -euo pipefail

mode="${1:-}"
case "$mode" in
git) [ $# -eq 2 ] || { echo "usage: $0 git REPO" >&2; exit 2; } ;;
dir) [ $# -le 2 ] || { echo "usage: $0 dir [DIR]" >&2; exit 2; } ;;
*) echo "usage: $0 git REPO | $0 dir [DIR]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
RUNS="${RUNS:-3}"
GITLEAKS_RUNS="${GITLEAKS_RUNS:-$RUNS}"
[ -x /usr/bin/time ] || { echo "bench.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/loftyscan-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ -z "${LOFTYSCAN:-}" ]; then
  (cd "$root" && go build -o "$work/loftyscan" .)
  LOFTYSCAN="$work/loftyscan"
fi
GITLEAKS="${GITLEAKS:-$(command -v gitleaks || echo "$HOME/go/bin/gitleaks")}"
have_gitleaks=1
[ -x "$GITLEAKS" ] || { echo "bench.sh: gitleaks not found; set GITLEAKS=path (its rows are left out)" >&2; have_gitleaks=0; }

# measure NAME RUNS CMD...: runs CMD, records "seconds KiB" per run.
declare -A med rss all
measure() {
  local name="$1" runs="$2"
  shift 2
  local times=() peak=0 i t m
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || true
    # GNU time puts "Command exited with non-zero status N" first when
    # the command fails (both scanners exit 1 when they find something).
    read -r t m < <(tail -n 1 "$work/time") || true
    if ! [[ "$t" =~ ^[0-9.]+$ && "$m" =~ ^[0-9]+$ ]]; then
      echo "bench.sh: $name failed:" >&2
      cat "$work/time" "$work/stderr" >&2
      exit 1
    fi
    times+=("$t")
    ((m > peak)) && peak=$m
  done
  # A tool that stopped early (a gitleaks error) would look fast: say so.
  if grep -qiE '(^|[^a-z])(err|error|fatal)([^a-z]|$)' "$work/stderr"; then
    echo "note:      $name wrote errors: $(grep -iE 'err|fatal' "$work/stderr" | head -1 | cut -c1-160)" >&2
  fi
  all[$name]="${times[*]}"
  med[$name]="$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')"
  rss[$name]="$peak"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

machine() {
  local cpu
  cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || true)"
  echo "machine:   $(nproc) cores${cpu:+ ($cpu)}, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB RAM"}'), $(uname -sr)"
  local gl
  gl="$("$GITLEAKS" version 2>/dev/null || true)"
  # A go-installed gitleaks does not know its version; its module does.
  [[ "$gl" =~ ^v?[0-9] ]] || gl="$(go version -m "$GITLEAKS" 2>/dev/null | awk '$1 == "mod" {print $3}' || true)"
  echo "tools:     $("$LOFTYSCAN" version 2>/dev/null | head -1), gitleaks ${gl:--}, $(git --version), $(go version | cut -d' ' -f3)"
}

row() { # name label
  printf '%-34s %9s s  %8d MiB   runs: %s\n' "$2" "${med[$1]}" "$((rss[$1] / 1024))" "${all[$1]}"
}

if [ "$mode" = git ]; then
  repo="$(cd "$2" && pwd)"
  git -C "$repo" rev-parse --git-dir >/dev/null
  commits="$(git -C "$repo" rev-list --all --count)"
  read -r blobs bytes < <(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
    awk '$1 == "blob" {n++; s += $2} END {printf "%d %.0f\n", n, s}')
  echo "input:     $repo: $commits commits, $blobs blobs, $(awk -v b="$bytes" 'BEGIN {printf "%.2f GB", b/1e9}') of blob content"
  machine
  floor=(git -C "$repo" cat-file --batch-all-objects --batch --unordered)
  "${floor[@]}" >/dev/null # warm the page cache
  measure floor "$RUNS" "${floor[@]}"
  measure loftyscan "$RUNS" "$LOFTYSCAN" git "$repo" --format json --output "$work/loftyscan.json"
  if ((have_gitleaks)); then
    # gitleaks reads history with git log -p, which stops at the first
    # missing blob (a partial clone's, or a mirror's that lacks some). Then
    # it scans a shared clone in which each missing blob is replaced by an
    # empty one (refs/replace/): the same history, less what loftyscan
    # cannot read either.
    glrepo="$repo"
    git -C "$repo" rev-list --objects --all --missing=print | sed -n 's/^?//p' >"$work/missing"
    if [ -s "$work/missing" ]; then
      glrepo="$work/gitleaks-repo.git"
      git clone -q --mirror --shared "$repo" "$glrepo"
      empty="$(git -C "$glrepo" hash-object -w --stdin </dev/null)"
      sed "s|.*|create refs/replace/& $empty|" "$work/missing" | git -C "$glrepo" update-ref --stdin
      echo "note:      $(wc -l <"$work/missing") missing blobs; gitleaks scans a clone with empty blobs in their place"
    fi
    measure gitleaks "$GITLEAKS_RUNS" "$GITLEAKS" git "$glrepo" --no-banner --log-level error -r "$work/gitleaks.json"
  fi
  echo
  row floor "git cat-file (read every object)"
  row loftyscan "loftyscan git"
  ((have_gitleaks)) && row gitleaks "gitleaks git"
  echo
  echo "loftyscan git takes $(awk -v a="${med[loftyscan]}" -v b="${med[floor]}" 'BEGIN {printf "%.2f", a / b}')x the time git cat-file takes to read the objects (target: <= 1)"
  ((have_gitleaks)) && echo "loftyscan git is $(ratio "${med[gitleaks]}" "${med[loftyscan]}")x faster than gitleaks git"
else
  dir="${2:-}"
  if [ -z "$dir" ]; then
    goroot="$(go env GOROOT)"
    dir="$work/src"
    cp -r "$goroot/src" "$dir"
    # Synthetic keys signed with the tests' public secret (see
    # internal/testtoken): plain, in a config file, and base64-wrapped.
    b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
    key() {
      local h p s
      h="$(printf '{"alg":"HS256"}' | b64url)"
      p="$(printf '{"iss":"loftyscan-bench","scope":"THIRD_PARTY_OPERATION","sub":"%s"}' "$1" | b64url)"
      s="$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac loftyscan-test-secret-NOT-A-LOFTY-KEY -binary | b64url)"
      printf '%s.%s.%s' "$h" "$p" "$s"
    }
    printf 'package http\n\nconst loftyKey = "%s"\n' "$(key net-http)" >"$dir/net/http/lofty_planted.go"
    printf 'LOFTY_API_KEY=%s\n' "$(key env)" >"$dir/cmd/go/testdata/lofty.env"
    printf 'secret: %s\n' "$(printf 'LOFTY_API_KEY=%s\n' "$(key b64)" | base64 -w0)" >"$dir/encoding/json/lofty_testdata.yaml"
    echo "input:     $(go version | cut -d' ' -f3) src with 3 planted keys: $(find "$dir" -type f | wc -l) files, $(du -sm "$dir" | cut -f1) MB"
  else
    dir="$(cd "$dir" && pwd)"
    echo "input:     $dir: $(find "$dir" -type f | wc -l) files, $(du -sm "$dir" | cut -f1) MB"
  fi
  machine
  floor=(sh -c 'find "$1" -type f -exec cat {} + >/dev/null' sh "$dir")
  "${floor[@]}"
  # From an empty folder: no .loftyscan.toml of the current folder applies.
  mkdir "$work/cwd"
  cd "$work/cwd"
  measure floor "$RUNS" "${floor[@]}"
  measure loftyscan "$RUNS" "$LOFTYSCAN" dir "$dir" --format json --output "$work/loftyscan.json"
  ((have_gitleaks)) && measure gitleaks "$GITLEAKS_RUNS" "$GITLEAKS" dir "$dir" --no-banner --log-level error -r "$work/gitleaks.json"
  echo
  row floor "find | cat (read every file)"
  row loftyscan "loftyscan dir"
  ((have_gitleaks)) && row gitleaks "gitleaks dir"
  echo
  echo "loftyscan dir takes $(awk -v a="${med[loftyscan]}" -v b="${med[floor]}" 'BEGIN {printf "%.2f", a / b}')x the time find | cat takes to read the files (target: <= 3)"
  ((have_gitleaks)) && echo "loftyscan dir is $(ratio "${med[gitleaks]}" "${med[loftyscan]}")x faster than gitleaks dir"
fi
if command -v python3 >/dev/null; then
  python3 - "$work/loftyscan.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["stats"]
print(f"loftyscan: {len(d['findings'])} findings, {s['files']} files/blobs, {s['bytes'] / 1e9:.2f} GB scanned, {s['errors']} errors")
EOF
fi
