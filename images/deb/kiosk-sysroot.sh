#!/bin/bash
# Prints the sysroot the kiosk (cgo, WebKitGTK) is built against for ARCH
# and the Debian release $SUITE (default trixie), or "none" when it is
# built against this machine's own libraries:
#
#   images/deb/kiosk-sysroot.sh ARCH
#
# KIOSK_SYSROOT, when set, is the answer (a directory, or "none"). Otherwise
# the kiosk links against this machine's libraries only when this machine is
# that architecture and runs that release (a Debian 12 machine making
# bookworm packages for itself); every other pairing (trixie packages from a
# Debian 12 machine, either architecture) links against an extracted root of
# that release and architecture, out/sysroot-SUITE-ARCH (images/deb/sysroot.sh).
set -euo pipefail
arch=${1:?usage: images/deb/kiosk-sysroot.sh ARCH}
if [ -n "${KIOSK_SYSROOT:-}" ]; then
	echo "$KIOSK_SYSROOT"
	exit 0
fi
suite=${SUITE:-trixie}
host_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ "$arch" = "$(dpkg --print-architecture)" ] && [ "$suite" = "$host_suite" ]; then
	echo none
else
	echo "$(cd "$(dirname "$0")/../.." && pwd)/out/sysroot-$suite-$arch"
fi
