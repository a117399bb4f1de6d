#!/usr/bin/env bash
# The GitHub Action's range step: works out which commits to scan from the
# event that started the workflow, or from the inputs.
#
#   INPUT_PATH         the repository's folder (default .)
#   INPUT_RANGE        A..B to scan, as given; a single revision means its whole history
#   INPUT_BASE         scan merge-base(BASE, HEAD)..HEAD
#   INPUT_HEAD         the head of the range instead of the event's (default: the event's, else HEAD)
#   GITHUB_EVENT_NAME, GITHUB_EVENT_PATH   the event, as the runner sets them
#
# Output: range, one of
#   A..B    scan what the commits reachable from B and not from A introduced
#   REV     scan the whole history of REV (nothing of it was scanned before)
#   (empty) scan every ref of the repository (an event without commits of its own)
#
#   pull_request, pull_request_target:
#       merge-base(base.sha, head.sha)..head.sha. base.sha is the tip of the
#       base branch when the event fired, which may have moved on since the
#       branch point; the merge-base is where the pull request's own commits start.
#   merge_group:  merge-base(base_sha, head_sha)..head_sha, likewise.
#   push:         before..after. A new branch or tag (before is all zeros), or
#       a force-push whose old commit is not in the clone: the commits of after
#       that no other remote-tracking branch has (the default branch included).
#   anything else: every ref.
#
# Exit status 2, with a message, when the commits needed are not in the
# clone (a shallow checkout: set fetch-depth: 0) or the folder is not a
# repository.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

path=${INPUT_PATH:-.}
if ! cd "$path" 2>/dev/null; then
  error "path '$path' is not a folder: check out the repository first (actions/checkout), or set the action's path input to where it is"
  exit 2
fi
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  error "'$path' is not a git repository: check out the repository first (actions/checkout with fetch-depth: 0), or set the action's path input to where it is"
  exit 2
fi

fetch_hint="set fetch-depth: 0 on actions/checkout so the clone has the history the scan needs (or fetch the commits before this step, e.g. git fetch --unshallow)"

# need_commit REV WHAT exits 2 unless REV is a commit in the clone.
need_commit() {
  if has_commit "$1"; then
    return 0
  fi
  if is_shallow; then
    error "$2 $1 is not in this clone, which is shallow (actions/checkout fetches one commit by default): $fetch_hint"
  else
    error "$2 $1 is not in this clone: fetch it before this step (git fetch origin $1), or $fetch_hint"
  fi
  exit 2
}

# full REV prints the full commit name of REV.
full() { git rev-parse --verify --quiet "$1^{commit}"; }

# merge_range BASE HEAD WHAT sets range to merge-base(BASE, HEAD)..HEAD.
merge_range() {
  local base=$1 head=$2 what=$3 mb
  need_commit "$base" "the $what base commit"
  need_commit "$head" "the $what head commit"
  base=$(full "$base")
  head=$(full "$head")
  if ! mb=$(git merge-base "$base" "$head"); then
    if is_shallow; then
      error "the $what base $base and head $head are in this clone but their merge-base is not: the history is cut by a shallow checkout. $fetch_hint"
      exit 2
    fi
    warning "the $what base $base and head $head have no common history: scanning all of $head"
    range=$head
    return 0
  fi
  if [ "$mb" != "$base" ]; then
    echo "the base branch moved on after the branch point: scanning from the merge-base $mb, not from the base $base" >&2
  fi
  range="$mb..$head"
}

