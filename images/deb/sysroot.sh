#!/bin/bash
# Makes a root of another architecture (default arm64) holding the kiosk's
# cgo build dependencies, for cross-compiling the kiosk with
# KIOSK_SYSROOT=DIR images/deb/build.sh arm64. The packages are only
# extracted (mmdebstrap --variant=extract): nothing runs, no qemu needed.
# The cross compiler comes from Debian: apt-get install gcc-aarch64-linux-gnu.
set -euo pipefail
arch=${ARCH:-arm64}
dir=${1:?usage: images/deb/sysroot.sh DIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mmdebstrap --mode=root --variant=extract --architectures="$arch" \
	--include=libc6-dev,libwebkit2gtk-4.1-dev,libgtk-3-dev \
	bookworm "$dir" \
	"deb $mirror bookworm main" \
	"deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main"
echo "sysroot: $dir ($arch): KIOSK_SYSROOT=$dir images/deb/build.sh $arch"
