#!/usr/bin/env bash
# Measures loftyscan against gitleaks and against the floor (merely reading
# the input: git cat-file, ripgrep, find), on the same input in one run.
# The commands alternate, run after run, and the script prints for each the
# median wall time, the median CPU time (user+sys, children included), the
# peak RSS and the ratios to the reference, all from the same run.
#
#   scripts/bench.sh help       lists the modes and the environment
#
# gitleaks writes its report to a temporary file: run as root with
# -r /dev/null it would replace /dev/null with a regular file.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/bench.sh MODE [ARGS]

History (reference: git cat-file --batch-all-objects --batch --unordered):
  git REPO          loftyscan git, gitleaks git, git cat-file: the whole history
  planted REPO      the same on a mirror clone of REPO (cached) with one commit
                    on top of HEAD that adds 3 synthetic keys
  range REPO [N..]  --range HEAD~N..HEAD for each N (default 5 50): loftyscan,
                    gitleaks --log-opts, git rev-list HEAD~N..HEAD (reference)
  staged REPO       the pre-commit check: a 3-file change (one new file with a
                    key) staged in a clone of REPO whose index is HEAD's tree
                    (cached): loftyscan git --staged, gitleaks git
                    --pre-commit --staged, git diff --cached (reference)
  synth N KEYS      builds (or reuses) the synthetic history of N commits over
                    1,000 files with KEYS keys planted in old commits (git
                    fast-import; N may be 100k or 400k) and prints its path
  history N KEYS    git, range and staged on that synthetic history

Folders (reference: rg -uuu -a -c eyJ DIR, which opens and searches every file):
  dir [DIR]         loftyscan dir, gitleaks dir, rg, rg -z (which decompresses
                    gzip, bzip2, xz and zstd files too), find DIR -type f -exec cat;
                    without DIR, a copy of $(go env GOROOT)/src with 3 keys
  dir-small         100,000 small files (100-1,500 bytes), 3 keys
  dir-jwt           1,000 JSON fixtures of 100 generic (non-Lofty) JWTs, 3 keys
  dir-empty         1,000,000 empty files; find DIR -type f is the reference

  all [REPO...]     every folder mode, history 100k/400k with 0 and 50 keys,
                    and planted, range and staged on each REPO (long)
  help              this text

Environment:
  RUNS=3                  runs of each command; medians are reported
  GITLEAKS_RUNS=          runs of gitleaks (default RUNS; 1 saves minutes)
  GITLEAKS_MAX_COMMITS=20000  gitleaks is left out of whole-history rows for
                          longer histories (it takes 5 minutes on 46,000
                          commits); ranges and staged keep it
  LOFTYSCAN=path          the binary to measure (default: built from this tree)
  LOFTYSCAN_BASE=path     another build (say, of main) timed in the same
                          rounds, in a "loftyscan (base)" row: a change's
                          gain measured side by side
  GITLEAKS=path|none      default: gitleaks on PATH, else ~/go/bin/gitleaks;
                          none leaves its rows out
  LOFTYSCAN_BENCH_CACHE=  where built inputs are kept between runs
                          (default /tmp/loftyscan-bench); delete to rebuild

Every key the script plants is a synthetic test token signed with the public
test secret of internal/testtoken (scripts/bench/benchdata makes them).
Costs come from scripts/bench/rusage (wall clock, and wait4's user and system
CPU and peak RSS, children included) to the microsecond. The reference runs
once first, unmeasured, so that every command reads from the page cache.
EOF
}

