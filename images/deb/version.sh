#!/bin/sh
# Prints the Debian version of the packages: the newest tag (or 0.1.0) plus
# the number of commits and the commit, so versions grow along a branch.
set -e
base=$(git describe --tags --abbrev=0 2>/dev/null | sed 's/^v//') || true
[ -n "$base" ] || base=0.1.0
count=$(git rev-list --count HEAD)
hash=$(git rev-parse --short=8 HEAD)
dirty=""
git diff --quiet HEAD 2>/dev/null || dirty="+dirty"
echo "$base+$count.g$hash$dirty"
