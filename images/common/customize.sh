#!/bin/bash
# mmdebstrap customize hook shared by every image: runs on the build host
# with the new root in $1 (its /dev, /proc and /sys mounted by mmdebstrap)
# and the target name (x86, rpi) in $2; then images/TARGET/customize.sh.
set -euo pipefail
root=${1:?ROOT}
target=${2:?TARGET}
here=$(cd "$(dirname "$0")" && pwd)
inroot() { chroot "$root" "$@"; }

# Undo rootfs.sh's diversion of update-initramfs (the initramfs is built once, below).
if [ -L "$root/usr/sbin/update-initramfs" ]; then
	rm -f "$root/usr/sbin/update-initramfs"
	inroot dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
fi

# Our packages (when built): installed with apt so their dependencies come
# from Debian; held so that only the agent's signed updates change them.
shopt -s nullglob
debs=("$root"/tmp/accesskiosk-debs/*.deb)
if [ ${#debs[@]} -gt 0 ]; then
	inroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${debs[@]/#$root//}"
	for d in "${debs[@]}"; do inroot apt-mark hold "$(dpkg-deb -f "$d" Package)"; done
fi
rm -rf "$root/tmp/accesskiosk-debs"

# Users: no passwords anywhere; root locked (SSH with a provisioned key only).
inroot usermod -p '!' root
inroot systemd-sysusers

# Units: the kiosk's graphical session, the agent, first boot, firewall,
# clock, network; apt's own timers off (see apt.conf.d/52accesskiosk).
inroot systemctl set-default graphical.target
enable=(accesskiosk-bootconfig.service accesskiosk-firstboot.service accesskiosk-upgrade.timer
	nftables.service systemd-timesyncd.service NetworkManager.service ssh.service)
for u in accesskiosk-kiosk.service accesskiosk-agent.service; do
	[ -f "$root/usr/lib/systemd/system/$u" ] && enable+=("$u")
done
inroot systemctl enable "${enable[@]}"
inroot systemctl disable apt-daily.timer apt-daily-upgrade.timer 2>/dev/null || true
# tty1 belongs to the kiosk; no login prompt on any console (there is no
# password to log in with anyway): logind makes no spare VTs either.
# No login prompt on a serial console either (console=ttyS0 would start one).
inroot systemctl mask getty@tty1.service serial-getty@.service

# No secrets baked into the image: SSH host keys and the machine id are made
# on the device (host keys on the persistent partition).
rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
echo kiosk >"$root/etc/hostname"

# Read-only root, RAM overlay (initramfs script), persistent partition.
mkdir -p "$root/media/root-ro" "$root/media/root-rw" "$root/var/lib/accesskiosk" "$root/boot/firmware" \
	"$root/var/lib/accesskiosk-agent"
# The agent's config is per device: it lives on the persistent partition,
# written by first boot (images/common/data.sh seeds the defaults).
mkdir -p "$root/etc/accesskiosk"
ln -sfn /var/lib/accesskiosk/agent.yaml "$root/etc/accesskiosk/agent.yaml"

if [ -x "$(dirname "$here")/$target/customize.sh" ]; then
	"$(dirname "$here")/$target/customize.sh" "$root"
fi

# One initramfs per installed kernel, with the overlay script in it; then
# the /boot/vmlinuz and /boot/initrd.img links point at the newest.
for modules in "$root"/lib/modules/*; do
	v=$(basename "$modules")
	if [ -e "$root/boot/initrd.img-$v" ]; then inroot update-initramfs -u -k "$v"; else inroot update-initramfs -c -k "$v"; fi
	inroot lsinitramfs "/boot/initrd.img-$v" | grep 'init-bottom/accesskiosk-overlay' >/dev/null ||
		{ echo "customize: initrd.img-$v lacks the overlay script" >&2; exit 1; }
done
inroot linux-update-symlinks install "$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -n1)")" \
	"/boot/vmlinuz-$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -n1)")" 2>/dev/null || true
inroot apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