mode="${1:-}"
[ $# -gt 0 ] && shift
case "$mode" in
git | planted | staged) [ $# -eq 1 ] || { echo "usage: $0 $mode REPO" >&2; exit 2; } ;;
range) [ $# -ge 1 ] || { echo "usage: $0 range REPO [N...]" >&2; exit 2; } ;;
synth | history) [ $# -eq 2 ] || { echo "usage: $0 $mode N KEYS  (N: 100k, 400k or a number)" >&2; exit 2; } ;;
dir) [ $# -le 1 ] || { echo "usage: $0 dir [DIR]" >&2; exit 2; } ;;
dir-small | dir-jwt | dir-empty) [ $# -eq 0 ] || { echo "usage: $0 $mode" >&2; exit 2; } ;;
all) ;;
help | -h | --help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
RUNS="${RUNS:-3}"
GITLEAKS_RUNS="${GITLEAKS_RUNS:-$RUNS}"
GITLEAKS_MAX_COMMITS="${GITLEAKS_MAX_COMMITS:-20000}"
cache="${LOFTYSCAN_BENCH_CACHE:-/tmp/loftyscan-bench}"

work="$(mktemp -d "${TMPDIR:-/tmp}/loftyscan-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache" "$work/cwd"
# From an empty folder: no .loftyscan.toml or .gitleaks.toml of the
# current folder applies.
cd "$work/cwd"

# A fixed identity for the commits the script makes, whatever the user's.
export GIT_AUTHOR_NAME="loftyscan bench" GIT_AUTHOR_EMAIL="bench@example.com"
export GIT_COMMITTER_NAME="loftyscan bench" GIT_COMMITTER_EMAIL="bench@example.com"

if [ -z "${LOFTYSCAN:-}" ]; then
  (cd "$root" && go build -o "$work/loftyscan" .)
  LOFTYSCAN="$work/loftyscan"
fi
GITLEAKS="${GITLEAKS:-$(command -v gitleaks || echo "$HOME/go/bin/gitleaks")}"
have_gitleaks=1
if [ "$GITLEAKS" = none ]; then
  have_gitleaks=0
elif ! [ -x "$GITLEAKS" ]; then
  echo "bench.sh: gitleaks not found; set GITLEAKS=path (its rows are left out)" >&2
  have_gitleaks=0
fi
have_rg=1
command -v rg >/dev/null || { echo "bench.sh: rg not found (apt-get install ripgrep); its rows are left out" >&2; have_rg=0; }

# benchdata runs scripts/bench/benchdata, built once per run.
benchdata() {
  [ -x "$work/benchdata" ] || (cd "$root" && go build -o "$work/benchdata" ./scripts/bench/benchdata)
  "$work/benchdata" "$@"
}
(cd "$root" && go build -o "$work/rusage" ./scripts/bench/rusage)

# ---- timing -------------------------------------------------------------

# Commands to time, in the order they alternate; the first is the reference.
tools=()
declare -A tcmd tlabel truns twall tcpu trss texit
# add NAME LABEL RUNS CMD...: registers a command to time.
add() {
  local name="$1" label="$2" runs="$3"
  shift 3
  tools+=("$name")
  tlabel[$name]="$label"
  truns[$name]="$runs"
  tcmd[$name]="$(printf '%q ' "$@")"
  twall[$name]="" tcpu[$name]="" trss[$name]=0 texit[$name]=""
}

# add_loftyscan LABEL ARGS...: registers loftyscan with ARGS (then
# --format json --output FILE) and, with LOFTYSCAN_BASE, the base build.
add_loftyscan() {
  local label="$1"
  shift
  add loftyscan "$label" "$RUNS" "$LOFTYSCAN" "$@" --format json --output "$work/loftyscan.json"
  if [ -n "${LOFTYSCAN_BASE:-}" ]; then
    add base "$label (base)" "$RUNS" "$LOFTYSCAN_BASE" "$@" --format json --output "$work/base.json"
  fi
}

# once NAME: runs the command once and records wall, user+sys, RSS, exit.
once() {
  local n="$1" t u s m x
  rm -f "$work/time"
  eval "\"\$work/rusage\" -o \"\$work/time\" ${tcmd[$n]}" >/dev/null 2>"$work/stderr.$n" || true
  read -r t u s m x <"$work/time" || true
  if ! [[ "$t" =~ ^[0-9.]+$ && "$m" =~ ^[0-9]+$ && "$x" =~ ^[0-9]+$ ]]; then
    echo "bench.sh: ${tlabel[$n]} did not run:" >&2
    cat "$work/time" "$work/stderr.$n" >&2
    exit 1
  fi
  twall[$n]+="$t "
  tcpu[$n]+="$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.4f", u + s}') "
  ((m > trss[$n])) && trss[$n]=$m
  texit[$n]+="$x "
}

