#!/bin/bash
# Prints the Depends that FILEs need for the shared libraries they link
# against, computed by dpkg-shlibdeps from the libraries' own symbols and
# shlibs files (what dh_shlibdeps does for a Debian package):
#
#   images/deb/shlibdeps.sh ARCH SYSROOT FILE...
#
# SYSROOT "" means the libraries installed on this machine (dpkg's own
# database). Otherwise they are those of an extracted root made by
# images/deb/sysroot.sh, whose SYSROOT/DEBIAN/{symbols,shlibs} hold the
# control files of every package in it: dpkg-shlibdeps finds a library
# there (-l), finds no installed package owning it, and reads the symbols
# file of the "package being built" that contains it, SYSROOT.
set -euo pipefail
arch=${1:?usage: images/deb/shlibdeps.sh ARCH SYSROOT FILE...}
sysroot=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian"
printf 'Source: accesskiosk\n\nPackage: accesskiosk\nArchitecture: any\n' >"$tmp/debian/control"
args=()
if [ -n "$sysroot" ]; then
	if [ ! -s "$sysroot/DEBIAN/symbols" ]; then
		echo "shlibdeps: $sysroot has no DEBIAN/symbols (made by images/deb/sysroot.sh)" >&2
		exit 1
	fi
	ma=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
	args=(-l"$sysroot/usr/lib/$ma" -l"$sysroot/lib/$ma")
fi
files=()
for f; do files+=("$(realpath "$f")"); done
(cd "$tmp" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O "${args[@]}" "${files[@]}" 2> >(grep -v "should already be installed" >&2)) |
	sed -n 's/^shlibs:Depends=//p'
