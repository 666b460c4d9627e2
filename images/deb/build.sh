#!/bin/bash
# Builds the Debian packages accesskiosk-{fleet,agent,kiosk} with nfpm (a Go
# tool in go.mod) for each architecture given (amd64, arm64) into $OUT
# (default out/deb). Run from anywhere; `make deb` calls it.
#
# Each program is built by images/deb/gobuild.sh: fleet and agent are pure Go;
# the kiosk (cgo, WebKitGTK) is cross-compiled for the other architecture
# against a sysroot of Debian's own -dev packages (made the first time).
# A program whose folder is not in the tree yet is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-out/deb}
version=${DEB_VERSION:-$(images/deb/version.sh)}
stamp=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
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
		images/deb/gobuild.sh "$arch" "$prog" "$bin" "$stamp"
		relay=$out/bin/$arch/notify-relay
		if [ "$prog" = kiosk ]; then
			images/deb/gobuild.sh "$arch" images/cmd/notify-relay "$relay" "$stamp"
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
