#!/usr/bin/env bash
# The GitHub Action's scan step: one run of `loftyscan git --github-event`,
# which works out the commits from the event (internal/ghaction) and writes
# every report from the one scan: the findings in the log (terminal), an
# annotation per finding (github), the job summary (markdown), the counts
# as step outputs (counts) and the SARIF file for code scanning. It exits
# as loftyscan did: 0 clean, 1 findings, 2 error, 128+N stopped by signal N
# (the reports then hold what was found before).
#
#   LOFTYSCAN_BIN           the binary (prepare.sh's bin output)
#   INPUT_PATH              the repository's folder (default .)
#   INPUT_RANGE, INPUT_BASE, INPUT_HEAD   --range, --github-base, --github-head
#   INPUT_CONFIG, INPUT_IGNORE_FILE       --config, --ignore-file (relative to INPUT_PATH)
#   INPUT_NO_INLINE_ALLOW   "true": --no-inline-allow
#   INPUT_ARGS              more arguments, split on white space
#   INPUT_SARIF             the SARIF file, relative to the workspace
#                           (default: loftyscan.sarif in RUNNER_TEMP, out of
#                           the reach of the checked-out change)
#
# Outputs: sarif (set when the file was written); loftyscan's range= and
# counts (findings=, live=, ...).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin=${LOFTYSCAN_BIN:?the prepare step names the binary}
sarif=${INPUT_SARIF:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/loftyscan/loftyscan.sarif}
case "$sarif" in /* | [A-Za-z]:*) ;; *) sarif="$PWD/$sarif" ;; esac
sarif=$(native "$sarif")
mkdir -p "$(dirname "$sarif")"
# A file already there (a previous run's, or one the checked-out change
# commits, maybe as a link) must not pass for this run's report.
rm -f "$sarif"

case "${INPUT_NO_INLINE_ALLOW:-false}" in
  true) strict=--no-inline-allow ;;
  false | "") strict= ;;
  *)
    error "no-inline-allow is '$INPUT_NO_INLINE_ALLOW': use true or false"
    exit 2
    ;;
esac
if ! cd "${INPUT_PATH:-.}" 2>/dev/null; then
  error "path '${INPUT_PATH:-.}' is not a folder: check the repository out first (actions/checkout), or set the action's path input to where it is"
  exit 2
fi

set -- git --github-event ${strict:+"$strict"}
if [ -n "${INPUT_RANGE:-}" ]; then set -- "$@" --range "$INPUT_RANGE"; fi
if [ -n "${INPUT_BASE:-}" ]; then set -- "$@" --github-base "$INPUT_BASE"; fi
if [ -n "${INPUT_HEAD:-}" ]; then set -- "$@" --github-head "$INPUT_HEAD"; fi
if [ -n "${INPUT_CONFIG:-}" ]; then set -- "$@" --config "$INPUT_CONFIG"; fi
if [ -n "${INPUT_IGNORE_FILE:-}" ]; then set -- "$@" --ignore-file "$INPUT_IGNORE_FILE"; fi
set -f
# shellcheck disable=SC2086 # split on white space, as documented
set -- "$@" ${INPUT_ARGS:-}
set +f
# After the user's arguments, so that the log's report and the action's
# files stay ours whatever they say; a --report of theirs adds one.
set -- "$@" --format terminal --output - --report github --report "sarif=$sarif"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then set -- "$@" --report "markdown=$GITHUB_STEP_SUMMARY"; fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then set -- "$@" --report "counts=$GITHUB_OUTPUT"; fi

echo "loftyscan $*"
code=0
"$bin" "$@" || code=$?
if [ -f "$sarif" ]; then set_output sarif "$sarif"; fi
if [ "$code" -ge 2 ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '### loftyscan could not finish (exit status %s)\n\nSee the annotations and the job log.\n' "$code" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$code"
