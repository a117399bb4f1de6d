# Helpers for the GitHub Action's scripts. Sourced, not run. Written for
# bash 3.2 (macOS's /bin/bash) and Git Bash on Windows as well as Linux.

# error prints a one-line message: an annotation on the run inside GitHub
# Actions, else a line on stderr.
error() {
  if [ "${GITHUB_ACTIONS:-}" = true ]; then
    echo "::error title=loftyscan::$*"
  else
    echo "loftyscan-action: error: $*" >&2
  fi
}

# set_output NAME VALUE records a step output in $GITHUB_OUTPUT (when the
# runner set it) and prints it. A value with a line break, which would set
# another output, is refused.
set_output() {
  case "$2" in
    *$'\n'* | *$'\r'*)
      error "refusing the output $1: its value holds a line break"
      return 2
      ;;
  esac
  echo "$1=$2"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

# native PATH prints PATH as native programs (go.exe, loftyscan.exe) read
# it: C:/x/y under Git Bash on Windows, PATH elsewhere.
native() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -m "$1"; else printf '%s\n' "$1"; fi
}