# median "1.2 0.9 1.0": the median of the numbers.
median() { tr -s ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {printf "%.4f\n", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# list "0.1234 0.2345": the numbers to the millisecond.
list() { tr -s ' ' '\n' <<<"$1" | grep . | awk '{printf "%s%.3f", (NR > 1) ? " " : "", $1} END {print ""}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# run TITLE: warms the cache with the reference, times every command in
# alternating rounds, prints the table and forgets the commands.
run() {
  local title="$1" i n max=0 ref="${tools[0]}"
  for n in "${tools[@]}"; do ((truns[$n] > max)) && max=${truns[$n]}; done
  eval "${tcmd[$ref]}" >/dev/null 2>&1 || true
  for ((i = 0; i < max; i++)); do
    for n in "${tools[@]}"; do ((i < truns[$n])) && once "$n"; done
  done
  local rw rc
  rw="$(median "${twall[$ref]}")" rc="$(median "${tcpu[$ref]}")"
  echo
  echo "### $title"
  echo
  echo "| tool | wall s (median) | CPU s user+sys (median) | peak RSS MiB | wall ÷ ${tlabel[$ref]} | CPU ÷ ${tlabel[$ref]} | exit | wall runs | CPU runs |"
  echo "|---|---:|---:|---:|---:|---:|---|---|---|"
  declare -gA mwall mcpu
  for n in "${tools[@]}"; do
    mwall[$n]="$(median "${twall[$n]}")" mcpu[$n]="$(median "${tcpu[$n]}")"
    printf '| %s | %.3f | %.3f | %d | %s | %s | %s | %s | %s |\n' "${tlabel[$n]}" "${mwall[$n]}" "${mcpu[$n]}" \
      "$((trss[$n] / 1024))" "$(ratio "${mwall[$n]}" "$rw")" "$(ratio "${mcpu[$n]}" "$rc")" \
      "$(tr -s ' ' '\n' <<<"${texit[$n]}" | grep . | sort -u | paste -sd/)" "$(list "${twall[$n]}")" "$(list "${tcpu[$n]}")"
  done
  echo
  if [ -n "${tcmd[gitleaks]:-}" ] && [ -n "${tcmd[loftyscan]:-}" ]; then
    echo "loftyscan vs gitleaks: $(ratio "${mwall[gitleaks]}" "${mwall[loftyscan]}")x less wall time, $(ratio "${mcpu[gitleaks]}" "${mcpu[loftyscan]}")x less CPU"
  fi
  if [ -n "${tcmd[base]:-}" ] && [ -n "${tcmd[loftyscan]:-}" ]; then
    echo "loftyscan vs base: wall $(ratio "${mwall[loftyscan]}" "${mwall[base]}")x, CPU $(ratio "${mcpu[loftyscan]}" "${mcpu[base]}")x of the base build's"
  fi
  for n in "${tools[@]}"; do
    if grep -qiE '(^|[^a-z])(err|error|fatal|panic)([^a-z]|$)' "$work/stderr.$n"; then
      echo "note: ${tlabel[$n]} wrote errors: $(grep -iE 'err|fatal|panic' "$work/stderr.$n" | head -1 | cut -c1-160)"
    fi
  done
  findings
  echo
  echo "commands:"
  for n in "${tools[@]}"; do echo "    ${tcmd[$n]}"; done
  tools=()
  unset tcmd tlabel truns twall tcpu trss texit
  declare -gA tcmd tlabel truns twall tcpu trss texit
}

# findings prints what the last loftyscan and gitleaks runs reported.
findings() {
  python3 - "$work/loftyscan.json" "$work/gitleaks.json" <<'PY' || true
import json, sys
def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return None
l, g = load(sys.argv[1]), load(sys.argv[2])
ls = "-"
if l is not None:
    s = l["stats"]
    ls = "%d (stats: %d files/blobs, %.2f GB, %d errors)" % (len(l["findings"]), s["files"], s["bytes"] / 1e9, s["errors"])
gs = "-" if g is None else str(len(g))
print("findings: loftyscan %s; gitleaks %s (its own rules: not comparable)" % (ls, gs))
print("(files/blobs and GB as loftyscan's stats report them: builds before the fix of stats shared between runs counted a whole-history git scan's twice)")
PY
  rm -f "$work/loftyscan.json" "$work/gitleaks.json"
}

machine() {
  local cpu gl
  cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || true)"
  echo "machine: $(nproc) cores${cpu:+ ($cpu)}, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB RAM"}'), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
  gl="-"
  if ((have_gitleaks)); then
    gl="$("$GITLEAKS" version 2>/dev/null || true)"
    # A go-installed gitleaks does not know its version; its module does.
    [[ "$gl" =~ ^v?[0-9] ]] || gl="$(go version -m "$GITLEAKS" 2>/dev/null | awk '$1 == "mod" {print $3}' || true)"
  fi
  echo "tools: $("$LOFTYSCAN" version 2>/dev/null | sed -n 1p) ($LOFTYSCAN)${LOFTYSCAN_BASE:+, base $LOFTYSCAN_BASE}, gitleaks ${gl:--}, $( ((have_rg)) && rg --version | sed -n 1p), $(git --version), $(go version | cut -d' ' -f3); RUNS=$RUNS GITLEAKS_RUNS=$GITLEAKS_RUNS"
}

# ---- inputs -------------------------------------------------------------

# plant_commit REPO: adds one commit on top of HEAD with 3 synthetic keys:
# plain in Go source, in an env file, and base64-wrapped in YAML.
plant_commit() {
  local repo="$1" idx="$work/plant.index" k blob tree commit
  mapfile -t k < <(benchdata keys -n 3 -kind planted)
  GIT_INDEX_FILE="$idx" git -C "$repo" read-tree HEAD
  plant() { # PATH CONTENT
    blob="$(printf '%s' "$2" | git -C "$repo" hash-object -w --stdin)"
    GIT_INDEX_FILE="$idx" git -C "$repo" update-index --add --cacheinfo "100644,$blob,$1"
  }
  plant bench_planted/lofty.go "$(printf 'package bench\n\nconst loftyKey = "%s"\n' "${k[0]}")"
  plant bench_planted/lofty.env "$(printf 'LOFTY_API_KEY=%s\n' "${k[1]}")"
  plant bench_planted/secrets.yaml "$(printf 'secret: %s\n' "$(printf 'LOFTY_API_KEY=%s\n' "${k[2]}" | base64 -w0)")"
  tree="$(GIT_INDEX_FILE="$idx" git -C "$repo" write-tree)"
  commit="$(git -C "$repo" commit-tree "$tree" -p HEAD -m "bench: plant 3 synthetic keys")"
  git -C "$repo" update-ref HEAD "$commit"
  rm -f "$idx"
}

# planted_repo REPO: prints the path of a mirror clone of REPO (hard links,
# no copy) with plant_commit's commit on top, built once into the cache.
planted_repo() {
  local src name dst
  src="$(cd "$1" && pwd)"
  name="$(printf '%s' "$src" | sed 's|/repo$||; s|\.git$||; s|.*/||')"
  dst="$cache/planted/$name.git"
  if ! [ -f "$dst/.bench-done" ]; then
    rm -rf "$dst" && mkdir -p "$cache/planted"
    git clone -q --mirror "$src" "$dst"
    plant_commit "$dst"
    touch "$dst/.bench-done"
  fi
  echo "$dst"
}

# gitleaks_repo REPO: prints a repository gitleaks can read whole. gitleaks
# reads history with git log -p, which stops at the first missing blob (a
# partial clone's, or a mirror's that lacks some); then it gets a shared
# clone in which each missing blob is replaced by an empty one
# (refs/replace/): the same history, less what loftyscan cannot read either.
gitleaks_repo() {
  local repo="$1" gl empty
  gl="$work/gitleaks-$(printf '%s' "$1" | md5sum | cut -c1-8).git"
  git -C "$repo" rev-list --objects --all --missing=print | sed -n 's/^?//p' >"$work/missing"
  if ! [ -s "$work/missing" ]; then
    echo "$repo"
    return
  fi
  if ! [ -d "$gl" ]; then
    git clone -q --mirror --shared "$repo" "$gl"
    empty="$(git -C "$gl" hash-object -w --stdin </dev/null)"
    sed "s|.*|create refs/replace/& $empty|" "$work/missing" | git -C "$gl" update-ref --stdin
  fi
  echo "note: $(wc -l <"$work/missing") missing blobs; gitleaks scans a clone with empty blobs in their place" >&2
  echo "$gl"
}

# count N: 100k -> 100000.
count() {
  case "$1" in
  *[kK]) echo $((${1%[kK]} * 1000)) ;;
  *[mM]) echo $((${1%[mM]} * 1000000)) ;;
  *) echo "$1" ;;
  esac
}

