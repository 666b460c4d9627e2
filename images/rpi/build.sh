#!/bin/bash
# Builds the Access Kiosk Raspberry Pi (arm64) image, one image for the
# Pi 4 and the Pi 5: images/rpi/build/accesskiosk-rpi.img (MBR: FAT boot
# partition with the Pi 4's firmware, Debian's arm64 kernel, initramfs and
# both boards' device trees; read-only ext4 root; ext4 data partition) from
# SUITE (default trixie, whose Pi 5 support needs trixie-backports' kernel).
# Run as root on any Debian 12 host (`make image-rpi`): maintainer scripts
# run under qemu-user (qemu-user-static, binfmt-support).
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

# The kernel: Debian 13's own (6.12) has no Pi 5 SD card, RP1 or display
# support, trixie-backports' has them (images/rpi/README.md); its linux-base
# comes along, whose hook puts the kernel in /boot where raspi-firmware's
# hooks find it (the backports kernel keeps it in /usr/lib/modules/VERSION).
# Debian 12 has no Pi 5 kernel at all: SUITE=bookworm makes a Pi 4 image.
suite=${SUITE:-trixie}
kernel=(linux-image-arm64)
if [ "$suite" != bookworm ]; then
	export BACKPORTS=1
	kernel=("linux-image-arm64/$suite-backports" "linux-base/$suite-backports")
fi

# REUSE_ROOTFS=1 keeps an existing build/rootfs (iterating on the disk steps).
[ "${REUSE_ROOTFS:-}" = 1 ] && [ -f "$build/rootfs/etc/os-release" ] ||
	"$common/rootfs.sh" arm64 rpi "$build/rootfs" \
	"${kernel[@]}" raspi-firmware firmware-brcm80211 wireless-regdb

# The boot partition: what raspi-firmware's hooks put in /boot/firmware
# (GPU firmware, device trees, kernel, initramfs, config.txt, cmdline.txt).
boot=$build/boot
rm -rf "$boot"
mv "$build/rootfs/boot/firmware" "$boot"
mkdir -p "$build/rootfs/boot/firmware"
need=(config.txt cmdline.txt start4.elf fixup4.dat bcm2711-rpi-4-b.dtb bcm2711-rpi-400.dtb)
[ "$suite" = bookworm ] || need+=(bcm2712-rpi-5-b.dtb bcm2712-d-rpi-5-b.dtb bcm2712d0-rpi-5-b.dtb)
for f in "${need[@]}"; do
	[ -f "$boot/$f" ] || { echo "image-rpi: the kernel and raspi-firmware hooks left no $f in /boot/firmware" >&2; exit 1; }
done
echo "image-rpi: cmdline.txt: $(cat "$boot/cmdline.txt")"
echo "image-rpi: config.txt: $(grep -v '^#' "$boot/config.txt" | grep . | paste -sd' ')"

"$common/data.sh" "$build/data"
"$common/disk.sh" dos "$build/accesskiosk-rpi.img" "$boot" "$build/rootfs" "$build/data"
echo "image-rpi: built in $(( $(date +%s) - start ))s"
