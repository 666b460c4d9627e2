#!/bin/bash
# Builds the Access Kiosk Raspberry Pi 4 (arm64) image:
# images/rpi/build/accesskiosk-rpi.img (MBR: FAT boot partition with the Pi
# firmware, Debian's arm64 kernel and initramfs; read-only ext4 root; ext4
# data partition). Run as root on any Debian 12 host (`make image-rpi`):
# maintainer scripts run under qemu-user (qemu-user-static, binfmt-support).
# See images/rpi/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
common=$here/../common
build=${BUILD_DIR:-$here/build}
mkdir -p "$build"
# A go.mod keeps `go ... ./...` from walking into the build output.
echo 'module accesskiosk-build-output' >"$build/go.mod"
start=$(date +%s)

if [ "$(dpkg --print-architecture)" != arm64 ]; then
	[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
	if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
		echo "image-rpi: no qemu-aarch64 binfmt handler: apt-get install qemu-user-static binfmt-support" >&2
		exit 1
	fi
fi

# REUSE_ROOTFS=1 keeps an existing build/rootfs (iterating on the disk steps).
[ "${REUSE_ROOTFS:-}" = 1 ] && [ -f "$build/rootfs/etc/os-release" ] ||
	"$common/rootfs.sh" arm64 rpi "$build/rootfs" \
	linux-image-arm64 raspi-firmware firmware-brcm80211 wireless-regdb

# The boot partition: what raspi-firmware's hooks put in /boot/firmware
# (GPU firmware, device trees, kernel, initramfs, config.txt, cmdline.txt).
boot=$build/boot
rm -rf "$boot"
mv "$build/rootfs/boot/firmware" "$boot"
mkdir -p "$build/rootfs/boot/firmware"
for f in config.txt cmdline.txt start4.elf; do
	[ -f "$boot/$f" ] || { echo "image-rpi: raspi-firmware left no $f in /boot/firmware" >&2; exit 1; }
done
echo "image-rpi: cmdline.txt: $(cat "$boot/cmdline.txt")"

"$common/data.sh" "$build/data"
"$common/disk.sh" dos "$build/accesskiosk-rpi.img" "$boot" "$build/rootfs" "$build/data"
echo "image-rpi: built in $(( $(date +%s) - start ))s"
