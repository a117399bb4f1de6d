#!/usr/bin/env bash
# The GitHub Action's scan step: scans the range from range.sh, writes the
# SARIF report, prints a terminal report when there are findings, and exits
# as loftyscan did (0 clean, 1 findings, 2 error), after the SARIF file is
# written, so an upload step with `if: always()` still uploads it.
#
#   LOFTYSCAN_BIN           the loftyscan binary (default: loftyscan on PATH)
#   LOFTYSCAN_ACTION_RANGE  the range step's output: A..B, REV or empty (see range.sh)
#   INPUT_PATH              the repository's folder (default .)
#   INPUT_SARIF             the SARIF file, relative to the current folder (default loftyscan.sarif)
#   INPUT_CONFIG            --config FILE, relative to INPUT_PATH
#   INPUT_IGNORE_FILE       --ignore-file FILE (or none), relative to INPUT_PATH
#   INPUT_NO_INLINE_ALLOW   "true": --no-inline-allow
#   INPUT_ARGS              more arguments for 'loftyscan git', split on white space
#
# Settings: a range A..B reads .loftyscan.toml and .loftyscanignore (and
# the files the inputs name inside the repository) from A, never from the
# change. A whole history (REV) has no base: the settings are the default
# branch's (origin/<default_branch>), or none when REV is that branch.
#
# Outputs: sarif (the report's path), findings (how many).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin=${LOFTYSCAN_BIN:-loftyscan}
if ! command -v "$bin" >/dev/null 2>&1; then
  error "cannot run loftyscan ($bin): the action's install step builds it; to run this script alone, put loftyscan on PATH or set LOFTYSCAN_BIN"
  exit 2
fi

sarif=${INPUT_SARIF:-loftyscan.sarif}
case "$sarif" in
  /* | [A-Za-z]:*) ;;
  *) sarif="$PWD/$sarif" ;;
esac
mkdir -p "$(dirname "$sarif")"
# Git Bash on Windows: C:/x/y works both for bash and for native programs
# such as loftyscan.exe and the upload step.
if command -v cygpath >/dev/null 2>&1; then
  sarif=$(cygpath -m "$sarif")
fi

path=${INPUT_PATH:-.}
if ! cd "$path" 2>/dev/null; then
  error "path '$path' is not a folder: set the action's path input to the repository's folder"
  exit 2
fi

range=${LOFTYSCAN_ACTION_RANGE:-}
set -- git
case "$range" in
  "") what="every ref of the repository" ;;
  *..*) set -- "$@" --range "$range"; what="the commits $range" ;;
  *)
    set -- "$@" --ref "$range"
    what="the whole history of $range"
    default=$(event_get repository.default_branch)
    if [ -n "$default" ] && has_commit "refs/remotes/origin/$default" &&
      [ "$(git rev-parse "refs/remotes/origin/$default^{commit}")" != "$(git rev-parse "$range^{commit}")" ]; then
      set -- "$@" --settings-from "refs/remotes/origin/$default"
    else
      set -- "$@" --settings-from none
    fi
    ;;
esac
if [ -n "${INPUT_CONFIG:-}" ]; then set -- "$@" --config "$INPUT_CONFIG"; fi
if [ -n "${INPUT_IGNORE_FILE:-}" ]; then set -- "$@" --ignore-file "$INPUT_IGNORE_FILE"; fi
case "${INPUT_NO_INLINE_ALLOW:-false}" in
  true) set -- "$@" --no-inline-allow ;;
  false | "") ;;
  *)
    error "no-inline-allow is '$INPUT_NO_INLINE_ALLOW': use true or false"
    exit 2
    ;;
esac
# The user's arguments come before --format and --output, so that those two
# stay ours whatever the arguments say.
set -f
# shellcheck disable=SC2086 # split on white space, as documented
set -- "$@" ${INPUT_ARGS:-}
set +f

echo "loftyscan ${*}"
# Everything loftyscan prints (warnings, errors, the terminal report) quotes
# paths, commit messages and errors from the repository. loftyscan escapes
# them, and the runner is also told to read none of it as a workflow
# command, until a token the repository cannot know (128 random bits).
token="loftyscan-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
if in_actions; then echo "::stop-commands::$token"; fi
code=0
"$bin" "$@" --format sarif --output "$sarif" || code=$?
if [ ! -s "$sarif" ]; then
  # loftyscan creates the file before it scans: an error leaves it empty,
  # which an upload step would reject as invalid SARIF.
  rm -f "$sarif"
fi
set_output sarif "$sarif"

findings=0
if [ "$code" -ne 2 ] && [ -s "$sarif" ]; then
  if [ -z "${LOFTYSCAN_ACTION_NO_JQ:-}" ] && command -v jq >/dev/null 2>&1; then
    findings=$(jq '[.runs[].results[] | select((.suppressions // []) | length == 0)] | length' "$sarif" | tr -d '\r')
  else
    # The report is indented JSON: one "ruleId" line per result, and one
    # "suppressions" line per suppressed result (a key the change allows
    # inline, or anything with --show-suppressed), which does not count.
    results=$(grep -c '"ruleId"' "$sarif" || true)
    suppressed=$(grep -c '"suppressions"' "$sarif" || true)
    findings=$((results - suppressed))
  fi
fi
set_output findings "$findings"

if [ "$findings" -gt 0 ]; then
  "$bin" "$@" --format terminal --output - || true
fi
if in_actions; then echo "::$token::"; fi

# Settings the change edits: an annotation, so that a reviewer sees it
# without opening the log.
if [ "$code" -ne 2 ] && [ -s "$sarif" ] && grep -q '"id": "settings-changed"' "$sarif"; then
  warning "this change edits loftyscan's settings (.loftyscan.toml, .loftyscanignore or a file the action names); the scan used the base's version: review the edit (the log lists the files)"
fi

summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '### loftyscan\n\n%s\n' "$1" >>"$GITHUB_STEP_SUMMARY"
  fi
}

if [ "$code" -eq 2 ]; then
  error "loftyscan could not scan $what (its message is above)"
  summary "loftyscan could not scan $what: see the job's log."
elif [ "$findings" -gt 0 ]; then
  error "$findings Lofty API key finding(s) in $what: revoke each key in Lofty (Settings → Integrations → API), then remove it; the report is above and in the SARIF file $sarif"
  summary "**$findings Lofty API key finding(s)** in $what. Revoke each key in Lofty (Settings → Integrations → API) first, then remove it from the files and from history."
else
  notice "no Lofty API keys in $what"
  summary "No Lofty API keys in $what."
fi
exit "$code"