# new_commits AFTER REF sets range to the commits of AFTER that no
# remote-tracking branch has, other than REF's own (a push of a new branch
# makes origin/REF point at AFTER already). With one boundary commit B the
# range B..AFTER is exact. With several (the branch merged another
# unmerged branch), A..B can leave out the history of only one of them, so
# the boundary that leaves the fewest commits is used: the scan then also
# reads some commits already on other branches, and never misses a new one.
new_commits() {
  local after=$1 ref=$2 branch='' excl='' r remote own boundaries n best='' bestn='' count c
  case "$ref" in refs/heads/*) branch=${ref#refs/heads/} ;; esac
  for r in $(git for-each-ref --format='%(refname)' refs/remotes/); do
    case "$r" in */HEAD) continue ;; esac # a symbolic ref to a branch listed anyway
    own=
    if [ -n "$branch" ]; then
      for remote in $(git remote); do
        [ "$r" = "refs/remotes/$remote/$branch" ] && own=1
      done
    fi
    [ -n "$own" ] || excl="$excl $r"
  done
  # shellcheck disable=SC2086 # ref names never hold spaces or glob characters
  count=$(git rev-list --count "$after" --not $excl)
  # shellcheck disable=SC2086
  boundaries=$(git rev-list --boundary "$after" --not $excl | sed -n 's/^-//p')
  n=$(printf '%s\n' "$boundaries" | grep -c . || true)
  if [ "$count" -eq 0 ]; then
    echo "every commit of $after is on another branch already: nothing new to scan" >&2
    range="$after..$after"
  elif [ "$n" -eq 0 ]; then
    echo "no commit of $after is on another branch: scanning its whole history ($count commits)" >&2
    range=$after
  elif [ "$n" -eq 1 ]; then
    echo "$count new commits, from $boundaries" >&2
    range="$boundaries..$after"
  else
    for r in $boundaries; do
      c=$(git rev-list --count "$r..$after")
      if [ -z "$bestn" ] || [ "$c" -lt "$bestn" ]; then
        best=$r
        bestn=$c
      fi
    done
    warning "$after has $count new commits that join the other branches at $n commits; scanning $best..$after ($bestn commits, some of them already on other branches)"
    range="$best..$after"
  fi
}

# compute sets range.
compute() {
  local event=${GITHUB_EVENT_NAME:-} base=${INPUT_BASE:-} head=${INPUT_HEAD:-} before after ref

  if [ -n "${INPUT_RANGE:-}" ]; then
    local a b
    case "$INPUT_RANGE" in
      *...*)
        error "range '$INPUT_RANGE': the symmetric difference A...B is not supported; use A..B"
        exit 2
        ;;
      *..*)
        a=${INPUT_RANGE%%..*}
        b=${INPUT_RANGE#*..}
        need_commit "${a:-HEAD}" "the range's start"
        need_commit "${b:-HEAD}" "the range's end"
        ;;
      *) need_commit "$INPUT_RANGE" "the range's revision" ;;
    esac
    range=$INPUT_RANGE
    return 0
  fi

  case "$event" in
    pull_request | pull_request_target)
      [ -n "$base" ] || base=$(event_get pull_request.base.sha)
      [ -n "$head" ] || head=$(event_get pull_request.head.sha)
      if [ -z "$base" ] || [ -z "$head" ]; then
        error "the $event event at ${GITHUB_EVENT_PATH:-(GITHUB_EVENT_PATH is not set)} has no pull_request.base.sha or head.sha: set the action's base and head inputs"
        exit 2
      fi
      merge_range "$base" "$head" "pull request's"
      return 0
      ;;
    merge_group)
      [ -n "$base" ] || base=$(event_get merge_group.base_sha)
      [ -n "$head" ] || head=$(event_get merge_group.head_sha)
      [ -n "$head" ] || head=HEAD
      if [ -n "$base" ]; then
        merge_range "$base" "$head" "merge group's"
        return 0
      fi
      ;;
  esac

  if [ -n "$base" ]; then
    merge_range "$base" "${head:-HEAD}" "given"
    return 0
  fi

  if [ "$event" = push ]; then
    before=$(event_get before)
    after=${head:-$(event_get after)}
    ref=$(event_get ref)
    [ -n "$ref" ] || ref=${GITHUB_REF:-}
    if is_zero_sha "$after"; then
      echo "the push deleted $ref: nothing to scan" >&2
      after=$(full HEAD)
      range="$after..$after"
      return 0
    fi
    need_commit "$after" "the pushed commit"
    after=$(full "$after")
    if is_zero_sha "$before"; then
      if is_shallow; then
        error "the push created $ref, and this clone is shallow, so the commits no other branch has cannot be told apart: $fetch_hint"
        exit 2
      fi
      echo "the push created $ref: scanning the commits no other branch has" >&2
      new_commits "$after" "$ref"
      return 0
    fi
    if ! has_commit "$before"; then
      if is_shallow; then
        error "the commit before the push, $before, is not in this clone, which is shallow: $fetch_hint"
        exit 2
      fi
      warning "the commit before the push, $before, is not in this clone (a force-push replaced it): scanning the commits of $after that no other branch has"
      new_commits "$after" "$ref"
      return 0
    fi
    range="$(full "$before")..$after"
    return 0
  fi

  if [ -n "$head" ]; then
    need_commit "$head" "the head commit"
    echo "no range for the ${event:-unknown} event: scanning all of $head's history" >&2
    range=$(full "$head")
    return 0
  fi
  echo "no range for the ${event:-unknown} event: scanning every ref of the repository" >&2
  range=
}

range=
compute
set_output range "$range"
