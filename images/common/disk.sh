#!/bin/bash
# Assembles a disk image from three staged directories without loop mounts:
# a FAT32 boot partition (mkfs.vfat + mtools), an ext4 root and an ext4 data
# partition (mke2fs -d), laid out with sfdisk and written with dd.
#
#   images/common/disk.sh gpt|dos IMAGE BOOTDIR ROOTDIR DATADIR
#
# Sizes in MiB from the environment: BOOT_MB (256), DATA_MB (256), ROOT_MB
# (default: what ROOTDIR holds plus a quarter plus 384 MiB for updates).
set -euo pipefail
label=${1:?gpt|dos}
img=${2:?IMAGE}
bootdir=${3:?BOOTDIR}
rootdir=${4:?ROOTDIR}
datadir=${5:?DATADIR}
boot_mb=${BOOT_MB:-256}
data_mb=${DATA_MB:-256}
used_mb=$(( $(du -s --block-size=1M "$rootdir" | cut -f1) ))
root_mb=${ROOT_MB:-$(( used_mb + used_mb / 4 + 384 ))}
work=$(dirname "$img")/parts
rm -rf "$work" "$img"
mkdir -p "$work"

mkfs.vfat -F 32 -n AKBOOT -C "$work/boot.img" $(( boot_mb * 1024 )) >/dev/null
if [ -n "$(ls -A "$bootdir")" ]; then
	mcopy -s -p -m -i "$work/boot.img" "$bootdir"/* ::/
fi
mke2fs -q -F -t ext4 -L akroot -E root_owner=0:0 -d "$rootdir" "$work/root.img" "${root_mb}M"
mke2fs -q -F -t ext4 -L akdata -E root_owner=0:0 -d "$datadir" "$work/data.img" "${data_mb}M"
# Both file systems checked read-only before they go into the image.
for part in root data; do
	e2fsck -fn "$work/$part.img" >"$work/fsck-$part.log" 2>&1 ||
		{ cat "$work/fsck-$part.log" >&2; echo "disk: e2fsck -fn of the $part file system found problems" >&2; exit 1; }
done

total_mb=$(( 1 + boot_mb + root_mb + data_mb + 1 ))
truncate -s "${total_mb}M" "$img"
mib=2048 # sectors
if [ "$label" = gpt ]; then
	sfdisk -q "$img" <<SFDISK
label: gpt
unit: sectors
start=$(( 1 * mib )), size=$(( boot_mb * mib )), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="AKBOOT"
start=$(( (1 + boot_mb) * mib )), size=$(( root_mb * mib )), type=${ROOT_TYPE:-0FC63DAF-8483-4772-8E79-3D69D8477DE4}, name="akroot"
start=$(( (1 + boot_mb + root_mb) * mib )), size=$(( data_mb * mib )), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="akdata"
SFDISK
else
	sfdisk -q "$img" <<SFDISK
label: dos
unit: sectors
start=$(( 1 * mib )), size=$(( boot_mb * mib )), type=c, bootable
start=$(( (1 + boot_mb) * mib )), size=$(( root_mb * mib )), type=83
start=$(( (1 + boot_mb + root_mb) * mib )), size=$(( data_mb * mib )), type=83
SFDISK
fi
dd if="$work/boot.img" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$img" bs=1M seek=$(( 1 + boot_mb )) conv=notrunc,sparse status=none
dd if="$work/data.img" of="$img" bs=1M seek=$(( 1 + boot_mb + root_mb )) conv=notrunc,sparse status=none
rm -rf "$work"
echo "disk: $img: boot ${boot_mb} MiB, root ${root_mb} MiB (${used_mb} MiB used), data ${data_mb} MiB; $(du -h --apparent-size "$img" | cut -f1) apparent, $(du -h "$img" | cut -f1) on disk"
