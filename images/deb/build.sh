#!/bin/bash
# Builds the Debian packages accesskiosk-{fleet,agent,kiosk} with nfpm (a Go
# tool in go.mod) for each architecture given (amd64, arm64) and the Debian
# release SUITE (default trixie) into $OUT (default out/deb/SUITE). Run from
# anywhere; `make deb` calls it.
#
# Each program is built by images/deb/gobuild.sh (position-independent):
# fleet and agent are pure Go; the kiosk (cgo, WebKitGTK) is linked against
# SUITE's libraries: a sysroot of Debian's own -dev packages of that release
# and architecture (made the first time), unless this machine is that release
# and architecture. Every package carries what Debian policy asks of
# one: /usr/share/doc/PKG/copyright in the machine-readable format, listing
# every Go module and npm package compiled in (images/cmd/deb-copyright), a
# changelog, a manual page per program generated from its own -h by
# help2man, Depends on the shared libraries the kiosk links against
# (images/deb/shlibdeps.sh: dpkg-shlibdeps) and a real Maintainer
# (DEB_MAINTAINER). A program whose folder is not in the tree yet is skipped
# with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SUITE=${SUITE:-trixie}
out=${OUT:-out/deb/$SUITE}
version=${DEB_VERSION:-$(images/deb/version.sh)}
stamp=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
hostarch=$(go env GOARCH)
export DEB_MAINTAINER=${DEB_MAINTAINER:-Access Kiosk maintainers <maintainers@users.noreply.h-seed-829520d0.example>}
# Dates in the changelog and manual pages are the commit's, so that a
# rebuild of one commit gives the same files.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
for tool in help2man dpkg-shlibdeps licensecheck; do
	command -v "$tool" >/dev/null || { echo "deb: $tool is missing: make deps" >&2; exit 1; }
