#!/bin/bash
# Builds the Access Kiosk x86-64 UEFI image: images/x86/build/accesskiosk-x86.img
# (GPT: EFI system partition with systemd-boot, read-only ext4 root, ext4
# data partition), plus build/vmlinuz and build/initrd.img for QEMU's direct
# kernel boot. Run as root (`make image-x86`); see images/x86/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
common=$here/../common
build=${BUILD_DIR:-$here/build}
mkdir -p "$build"
# A go.mod keeps `go ... ./...` from walking into the build output (and the
# /proc mmdebstrap mounts in it while it builds).
echo 'module accesskiosk-build-output' >"$build/go.mod"
start=$(date +%s)

# REUSE_ROOTFS=1 keeps an existing build/rootfs (iterating on the disk steps).
[ "${REUSE_ROOTFS:-}" = 1 ] && [ -f "$build/rootfs/etc/os-release" ] ||
	"$common/rootfs.sh" amd64 x86 "$build/rootfs" \
	linux-image-amd64 systemd-boot-efi firmware-linux-free intel-microcode amd64-microcode

# EFI system partition: systemd-boot as the removable-media loader, one entry,
# no menu, no editor (a resident with a keyboard must not edit the kernel's
# command line), kernel and initramfs beside it.
esp=$build/esp
rm -rf "$esp"
mkdir -p "$esp/EFI/BOOT" "$esp/loader/entries"
cp "$build/rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$esp/EFI/BOOT/BOOTX64.EFI"
chroot "$build/rootfs" /usr/lib/accesskiosk/install-kernel /tmp
mv "$build/rootfs/tmp/vmlinuz" "$build/rootfs/tmp/initrd.img" "$esp/"
cmdline="root=LABEL=akroot ro rootwait quiet loglevel=3 console=ttyS0,115200 console=tty0"
cat >"$esp/loader/loader.conf" <<LOADER
default accesskiosk.conf
timeout 0
editor no
auto-entries no
auto-firmware no
LOADER
cat >"$esp/loader/entries/accesskiosk.conf" <<ENTRY
title Access Kiosk
linux /vmlinuz
initrd /initrd.img
options $cmdline
ENTRY
cp "$esp/vmlinuz" "$esp/initrd.img" "$build/"
echo "$cmdline" >"$build/cmdline"

"$common/data.sh" "$build/data"
ROOT_TYPE=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709 \
	"$common/disk.sh" gpt "$build/accesskiosk-x86.img" "$esp" "$build/rootfs" "$build/data"
echo "image-x86: built in $(( $(date +%s) - start ))s"
