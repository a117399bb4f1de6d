# Helpers for the GitHub Action's scripts (install.sh, range.sh, scan.sh).
# Sourced, not run. Written for bash 3.2 (macOS's /bin/bash) and Git Bash
# on Windows as well as Linux: no mapfile, no associative arrays, and no
# empty "${array[@]}" under set -u.

in_actions() { [ "${GITHUB_ACTIONS:-}" = true ]; }

# error, warning and notice print a one-line message: as a workflow command
# (an annotation on the run) inside GitHub Actions, else to stderr.
error() {
  if in_actions; then echo "::error title=loftyscan::$*"; else echo "loftyscan-action: error: $*" >&2; fi
}
warning() {
  if in_actions; then echo "::warning title=loftyscan::$*"; else echo "loftyscan-action: warning: $*" >&2; fi
}
notice() {
  if in_actions; then echo "::notice title=loftyscan::$*"; else echo "loftyscan-action: $*" >&2; fi
}

# set_output NAME VALUE records a step output (in $GITHUB_OUTPUT, when the
# runner set it) and prints it, so a local run shows it too.
set_output() {
  echo "$1=$2"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

# is_zero_sha reports whether $1 is git's all-zero object name (or empty):
# a push event's "before" for a new branch, its "after" for a deletion.
is_zero_sha() {
  case "$1" in
    "" | *[!0]*) [ -z "$1" ] ;;
    *) return 0 ;;
  esac
}

# event_get PATH prints the string or number at PATH (jq syntax without the
# leading dot, e.g. pull_request.base.sha) in the event JSON at
# $GITHUB_EVENT_PATH, or nothing when it is absent or null. It uses jq when
# there is one (every GitHub-hosted runner has it) and otherwise a small
# awk JSON reader (json_get.awk) that handles any valid JSON but does not
# unescape strings, which is enough for commit names and branch names.
# LOFTYSCAN_ACTION_NO_JQ=1 forces the awk reader (for the tests).
event_get() {
  local file=${GITHUB_EVENT_PATH:-}
  [ -n "$file" ] && [ -f "$file" ] || return 0
  if [ -z "${LOFTYSCAN_ACTION_NO_JQ:-}" ] && command -v jq >/dev/null 2>&1; then
    # jq on Windows ends lines with \r\n.
    jq -r ".$1 // empty" "$file" 2>/dev/null | tr -d '\r' || true
  else
    awk -v want="$1" -f "$LIB_DIR/json_get.awk" "$file" | tr -d '\r'
  fi
}

# has_commit REV reports whether REV names a commit that is in the clone.
has_commit() {
  [ -n "$1" ] && git cat-file -e "$1^{commit}" 2>/dev/null
}

is_shallow() {
  [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = true ]
}

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
