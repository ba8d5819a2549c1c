#!/usr/bin/env bash
# The README's quickstart on a fresh machine, as near as CI allows: a fresh `git clone` of this repository's
# HEAD into a temp dir, an empty pip cache, and a PATH without debootstrap (only /usr/local/bin:/usr/bin:/bin),
# then `make install` and `make plan ENV=dev`. With FULL=1 also `make test` (it installs debootstrap itself
# through `make setup`, so that run needs root and apt). Prints each command and its exit status.
#   tests/fresh_clone.sh [REPO]        (default: the repository holding this script)
set -euo pipefail
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_CACHE_DIR="$work/pip-cache" HOME="$work/home" PATH=/usr/local/bin:/usr/bin:/bin
mkdir -p "$PIP_CACHE_DIR" "$HOME"
unset VIRTUAL_ENV PYTHONPATH
if command -v debootstrap >/dev/null; then
  echo "fresh_clone: debootstrap is on PATH ($(command -v debootstrap)); cannot test a machine without it" >&2
  exit 2
fi
git clone --quiet --no-hardlinks "$repo" "$work/clone"
cd "$work/clone"
run() { echo "+ $*"; "$@"; echo "= exit $?"; }
run make install
run make plan ENV=dev
test -s build/dev/resources.json && test -s stacks/placements/dev.json
git diff --exit-code -- stacks/placements  # a fresh clone's lock is what the repository committed
if [ "${FULL:-0}" = 1 ]; then run make test; fi
echo "fresh_clone: ok"
