#!/bin/bash
# Builds the Debian packages accesskiosk-{fleet,agent,kiosk} with nfpm (a Go
# tool in go.mod) for each architecture given (amd64, arm64) into $OUT
# (default out/deb). Run from anywhere; `make deb` calls it.
#
# fleet and agent are pure Go (CGO_ENABLED=0) and cross-compile. The kiosk is
# cgo (WebKitGTK): it is built for the host's architecture here; for another
# architecture set KIOSK_SYSROOT to a root file system of that architecture
# holding libwebkit2gtk-4.1-dev and have the matching cross compiler
# (gcc-aarch64-linux-gnu) installed; images/deb/sysroot.sh makes such a root.
# A program whose folder is not in the tree yet is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-out/deb}
version=${DEB_VERSION:-$(images/deb/version.sh)}
stamp=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
ldflags="-s -w -X accesskiosk/version.Version=$stamp"
hostarch=$(go env GOARCH)
mkdir -p "$out"
[ $# -gt 0 ] || set -- "$hostarch"
for arch in "$@"; do
	case $arch in amd64|arm64) ;; *) echo "deb: unknown architecture $arch (amd64, arm64)" >&2; exit 2;; esac
	for prog in fleet agent kiosk; do
		cmd=$prog/cmd/$prog
		if ! compgen -G "$cmd/*.go" >/dev/null; then
			echo "deb: skip accesskiosk-$prog ($arch): $cmd is not in this tree yet"
			continue
		fi
		unit=$cmd/$prog.service
		if [ ! -f "$unit" ]; then
			echo "deb: $unit is missing: accesskiosk-$prog needs its systemd unit" >&2
			exit 1
		fi
		# Install the program where its unit's ExecStart looks for it: the
		# word naming PROG or accesskiosk-PROG (the kiosk's ExecStart starts
		# with cage, which runs it).
		dst=""
		for word in $(sed -n 's/^ExecStart=[-+!@:]*//p' "$unit" | head -n1); do
			case "$word" in
			/usr/*/"$prog" | /usr/*/accesskiosk-"$prog") dst=$word; break ;;
			esac
		done
		if [ -z "$dst" ]; then
			echo "deb: $unit: ExecStart names no /usr/.../$prog or accesskiosk-$prog" >&2
			exit 1
		fi
		bin=$out/bin/$arch/$prog
		mkdir -p "$(dirname "$bin")"
		if [ "$prog" != kiosk ]; then
			CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$bin" "./$cmd"
		elif [ "$arch" = "$hostarch" ]; then
			CGO_ENABLED=1 go build -trimpath -ldflags "$ldflags" -o "$bin" "./$cmd"
		elif [ -n "${KIOSK_SYSROOT:-}" ]; then
			triplet=aarch64-linux-gnu
			[ "$arch" = amd64 ] && triplet=x86_64-linux-gnu
			CGO_ENABLED=1 GOOS=linux GOARCH=$arch \
				CC="$triplet-gcc --sysroot=$KIOSK_SYSROOT" \
				PKG_CONFIG_SYSROOT_DIR="$KIOSK_SYSROOT" \
				PKG_CONFIG_LIBDIR="$KIOSK_SYSROOT/usr/lib/$triplet/pkgconfig:$KIOSK_SYSROOT/usr/share/pkgconfig" \
				go build -trimpath -ldflags "$ldflags" -o "$bin" "./$cmd"
		else
			echo "deb: skip accesskiosk-kiosk ($arch): cgo cross build needs KIOSK_SYSROOT (see images/deb/README.md)"
			continue
		fi
		relay=$out/bin/$arch/notify-relay
		if [ "$prog" = kiosk ]; then
			CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$relay" ./images/cmd/notify-relay
			# The kiosk's own defaults, on the system bus so that the agent
			# (a system service) reaches it.
			sed 's/^dbus: session$/dbus: system/' kiosk/config/default.yaml >"$out/kiosk.yaml"
			grep -q '^dbus: system$' "$out/kiosk.yaml" || { echo "deb: kiosk/config/default.yaml has no 'dbus: session' line to turn into system" >&2; exit 1; }
		fi
		RELAY=$relay KIOSK_CONFIG=$out/kiosk.yaml BIN=$bin BIN_DST=$dst UNIT=$unit ARCH=$arch VERSION=$version \
			go tool nfpm package --packager deb --config "images/deb/$prog.yaml" --target "$out/"
	done
done
ls -l "$out"/*.deb 2>/dev/null || true
