#!/bin/bash
# Makes a root of another architecture (default arm64) holding the kiosk's
# cgo build dependencies, for cross-compiling the kiosk
# (images/deb/gobuild.sh does it the first time it needs one). The packages
# are only extracted (mmdebstrap --variant=extract): nothing runs, no qemu.
# They come from the same suites as the images, so the kiosk links against
# the libraries the image will have. The root is made beside DIR and moved
# into place once complete; DIR/.accesskiosk-sysroot marks a finished one.
set -euo pipefail
arch=${ARCH:-arm64}
dir=${1:?usage: images/deb/sysroot.sh DIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
packages=libc6-dev,libwebkit2gtk-4.1-dev,libgtk-3-dev
tmp=$dir.partial
rm -rf "$tmp"
mkdir -p "$(dirname "$dir")"
mmdebstrap --variant=extract --architectures="$arch" --include="$packages" \
	bookworm "$tmp" \
	"deb $mirror bookworm main" \
	"deb $mirror bookworm-updates main" \
	"deb $security bookworm-security main"
echo "$arch bookworm $packages" >"$tmp/.accesskiosk-sysroot"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "sysroot: $dir ($arch)"
