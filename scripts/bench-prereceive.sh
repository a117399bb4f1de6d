#!/usr/bin/env bash
# Measures the pre-receive hook (README, "Push protection": Time) with real
# git pushes over file:// into copies of a large repository: the hook's own
# cost (the loftyscan process) beside the whole git push, with and without
# the hook, in one run.
#
#   scripts/bench-prereceive.sh REPO [ROUNDS] [small|whole|all]
#
# REPO is a bare repository holding every object its refs reach (a partial
# clone's missing blobs make git push fail). small: a push of 100 new
# commits onto REPO's default branch, clean and with a synthetic key in
# commit 50 (rejected), into a hard-linked copy of REPO; whole: every ref of
# REPO pushed into an empty repository, with the default budget (4s, fails
# closed), with --pre-receive-budget 0 (the whole scan), and with no hook.
# Each line: wall user sys maxrss(KiB) exit, from scripts/bench/rusage
# (children included). The 100 commits go onto $BRANCH (default: HEAD's
# branch, or main). Work files go to $BENCH_DIR (default a temporary
# folder, removed at the end). Every key is a synthetic test token
# (scripts/bench/benchdata): none is real.
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
repo=$(cd "$1" && pwd)
rounds=${2:-3}
mode=${3:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
git -C "$repo" rev-parse --is-bare-repository | grep -q true || { echo "$repo: want a bare repository" >&2; exit 2; }

work=${BENCH_DIR:-}
if [ -z "$work" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
(cd "$root" && go build -o "$work/loftyscan" . && go build -o "$work/rusage" ./scripts/bench/rusage &&
  go build -o "$work/benchdata" ./scripts/bench/benchdata)
ls="$work/loftyscan"

# newserver DIR SRC FLAGS...: a bare repository (a hard-linked copy of SRC,
# or empty when SRC is "") with loftyscan's hook, its loftyscan call timed
# into DIR.time; FLAGS "none": no hook.
newserver() {
  local dir=$1 src=$2; shift 2
  rm -rf "$dir"
  if [ -n "$src" ]; then cp -al "$src" "$dir"; else git init -q --bare "$dir"; fi
  [ "${1:-}" = none ] && return
  "$ls" hook install --pre-receive "$dir" -- "$@" >/dev/null
  sed -i "s#| \"\$loftyscan\" git --pre-receive#| '$work/rusage' -o '$dir.time' \"\$loftyscan\" git --pre-receive#" "$dir/hooks/pre-receive"
  grep -q rusage "$dir/hooks/pre-receive" || { echo "cannot time the hook of $dir" >&2; exit 1; }
}

# timed NAME SERVER CMD...: runs a push, prints its cost and the hook's.
timed() {
  local name=$1 srv=$2; shift 2
  rm -f "$srv.time"
  "$work/rusage" -o "$work/push.time" "$@" >"$work/$name.out" 2>&1 || true
  printf '%-22s push %s' "$name" "$(cat "$work/push.time")"
  [ -f "$srv.time" ] && printf '   hook %s' "$(cat "$srv.time")"
  printf '\n'
  grep -h '^remote: loftyscan: \(push rejected\|checked\|error\)' "$work/$name.out" | sed 's/ *$//' | head -2 | sed 's/^/    /' || true
}

# The branch the 100 commits go onto: $BRANCH, else HEAD's, else main.
branch=${BRANCH:-$(git -C "$repo" symbolic-ref --short HEAD)}
git -C "$repo" rev-parse -q --verify "refs/heads/$branch" >/dev/null || branch=main
if [ "$mode" != whole ]; then
  # Two clients with 100 commits each on the default branch: one change to
  # an existing file and one new file per commit; the second adds a key in
  # commit 50.
  key=$("$work/benchdata" keys -n 1 -kind prereceive)
  for c in clean key; do
    rm -rf "$work/client-$c"
    git clone -q --shared --branch "$branch" "$repo" "$work/client-$c"
    mapfile -t files < <(git -C "$work/client-$c" ls-files | grep -v '^\.' | head -100)
    for i in $(seq 0 99); do
      printf '\n// bench change %d\n' "$i" >>"$work/client-$c/${files[$i]}"
      printf 'bench change %d\n' "$i" >"$work/client-$c/bench_$i.txt"
      [ "$c" = key ] && [ "$i" = 50 ] && printf 'LOFTY_API_KEY=%s\n' "$key" >"$work/client-$c/deploy.env"
      git -C "$work/client-$c" add -A
      git -C "$work/client-$c" -c user.name=bench -c user.email=bench@example.com commit -q --no-verify -m "bench change $i"
    done
  done
  newserver "$work/big-hook.git" "$repo"
  newserver "$work/big-plain.git" "$repo" none
  old=$(git -C "$repo" rev-parse "$branch")
  for r in $(seq "$rounds"); do
    echo "round $r, load $(cut -d' ' -f1-3 /proc/loadavg)"
    timed push100-hook "$work/big-hook.git" git -C "$work/client-clean" push -q "file://$work/big-hook.git" "$branch"
    git -C "$work/big-hook.git" update-ref "refs/heads/$branch" "$old"
    timed push100-nohook "$work/big-plain.git" git -C "$work/client-clean" push -q "file://$work/big-plain.git" "$branch"
    git -C "$work/big-plain.git" update-ref "refs/heads/$branch" "$old"
    timed push100-key-hook "$work/big-hook.git" git -C "$work/client-key" push -q "file://$work/big-hook.git" "$branch"
  done
fi

if [ "$mode" != small ]; then
  for r in $(seq "$rounds"); do
    for kind in default budget0 nohook; do
      case $kind in
        default) newserver "$work/empty-$kind.git" "" ;;
        budget0) newserver "$work/empty-$kind.git" "" --pre-receive-budget 0 ;;
        nohook) newserver "$work/empty-$kind.git" "" none ;;
      esac
      echo "round $r, load $(cut -d' ' -f1-3 /proc/loadavg)"
      timed "whole-$kind" "$work/empty-$kind.git" git -C "$repo" push -q "file://$work/empty-$kind.git" 'refs/*:refs/*'
      rm -rf "$work/empty-$kind.git"
    done
  done
fi
