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
# (WebKitGTK) and links against the libraries of the Debian release the
# image is built from, SUITE (default trixie): it is compiled with Debian's
# compiler for ARCH (gcc-aarch64-linux-gnu or gcc-x86-64-linux-gnu for the
# other architecture, in `make deps`) against an extracted root of that
# release and architecture holding the WebKitGTK -dev packages
# (images/deb/kiosk-sysroot.sh says which: out/sysroot-SUITE-ARCH, made by
# images/deb/sysroot.sh the first time; KIOSK_SYSROOT=DIR another one). Only
# a kiosk for this machine's own architecture and release (SUITE=bookworm on
# a Debian 12 amd64 machine, or KIOSK_SYSROOT=none) is a plain go build
# against this machine's libraries.
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

nogl=kiosk/webkit/nogl # C, not Go: the kiosk's no-GL EGL vendor library, built as the kiosk is
if [ "$prog" != kiosk ] && [ "$prog" != "$nogl" ]; then
	exec env CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath -buildmode=pie -ldflags "$ldflags" -o "$out" "$pkg"
fi
# The kiosk's C side gets Debian's hardening flags (stack protector,
# _FORTIFY_SOURCE, format checks; full RELRO and bind-now at link time), as
# dpkg-buildflags gives them to every Debian package.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cgoflags=(CGO_CFLAGS="$(dpkg-buildflags --get CFLAGS | sed 's/-ffile-prefix-map=[^ ]*//') $(dpkg-buildflags --get CPPFLAGS)"
	CGO_LDFLAGS="$(dpkg-buildflags --get LDFLAGS)")
sysroot=$(images/deb/kiosk-sysroot.sh "$arch")
# cbuild CC...: kiosk/webkit/nogl/nogl.c into $out with CC and the same flags.
cbuild() {
	"$@" $(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) -Wall -Werror -shared -fPIC -fvisibility=hidden \
		$(dpkg-buildflags --get LDFLAGS) -s -o "$out" "$nogl/nogl.c"
}
if [ "$sysroot" = none ]; then
	[ "$prog" != "$nogl" ] || { cbuild gcc; exit; }
	exec env "${cgoflags[@]}" CGO_ENABLED=1 go build -trimpath -buildmode=pie -ldflags "$ldflags" -o "$out" "$pkg"
fi

triplet=aarch64-linux-gnu crosspkg=gcc-aarch64-linux-gnu
[ "$arch" = amd64 ] && triplet=x86_64-linux-gnu crosspkg=gcc-x86-64-linux-gnu
if ! command -v "$triplet-gcc" >/dev/null; then
	echo "gobuild: the $arch kiosk needs the compiler $triplet-gcc: apt-get install $crosspkg (make deps)" >&2
	exit 1
fi
# A sysroot made before it held libglvnd's vendor header (for nogl) is made again.
if [ ! -f "$sysroot/.accesskiosk-sysroot" ] || [ ! -s "$sysroot/DEBIAN/symbols" ] || [ ! -f "$sysroot/usr/include/glvnd/libeglabi.h" ]; then
	echo "gobuild: making the ${SUITE:-trixie} $arch sysroot in $sysroot (once; about 1 GB)"
	ARCH=$arch SUITE=${SUITE:-trixie} images/deb/sysroot.sh "$sysroot"
fi
[ "$prog" != "$nogl" ] || { cbuild "$triplet-gcc" --sysroot="$sysroot"; exit; }
exec env "${cgoflags[@]}" CGO_ENABLED=1 GOOS=linux GOARCH="$arch" \
	CC="$triplet-gcc --sysroot=$sysroot" \
	PKG_CONFIG_SYSROOT_DIR="$sysroot" \
	PKG_CONFIG_LIBDIR="$sysroot/usr/lib/$triplet/pkgconfig:$sysroot/usr/share/pkgconfig" \
	go build -trimpath -buildmode=pie -ldflags "$ldflags" -o "$out" "$pkg"