# synth_repo N KEYS: prints the path of the synthetic history (a repository
# with its work tree checked out), built once into the cache.
synth_repo() {
  local n k dst
  n="$(count "$1")" k="$2"
  dst="$cache/synth/c$n-k$k"
  if ! [ -f "$dst/.git/bench-done" ]; then
    rm -rf "$dst" "$dst.tmp" && mkdir -p "$dst.tmp"
    echo "building the synthetic history: $n commits, $k keys (git fast-import) ..." >&2
    git -C "$dst.tmp" init -q -b main
    # glibc's default trimming makes fast-import give memory back and take
    # it again at every commit: 50 times slower (see scripts/test.sh).
    benchdata history -commits "$n" -keys "$k" | MALLOC_TRIM_THRESHOLD_=268435456 git -C "$dst.tmp" fast-import --quiet
    git -C "$dst.tmp" reset -q --hard
    touch "$dst.tmp/.git/bench-done"
    mv "$dst.tmp" "$dst"
  fi
  echo "$dst"
}

# staged_clone REPO: prints a clone of REPO with a 3-file change staged (a
# new file with a key, two files edited), built once. Its index is HEAD's
# tree, as after a checkout, but the work tree holds only the staged files:
# a partial clone may lack blobs of HEAD, which a checkout would need.
staged_clone() {
  local src name dst f
  src="$(cd "$1" && pwd)"
  name="$(printf '%s' "$src" | md5sum | cut -c1-8)-$(printf '%s' "$src" | sed 's|/repo$||; s|/\.git$||; s|\.git$||; s|.*/||')"
  dst="$cache/staged/$name"
  if ! [ -f "$dst/.git/bench-done" ]; then
    rm -rf "$dst" && mkdir -p "$cache/staged"
    git clone -q --no-checkout "$src" "$dst"
    git -C "$dst" read-tree HEAD
    mkdir -p "$dst/bench_staged"
    printf 'LOFTY_API_KEY=%s\n' "$(benchdata keys -n 1 -kind staged)" >"$dst/bench_staged/new.env"
    git -C "$dst" add bench_staged/new.env
    # Two edited files: the 7th and the middle tracked regular file whose
    # blob is present.
    git -C "$dst" ls-files -s | awk '$1 == "100644"' | cut -f2- |
      awk '{a[NR] = $0} END {for (i = 7; i <= NR; i += int(NR / 2)) print a[i]}' |
      while IFS= read -r f; do
        git -C "$dst" cat-file -e ":$f" 2>/dev/null || continue
        mkdir -p "$(dirname "$dst/$f")"
        git -C "$dst" cat-file blob ":$f" >"$dst/$f"
        printf '\n// edited by loftyscan bench\n' >>"$dst/$f"
        git -C "$dst" add -- "$f"
      done
    touch "$dst/.git/bench-done"
  fi
  echo "$dst"
}

