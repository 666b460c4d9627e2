#!/bin/bash
# Builds the root file system shared by every Access Kiosk image with
# mmdebstrap from the packages of one Debian release, SUITE (default trixie,
# Debian 13; bookworm also works), into a directory.
#
#   images/common/rootfs.sh ARCH TARGET OUTDIR [EXTRA-PACKAGES...]
#
# ARCH is amd64 or arm64, TARGET the image folder (x86, rpi) whose rootfs/
# overlay and customize script are applied after the shared ones. An extra
# package may name its suite (linux-image-arm64/trixie-backports); with
# BACKPORTS=1 SUITE-backports is a source (its packages are installed only
# when named so, and upgraded from there). The accesskiosk-*_ARCH.deb files
# found in $DEBS (default out/deb/SUITE, built for that release) are
# installed; a missing one is reported, not faked. Runs as root (mmdebstrap root mode,
# no loop mounts); an arm64 root on an amd64 host needs qemu-user-static and
# binfmt-support.
set -euo pipefail
arch=${1:?ARCH}
target=${2:?TARGET}
out=${3:?OUTDIR}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
images=$(dirname "$here")
suite=${SUITE:-trixie}
debs=$(cd "${DEBS:-$images/../out/deb/$suite}" 2>/dev/null && pwd || true)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

packages=(
	systemd-sysv systemd-timesyncd udev kmod dbus initramfs-tools busybox zstd mawk procps
	e2fsprogs dosfstools
	network-manager wpasupplicant iproute2 nftables openssh-server ca-certificates
	unattended-upgrades
	cage xwayland libgl1-mesa-dri libwebkit2gtk-4.1-0 bubblewrap xdg-dbus-proxy fonts-dejavu-core
	"$@"
)

ours=()
for p in kiosk agent; do
	f=$(ls "$debs"/accesskiosk-${p}_*_"$arch".deb 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$f" ]; then ours+=("$f"); else echo "rootfs: no accesskiosk-$p for $arch in ${debs:-out/deb/$suite}: the image will lack it" >&2; fi
done

# update-initramfs would run once for every package that triggers it (the
# kernel, udev, kmod, busybox, microcode, ...), minutes each: divert it to
# true while packages install; customize.sh restores it and builds the
# initramfs once, with the image's overlay script in it.
hooks=(--essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -sf /bin/true "$1/usr/sbin/update-initramfs"')
hooks+=(--customize-hook="sync-in $here/rootfs /")
if [ -d "$images/$target/rootfs" ]; then
	hooks+=(--customize-hook="sync-in $images/$target/rootfs /")
fi
hooks+=(--customize-hook='mkdir -p "$1/tmp/accesskiosk-debs"')
for f in "${ours[@]}"; do
	hooks+=(--customize-hook="copy-in $f /tmp/accesskiosk-debs")
done
hooks+=(--customize-hook="'$here/customize.sh' \"\$1\" '$target'")

sources=("deb $mirror $suite main non-free-firmware"
	"deb $mirror $suite-updates main non-free-firmware"
	"deb $security $suite-security main non-free-firmware")
if [ "${BACKPORTS:-}" = 1 ]; then
	sources+=("deb $mirror $suite-backports main non-free-firmware")
fi

rm -rf "$out"
mkdir -p "$(dirname "$out")"
start=$(date +%s)
echo "rootfs: Debian $suite ($arch) for $target"
mmdebstrap --mode=root --variant=apt --architectures="$arch" \
	--components=main,non-free-firmware \
	--include="$(IFS=,; echo "${packages[*]}")" \
	"${hooks[@]}" \
	"$suite" "$out" "${sources[@]}"
echo "rootfs: $out built in $(( $(date +%s) - start ))s, $(du -sh --apparent-size "$out" | cut -f1)"
