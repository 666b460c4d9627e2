#!/bin/sh
# Prints the Debian version of the packages: the newest tag (or 0.1.0) plus
# the number of commits and the commit, so versions grow along a branch.
set -e
base=$(git describe --tags --abbrev=0 2>/dev/null | sed 's/^v//') || true
[ -n "$base" ] || base=0.1.0
# A source tree without git history (a release tarball, `git archive`):
# the base version and "+source", still a valid Debian version.
if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	echo "$base+source"
	exit 0
fi
count=$(git rev-list --count HEAD)
hash=$(git rev-parse --short=8 HEAD)
dirty=""
git diff --quiet HEAD 2>/dev/null || dirty="+dirty"
echo "$base+$count.g$hash$dirty"
