#!/bin/bash
# Checks the packages `images/deb/build.sh ARCH...` made for this commit
# (`make check-packages`, part of `make test`):
#
# - lintian on every .deb: no error and no warning. An override needs a
#   written reason and ships in the package (/usr/share/lintian/overrides).
# - systemd-analyze security --offline=yes on each unit as the package
#   installs it (the unit with its drop-ins, in a root the .debs are
#   unpacked into): agent <= 4.5, kiosk <= 5.0, fleet <= 2.1.
#
# It prints the figures and exits non-zero over a bar.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-out/deb/${SUITE:-trixie}}
version=${DEB_VERSION:-$(images/deb/version.sh)}
[ $# -gt 0 ] || set -- "$(go env GOARCH)"
declare -A bar=([agent]=4.5 [kiosk]=5.0 [fleet]=2.1)
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in "$@"; do
	for prog in fleet agent kiosk; do
		deb=$out/accesskiosk-${prog}_${version}_$arch.deb
		if [ ! -f "$deb" ]; then
			if compgen -G "$prog/cmd/$prog/*.go" >/dev/null; then
				echo "check-packages: $deb was not built" >&2
				fail=1
			fi
			continue
		fi
		# lintian prints one line per tag: E: and W: fail.
		lintian --no-tag-display-limit --display-level '>=warning' --show-overrides "$deb" >"$tmp/lintian" 2>&1 || true
		errors=$(grep -c '^E: ' "$tmp/lintian" || true)
		warnings=$(grep -c '^W: ' "$tmp/lintian" || true)
		overridden=$(grep -c '^O: ' "$tmp/lintian" || true)
		echo "check-packages: lintian $(basename "$deb"): $errors errors, $warnings warnings, $overridden overridden"
		grep -E '^(E|W|O): ' "$tmp/lintian" | sed 's/^/    /' || true
		if [ "$errors" != 0 ] || [ "$warnings" != 0 ]; then fail=1; fi
		# The unit as installed: unpack the package into an empty root.
		root=$tmp/root-$arch-$prog
		mkdir -p "$root"
		dpkg-deb -x "$deb" "$root"
		unit=accesskiosk-$prog.service
		score=$(systemd-analyze security --offline=yes --root="$root" "$unit" 2>&1 |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		if [ -z "$score" ]; then
			echo "check-packages: systemd-analyze security could not score $unit from $deb:" >&2
			systemd-analyze security --offline=yes --root="$root" "$unit" >&2 || true
			fail=1
			continue
		fi
		verdict=ok
		if awk -v s="$score" -v b="${bar[$prog]}" 'BEGIN { exit !(s > b) }'; then verdict="OVER THE BAR"; fail=1; fi
		echo "check-packages: systemd-analyze security $unit ($arch): $score (bar ${bar[$prog]}) $verdict"
	done
done
exit $fail
