#!/bin/bash
# Builds one program (fleet, agent, kiosk, or a path under the module such as
# images/cmd/notify-relay) for one architecture (amd64, arm64):
#
#   images/deb/gobuild.sh ARCH PROG OUT [VERSION]
#
# VERSION (default: git describe) is stamped into accesskiosk/internal/version.
# Every program is a position-independent executable (-buildmode=pie), as
# Debian builds its own. fleet, agent and notify-relay are pure Go
# (CGO_ENABLED=0: Go's own linker, no C library linked). The kiosk is cgo
# (WebKitGTK): for the host's architecture it is a plain go build; for the
# other one it is cross-compiled with Debian's cross compiler
# (gcc-aarch64-linux-gnu or gcc-x86-64-linux-gnu, in `make deps`) against a
# root of that architecture holding the WebKitGTK -dev packages: KIOSK_SYSROOT,
# by default out/sysroot-ARCH, made by images/deb/sysroot.sh the first time.
set -euo pipefail
arch=${1:?usage: images/deb/gobuild.sh ARCH PROG OUT [VERSION]}
prog=${2:?usage: images/deb/gobuild.sh ARCH PROG OUT [VERSION]}
out=${3:?usage: images/deb/gobuild.sh ARCH PROG OUT [VERSION]}
cd "$(dirname "$0")/../.."
case $arch in amd64|arm64) ;; *) echo "gobuild: unknown architecture $arch (amd64, arm64)" >&2; exit 2;; esac
case $prog in */*) pkg=./$prog ;; *) pkg=./$prog/cmd/$prog ;; esac
version=${4:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
ldflags="-s -w -X accesskiosk/internal/version.Version=$version"
mkdir -p "$(dirname "$out")"

if [ "$prog" != kiosk ]; then
	exec env CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath -buildmode=pie -ldflags "$ldflags" -o "$out" "$pkg"
fi
# The kiosk's C side gets Debian's hardening flags (stack protector,
# _FORTIFY_SOURCE, format checks; full RELRO and bind-now at link time), as
# dpkg-buildflags gives them to every Debian package.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cgoflags=(CGO_CFLAGS="$(dpkg-buildflags --get CFLAGS | sed 's/-ffile-prefix-map=[^ ]*//') $(dpkg-buildflags --get CPPFLAGS)"
	CGO_LDFLAGS="$(dpkg-buildflags --get LDFLAGS)")
if [ -z "${KIOSK_SYSROOT:-}" ] && [ "$arch" = "$(go env GOARCH)" ]; then
	exec env "${cgoflags[@]}" CGO_ENABLED=1 go build -trimpath -buildmode=pie -ldflags "$ldflags" -o "$out" "$pkg"
fi

triplet=aarch64-linux-gnu crosspkg=gcc-aarch64-linux-gnu
[ "$arch" = amd64 ] && triplet=x86_64-linux-gnu crosspkg=gcc-x86-64-linux-gnu
if ! command -v "$triplet-gcc" >/dev/null; then
	echo "gobuild: the $arch kiosk needs the cross compiler $triplet-gcc: apt-get install $crosspkg (make deps)" >&2
	exit 1
fi
sysroot=${KIOSK_SYSROOT:-$PWD/out/sysroot-$arch}
if [ ! -f "$sysroot/.accesskiosk-sysroot" ] || [ ! -s "$sysroot/DEBIAN/symbols" ]; then
	echo "gobuild: making the $arch sysroot in $sysroot (once; about 1.2 GB)"
	ARCH=$arch images/deb/sysroot.sh "$sysroot"
fi
exec env "${cgoflags[@]}" CGO_ENABLED=1 GOOS=linux GOARCH="$arch" \
	CC="$triplet-gcc --sysroot=$sysroot" \
	PKG_CONFIG_SYSROOT_DIR="$sysroot" \
	PKG_CONFIG_LIBDIR="$sysroot/usr/lib/$triplet/pkgconfig:$sysroot/usr/share/pkgconfig" \
	go build -trimpath -buildmode=pie -ldflags "$ldflags" -o "$out" "$pkg"