done
mkdir -p "$out"
[ $# -gt 0 ] || set -- "$hostarch"

# What each program is, for its manual page's NAME line.
declare -A what=(
	[fleet]="Access Kiosk fleet server, web console and release tools"
	[agent]="Access Kiosk management agent: enrolment, health reports, commands, signed updates"
	[kiosk]="Access Kiosk shell: a locked full-screen WebKitGTK browser for public kiosks"
)
# npm packages compiled into each program's embedded assets (make assets).
declare -A npm=([fleet]=govuk-frontend [kiosk]=govuk-frontend)
# How each program prints its version (help2man reads it).
declare -A versionopt=([fleet]=version [agent]=-version [kiosk]=-version)

# manpage PROG NAME: NAME.1.gz in $out/man from this machine's build of PROG
# (its help is the same on every architecture).
manpage() {
	local prog=$1 name=$2 dir=$out/man
	local host=$out/bin/host/$prog
	mkdir -p "$dir" "$out/bin/host"
	if [ ! -f "$host.stamp" ] || [ "$(cat "$host.stamp")" != "$stamp" ]; then
		KIOSK_SYSROOT=none images/deb/gobuild.sh "$hostarch" "$prog" "$host" "$stamp"
		echo "$stamp" >"$host.stamp"
	fi
	# help2man names the page after the program it runs: run it as NAME.
	local tmp
	tmp=$(mktemp -d)
	ln -s "$(realpath "$host")" "$tmp/$name"
	cat >"$tmp/include" <<EOF
[NOTES]
The package installs this program as
.B $name
(the name \`make build' gives it is
.BR bin/$prog ,
which its help uses).
Its systemd unit is
.BR accesskiosk-$prog.service .
[SEE ALSO]
/usr/share/doc/accesskiosk-$prog/copyright, https://github.com/accesskiosk/accesskiosk
EOF
	help2man --no-info --no-discard-stderr --version-option="${versionopt[$prog]}" \
		--name="${what[$prog]}" --section=1 --include="$tmp/include" \
		--output="$tmp/$name.1" "$tmp/$name"
	gzip -9n <"$tmp/$name.1" >"$dir/$name.1.gz"
	rm -rf "$tmp"
}

# changelog PKG: the native package's changelog, one entry for this build.
changelog() {
	local pkg=$1 dir=$out/doc/$1
	mkdir -p "$dir"
	local count hash base
	{
		echo "$pkg ($version) unstable; urgency=medium"
		echo
		if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
			count=$(git rev-list --count HEAD)
			hash=$(git rev-parse --short=8 HEAD)
			base=$(git describe --tags --abbrev=0 2>/dev/null || echo "the first commit")
			echo "  * Built from commit $hash, $count commits since $base."
			git log -1 --format='%s' | cut -c1-58 | sed 's/^/  * Latest change: /'
		else
			echo "  * Built from a source tree without git history."
		fi
		echo
		echo " -- $DEB_MAINTAINER  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
	} | gzip -9n >"$dir/changelog.gz"
}

for arch in "$@"; do
	case $arch in amd64|arm64) ;; *) echo "deb: unknown architecture $arch (amd64, arm64)" >&2; exit 2;; esac
	for prog in fleet agent kiosk; do
		cmd=$prog/cmd/$prog
		pkg=accesskiosk-$prog
		if ! compgen -G "$cmd/*.go" >/dev/null; then
			echo "deb: skip $pkg ($arch): $cmd is not in this tree yet"
			continue
		fi
		unit=$cmd/$prog.service
		if [ ! -f "$unit" ]; then
			echo "deb: $unit is missing: $pkg needs its systemd unit" >&2
			exit 1
		fi
		# The program is installed as /usr/bin/accesskiosk-PROG, and the
		# unit's ExecStart must run it there (the kiosk's ExecStart starts
		# with cage, which runs it).
		dst=/usr/bin/$pkg
		if ! sed -n 's/^ExecStart=[-+!@:]*//p' "$unit" | head -n1 | tr ' ' '\n' | grep -qx "$dst"; then
			echo "deb: $unit: ExecStart does not run $dst" >&2
			exit 1
		fi
		bin=$out/bin/$arch/$prog
		images/deb/gobuild.sh "$arch" "$prog" "$bin" "$stamp"
		relay=$out/bin/$arch/notify-relay nogl=$out/bin/$arch/libEGL_accesskiosk_nogl.so
		sysroot=$(images/deb/kiosk-sysroot.sh "$arch")
		[ "$sysroot" != none ] || sysroot=""
		shlibs=""
		bins=(-bin "$dst=$bin")
		if [ "$prog" = kiosk ]; then
			images/deb/gobuild.sh "$arch" images/cmd/notify-relay "$relay" "$stamp"
			bins+=(-bin "/usr/lib/accesskiosk-kiosk/notify-relay=$relay")
			images/deb/gobuild.sh "$arch" kiosk/webkit/nogl "$nogl" "$stamp"
			shlibs=$(images/deb/shlibdeps.sh "$arch" "$sysroot" "$bin")
			[ -n "$shlibs" ] || { echo "deb: dpkg-shlibdeps found no libraries for the kiosk" >&2; exit 1; }
			# The kiosk's own defaults, on the system bus so that the agent
			# (a system service) reaches it.
			sed 's/^dbus: session$/dbus: system/' kiosk/config/default.yaml >"$out/kiosk.yaml"
			grep -q '^dbus: system$' "$out/kiosk.yaml" || { echo "deb: kiosk/config/default.yaml has no 'dbus: session' line to turn into system" >&2; exit 1; }
		fi
		doc=$out/doc/$pkg
		mkdir -p "$doc/$arch"
		npmargs=()
		[ -z "${npm[$prog]:-}" ] || npmargs=(-npm "node_modules/${npm[$prog]}=$dst")
		go run ./images/cmd/deb-copyright -package "$pkg" "${bins[@]}" "${npmargs[@]}" >"$doc/$arch/copyright"
		changelog "$pkg"
		manpage "$prog" "$pkg"
		SHLIBS_DEPENDS=$shlibs RELAY=$relay NOGL=$nogl KIOSK_CONFIG=$out/kiosk.yaml BIN=$bin BIN_DST=$dst UNIT=$unit ARCH=$arch VERSION=$version \
			COPYRIGHT=$doc/$arch/copyright CHANGELOG=$doc/changelog.gz MANPAGE=$out/man/$pkg.1.gz \
			go tool nfpm package --packager deb --config "images/deb/$prog.yaml" --target "$out/"
	done
done
ls -l "$out"/*.deb 2>/dev/null || true
