#!/bin/bash
# Makes a root of another architecture (default arm64) holding the kiosk's
# cgo build dependencies, for cross-compiling the kiosk
# (images/deb/gobuild.sh does it the first time it needs one). The packages
# are only extracted (mmdebstrap --variant=extract): nothing runs, no qemu.
# They come from the same suites as the images, so the kiosk links against
# the libraries the image will have. DIR/DEBIAN/symbols and DIR/DEBIAN/shlibs
# collect the control files of every package in it, so that
# images/deb/shlibdeps.sh computes the kiosk's Depends from the libraries it
# links against there. The root is made beside DIR and moved into place once
# complete; DIR/.accesskiosk-sysroot marks a finished one.
set -euo pipefail
arch=${ARCH:-arm64}
# SUITE: the Debian release the image is built from (trixie, bookworm).
suite=${SUITE:-trixie}
dir=${1:?usage: images/deb/sysroot.sh DIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
packages=libc6-dev,libwebkit2gtk-4.1-dev,libgtk-3-dev,libglvnd-core-dev
tmp=$dir.partial
rm -rf "$tmp"
mkdir -p "$(dirname "$dir")"
# The packages' symbols and shlibs files, while the .debs are still in the
# root's apt cache.
collect='mkdir -p "$1/DEBIAN" && : >"$1/DEBIAN/symbols" && : >"$1/DEBIAN/shlibs" &&
for deb in "$1"/var/cache/apt/archives/*.deb; do
	t=$(mktemp -d) && dpkg-deb -e "$deb" "$t" &&
	{ [ ! -f "$t/symbols" ] || cat "$t/symbols" >>"$1/DEBIAN/symbols"; } &&
	{ [ ! -f "$t/shlibs" ] || cat "$t/shlibs" >>"$1/DEBIAN/shlibs"; } && rm -rf "$t" || exit 1
done'
mmdebstrap --variant=extract --architectures="$arch" --include="$packages" \
	--extract-hook="$collect" \
	"$suite" "$tmp" \
	"deb $mirror $suite main" \
	"deb $mirror $suite-updates main" \
	"deb $security $suite-security main"
# Absolute symbolic links (libz.so -> /lib/aarch64-linux-gnu/libz.so.1...)
# would point out of the root, at this machine's files: the linker would
# skip such a .so and link the static archive beside it instead (zlib
# embedded in the kiosk). Make them relative, inside the root.
find "$tmp" -type l -lname '/*' | while read -r link; do
	ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$tmp$(readlink "$link")")" "$link"
done
[ -s "$tmp/DEBIAN/symbols" ] || { echo "sysroot: no symbols files collected from the packages" >&2; exit 1; }
echo "$arch $suite $packages shlibs" >"$tmp/.accesskiosk-sysroot"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "sysroot: $dir ($arch)"