# gosrc_dir: a copy of GOROOT/src with 3 synthetic keys planted.
gosrc_dir() {
  local v dst k
  v="$(go env GOVERSION)"
  dst="$cache/dirs/gosrc-$v"
  if ! [ -f "$dst.done" ]; then
    rm -rf "$dst" && mkdir -p "$cache/dirs"
    cp -r "$(go env GOROOT)/src" "$dst"
    mapfile -t k < <(benchdata keys -n 3 -kind gosrc)
    printf 'package http\n\nconst loftyKey = "%s"\n' "${k[0]}" >"$dst/net/http/lofty_planted.go"
    printf 'LOFTY_API_KEY=%s\n' "${k[1]}" >"$dst/cmd/go/testdata/lofty.env"
    printf 'secret: %s\n' "$(printf 'LOFTY_API_KEY=%s\n' "${k[2]}" | base64 -w0)" >"$dst/encoding/json/lofty_testdata.yaml"
    touch "$dst.done"
  fi
  echo "$dst"
}

# made_dir KIND: a folder made by benchdata (small, jwt, empty), built once.
made_dir() {
  local dst="$cache/dirs/$1"
  if ! [ -f "$dst.done" ]; then
    rm -rf "$dst" && mkdir -p "$cache/dirs"
    echo "building $dst ..." >&2
    case "$1" in
    empty) benchdata empty -dir "$dst" ;;
    *) benchdata "$1" -dir "$dst" -keys 3 ;;
    esac
    touch "$dst.done"
  fi
  echo "$dst"
}

# ---- modes --------------------------------------------------------------

bench_git() {
  local repo commits blobs bytes
  repo="$(cd "$1" && pwd)"
  git -C "$repo" rev-parse --git-dir >/dev/null
  commits="$(git -C "$repo" rev-list --all --count)"
  read -r blobs bytes < <(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
    awk '$1 == "blob" {n++; s += $2} END {printf "%d %.0f\n", n, s}')
  add cat-file "git cat-file" "$RUNS" git -C "$repo" cat-file --batch-all-objects --batch --unordered
  add_loftyscan "loftyscan git" git "$repo"
  if ((have_gitleaks && commits > GITLEAKS_MAX_COMMITS)); then
    echo "note: gitleaks left out: $commits commits > GITLEAKS_MAX_COMMITS=$GITLEAKS_MAX_COMMITS"
  elif ((have_gitleaks)); then
    add gitleaks "gitleaks git" "$GITLEAKS_RUNS" \
      "$GITLEAKS" git "$(gitleaks_repo "$repo")" --no-banner --log-level error -r "$work/gitleaks.json"
  fi
  run "git: $repo ($commits commits, $blobs blobs, $(awk -v b="$bytes" 'BEGIN {printf "%.2f GB", b/1e9}') of blobs)"
}

bench_range() {
  local repo="$1" n ns
  shift
  ns=("$@")
  ((${#ns[@]})) || ns=(5 50)
  for n in "${ns[@]}"; do
    git -C "$repo" rev-parse -q --verify "HEAD~$n^{commit}" >/dev/null || {
      echo "bench.sh: $repo has no HEAD~$n" >&2
      continue
    }
    add rev-list "git rev-list" "$RUNS" git -C "$repo" rev-list "HEAD~$n..HEAD"
    add_loftyscan "loftyscan --range" git "$repo" --range "HEAD~$n..HEAD"
    ((have_gitleaks)) && add gitleaks "gitleaks --log-opts" "$GITLEAKS_RUNS" \
      "$GITLEAKS" git "$(gitleaks_repo "$repo")" --log-opts "HEAD~$n..HEAD" --no-banner --log-level error -r "$work/gitleaks.json"
    run "range HEAD~$n..HEAD: $repo ($(git -C "$repo" rev-list --all --count) commits in all)"
  done
}

bench_staged() {
  local wt
  wt="$(staged_clone "$1")"
  add diff "git diff --cached" "$RUNS" git -C "$wt" diff --cached
  add_loftyscan "loftyscan --staged" git "$wt" --staged
  ((have_gitleaks)) && add gitleaks "gitleaks --staged" "$GITLEAKS_RUNS" \
    "$GITLEAKS" git "$wt" --pre-commit --staged --no-banner --log-level error -r "$work/gitleaks.json"
  run "staged: 3 files ($(git -C "$wt" diff --cached --shortstat | sed 's/^ *//')) in a clone of $1 (HEAD has $(git -C "$wt" rev-list --count HEAD) commits)"
}

# bench_dir DIR TITLE [find]: with find, the reference is listing the files.
bench_dir() {
  local dir="$1" title="$2"
  if [ "${3:-}" = find ]; then
    add find "find -type f" "$RUNS" find "$dir" -type f
  fi
  ((have_rg)) && add rg "rg" "$RUNS" rg -uuu -a -c eyJ "$dir"
  # rg -z also decompresses what loftyscan opens (gzip, bzip2, xz, zstd),
  # with the external tools it runs; the reference stays plain rg.
  [ "${3:-}" = find ] || { ((have_rg)) && add rgz "rg -z" "$RUNS" rg -z -uuu -a -c eyJ "$dir"; }
  # shellcheck disable=SC2016 # $1 is the inner shell's
  add cat "find -exec cat" "$RUNS" sh -c 'find "$1" -type f -exec cat {} + >/dev/null' sh "$dir"
  add_loftyscan "loftyscan dir" dir "$dir"
  ((have_gitleaks)) && add gitleaks "gitleaks dir" "$GITLEAKS_RUNS" \
    "$GITLEAKS" dir "$dir" --no-banner --log-level error -r "$work/gitleaks.json"
  run "$title: $dir ($(find "$dir" -type f | wc -l) files, $(du -sm --apparent-size "$dir" | cut -f1) MB)"
}

bench_history() {
  local repo
  repo="$(synth_repo "$1" "$2")"
  bench_git "$repo"
  bench_range "$repo"
  bench_staged "$repo"
}

case "$mode" in
synth) synth_repo "$@"; exit 0 ;;
esac

machine
case "$mode" in
git) bench_git "$1" ;;
planted) bench_git "$(planted_repo "$1")" ;;
range) bench_range "$@" ;;
staged) bench_staged "$1" ;;
history) bench_history "$1" "$2" ;;
dir)
  if [ -n "${1:-}" ]; then
    bench_dir "$(cd "$1" && pwd)" "dir"
  else
    bench_dir "$(gosrc_dir)" "dir: $(go version | cut -d' ' -f3) src with 3 keys planted"
  fi
  ;;
dir-small) bench_dir "$(made_dir small)" "dir-small: 100,000 small files, 3 keys" ;;
dir-jwt) bench_dir "$(made_dir jwt)" "dir-jwt: JSON fixtures dense with generic JWTs, 3 keys" ;;
dir-empty) bench_dir "$(made_dir empty)" "dir-empty: 1,000,000 empty files" find ;;
all)
  bench_dir "$(gosrc_dir)" "dir: $(go version | cut -d' ' -f3) src with 3 keys planted"
  bench_dir "$(made_dir small)" "dir-small: 100,000 small files, 3 keys"
  bench_dir "$(made_dir jwt)" "dir-jwt: JSON fixtures dense with generic JWTs, 3 keys"
  bench_dir "$(made_dir empty)" "dir-empty: 1,000,000 empty files" find
  for n in 100k 400k; do
    for k in 0 50; do bench_history "$n" "$k"; done
  done
  for r in "$@"; do
    bench_git "$(planted_repo "$r")"
    bench_range "$r"
    bench_staged "$r"
  done
  ;;
esac
